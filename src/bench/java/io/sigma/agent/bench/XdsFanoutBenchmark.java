package io.sigma.agent.bench;

import com.google.protobuf.Any;
import io.envoyproxy.controlplane.cache.v3.SimpleCache;
import io.envoyproxy.controlplane.cache.v3.Snapshot;
import io.envoyproxy.controlplane.server.V3DiscoveryServer;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.grpc.Grpc;
import io.grpc.InsecureServerCredentials;
import io.grpc.Server;
import io.sigma.agent.AgentRuntime;
import io.sigma.agent.api.EnvoyRoute;
import io.sigma.agent.metrics.AgentMetrics;
import io.sigma.agent.xds.AdsService;
import io.sigma.agent.xds.RouteResourceMapper;
import io.sigma.agent.xds.SnapshotRegistry;
import io.sigma.agent.xds.XdsMetrics;
import io.sigma.agent.xds.XdsServer;
import io.sigma.agent.xds.XdsSnapshot;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.PrintWriter;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Behaviors;

/**
 * ADS fan-out: {@value #STREAMS} streams ({@value #NODES} node ids, two Envoys each) of {@value
 * #ROUTES} routes per node. Every node's config changes at once (each route gets a new listen port
 * and backend, so Clusters and Listeners both change); measured is the time from the first new
 * snapshot handed to the server until every stream has received and ACKed the new Clusters and
 * Listeners, and the server's heap per idle stream. The same load runs against envoyproxy's
 * java-control-plane ({@code V3DiscoveryServer} + {@code SimpleCache} on grpc-netty-shaded) in the
 * same run, in alternating rounds ({@value #ROUNDS} each: a fresh server and fresh Envoys, the
 * initial sync, a first bump, then {@value #BUMPS} - 1 warm bumps), and both are printed side by
 * side with their ratio. A third side is this agent again with Envoys speaking Delta ADS (same
 * load, same rounds), printed with its ratio to the same baseline.
 *
 * <p>The Envoys ({@link XdsFanoutClients}) run in a child JVM with one connection each, so this
 * JVM's heap holds the server only: heap per idle stream = (used heap with every stream open and
 * idle − used heap with the snapshots set and no stream) / streams, both after full GCs.
 */
public final class XdsFanoutBenchmark {

  static final int NODES = 250;
  static final int STREAMS_PER_NODE = 2;
  static final int STREAMS = NODES * STREAMS_PER_NODE;
  static final int ROUTES = 200;

  /** Bumps after the initial sync; the first is a warm-up, the rest are measured. */
  static final int BUMPS = 6;

  /** Rounds per control plane, alternating between the two. */
  static final int ROUNDS = 2;

  private XdsFanoutBenchmark() {}

  static String nodeId(int n) {
    return String.format("bench-node-%03d", n);
  }

  /** A control plane under test: it serves what {@link #publish} hands it. */
  interface ControlPlane extends AutoCloseable {
    String name();

    int port();

    /** Builds (not yet serves) every node's config at {@code version}; not timed. */
    void prepare(int version);

    /** Serves the prepared configs of every node; timed. */
    void publish();

    /** Whether the Envoys speak Delta ADS to it (else state of the world). */
    default boolean delta() {
      return false;
    }
  }

  /** What one control plane measured. */
  record Result(
      String name,
      double initialSyncMs,
      double firstBumpMs,
      List<Double> bumpMs,
      double heapPerStreamKb,
      double heapSnapshotsMb) {
    double medianBumpMs() {
      return median(bumpMs);
    }

    /** The rounds of one control plane as one result: medians, and every warm bump. */
    static Result combine(List<Result> rounds) {
      List<Double> bumps = new ArrayList<>();
      rounds.forEach(r -> bumps.addAll(r.bumpMs()));
      return new Result(
          rounds.get(0).name(),
          median(rounds.stream().map(Result::initialSyncMs).toList()),
          median(rounds.stream().map(Result::firstBumpMs).toList()),
          bumps,
          median(rounds.stream().map(Result::heapPerStreamKb).toList()),
          median(rounds.stream().map(Result::heapSnapshotsMb).toList()));
    }
  }

  /** The median (the mean of the middle two for an even count). */
  static double median(List<Double> values) {
    double[] sorted = values.stream().mapToDouble(Double::doubleValue).sorted().toArray();
    int middle = sorted.length / 2;
    return sorted.length % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
  }

  public static void main(String[] args) throws Exception {
    // 500 streams opening and closing: keep the per-stream INFO lines out of the figures.
    for (String logger : List.of("io.sigma.agent.xds", "io.envoyproxy.controlplane")) {
      ((ch.qos.logback.classic.Logger) org.slf4j.LoggerFactory.getLogger(logger))
          .setLevel(ch.qos.logback.classic.Level.WARN);
    }
    System.out.printf(
        "load: %d ADS streams (%d node ids x %d), %d routes per node (%d Clusters + %d Listeners);"
            + " Envoys in a child JVM, one connection each; %d cores, JVM heap max %d MB%n",
        STREAMS,
        NODES,
        STREAMS_PER_NODE,
        ROUTES,
        ROUTES,
        ROUTES,
        Runtime.getRuntime().availableProcessors(),
        Runtime.getRuntime().maxMemory() >> 20);
    // -Dxds.bench.only=sigma|delta|java runs one side only (for profiling).
    String only = System.getProperty("xds.bench.only", "");
    List<Result> ours = new ArrayList<>();
    List<Result> oursDelta = new ArrayList<>();
    List<Result> reference = new ArrayList<>();
    // Alternating rounds, so that a busy neighbour on the machine weighs on both sides alike.
    for (int round = 1; round <= ROUNDS; round++) {
      if (only.isEmpty() || only.equals("sigma")) {
        try (SigmaControlPlane plane = SigmaControlPlane.start(false)) {
          ours.add(measure(plane, round));
        }
        settle();
      }
      if (only.isEmpty() || only.equals("delta")) {
        try (SigmaControlPlane plane = SigmaControlPlane.start(true)) {
          oursDelta.add(measure(plane, round));
        }
        settle();
      }
      if (only.isEmpty() || only.equals("java")) {
        try (JavaControlPlane plane = JavaControlPlane.start()) {
          reference.add(measure(plane, round));
        }
        settle();
      }
    }
    if (!ours.isEmpty() && !oursDelta.isEmpty() && !reference.isEmpty()) {
      print(Result.combine(ours), Result.combine(oursDelta), Result.combine(reference));
    }
  }

  private static Result measure(ControlPlane plane, int round) throws Exception {
    System.out.println("--- round " + round + ": " + plane.name());
    plane.prepare(1);
    plane.publish();
    long heapBefore = settle();
    try (Clients clients = Clients.start(plane.port(), plane.delta())) {
      long t0 = System.nanoTime();
      clients.awaitAcked("1");
      double initialMs = (System.nanoTime() - t0) / 1e6;
      long heapIdle = settle();
      double perStreamKb = (heapIdle - heapBefore) / 1024.0 / STREAMS;
      System.out.printf(
          "initial sync of %d streams: %.0f ms; heap: %.1f MB before streams, %.1f MB with them idle"
              + " -> %.1f KB per idle stream%n",
          STREAMS, initialMs, heapBefore / 1048576.0, heapIdle / 1048576.0, perStreamKb);
      List<Double> bumps = new ArrayList<>();
      for (int version = 2; version <= BUMPS + 1; version++) {
        plane.prepare(version);
        clients.expect(String.valueOf(version));
        long start = System.nanoTime();
        plane.publish();
        clients.awaitAcked(String.valueOf(version));
        double ms = (System.nanoTime() - start) / 1e6;
        bumps.add(ms);
        System.out.printf(
            "bump to version %d: every stream ACKed Clusters and Listeners in %.0f ms%n",
            version, ms);
      }
      return new Result(
          plane.name(),
          initialMs,
          bumps.get(0),
          bumps.subList(1, bumps.size()),
          perStreamKb,
          heapBefore / 1048576.0);
    }
  }

  private static void print(Result ours, Result delta, Result reference) {
    System.out.println();
    System.out.println(
        "xDS fan-out, "
            + STREAMS
            + " streams x "
            + ROUTES
            + " routes, "
            + ROUNDS
            + " rounds each (medians):");
    System.out.printf(
        "%-42s %12s %8s %12s %8s %20s%n",
        "", "sigma SotW", "ratio", "sigma delta", "ratio", "java-control-plane");
    row(
        "connect + initial sync of all streams (ms)",
        ours.initialSyncMs(),
        delta.initialSyncMs(),
        reference.initialSyncMs());
    row(
        "first bump of a round (ms)",
        ours.firstBumpMs(),
        delta.firstBumpMs(),
        reference.firstBumpMs());
    row(
        "bump, " + ours.bumpMs().size() + " warm ones (ms)",
        ours.medianBumpMs(),
        delta.medianBumpMs(),
        reference.medianBumpMs());
    row(
        "heap per idle stream (KB)",
        ours.heapPerStreamKb(),
        delta.heapPerStreamKb(),
        reference.heapPerStreamKb());
    System.out.printf(
        "warm bumps (ms): sigma-agent SotW %s, sigma-agent delta %s, java-control-plane %s%n",
        rounded(ours.bumpMs()), rounded(delta.bumpMs()), rounded(reference.bumpMs()));
    System.out.printf(
        "ratio = sigma-agent / java-control-plane (SotW, the baseline; below 1: sigma-agent is"
            + " faster or smaller); delta / SotW on sigma-agent: bump %.2f, heap per stream %.2f."
            + " Goal: bump ratio <= 1 and < 100 KB per idle stream: SotW %s, delta %s%n",
        delta.medianBumpMs() / ours.medianBumpMs(),
        delta.heapPerStreamKb() / ours.heapPerStreamKb(),
        met(ours, reference),
        met(delta, reference));
  }

  private static String met(Result ours, Result reference) {
    return ours.medianBumpMs() <= reference.medianBumpMs() && ours.heapPerStreamKb() < 100
        ? "met"
        : "NOT met";
  }

  private static void row(String what, double ours, double delta, double reference) {
    System.out.printf(
        "%-42s %12.1f %8.2f %12.1f %8.2f %20.1f%n",
        what, ours, ours / reference, delta, delta / reference, reference);
  }

  private static String rounded(List<Double> values) {
    return Arrays.toString(values.stream().mapToLong(Math::round).toArray());
  }

  /** Full GCs until the used heap stops shrinking; returns it. */
  static long settle() throws InterruptedException {
    long previous = Long.MAX_VALUE;
    long used = usedHeap();
    for (int i = 0; i < 10 && used < previous - 256 * 1024; i++) {
      previous = used;
      System.gc();
      Thread.sleep(200);
      used = usedHeap();
    }
    return used;
  }

  private static long usedHeap() {
    return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
  }

  /** Node {@code n}'s routes at {@code version}: new listen ports and backends on every version. */
  static List<EnvoyRoute> routes(int n, int version) {
    List<EnvoyRoute> routes = new ArrayList<>(ROUTES);
    int portBase = version % 2 == 0 ? 10000 : 20000;
    for (int r = 0; r < ROUTES; r++) {
      routes.add(
          new EnvoyRoute(
              "route-" + n + "-" + r,
              "node-" + n,
              "route-" + r,
              portBase + r,
              "backend-" + r + ".node-" + n + ".example",
              30000 + version,
              "logical_dns",
              5,
              r % 3,
              "dynamic",
              "active",
              null,
              null));
    }
    return routes;
  }

  // ------------------------------------------------------------------ sigma-agent

  /** This agent's ADS server: the snapshot registry and AdsService on XdsServer, with metrics. */
  static final class SigmaControlPlane implements ControlPlane {
    private final ActorSystem<Void> system;
    private final ActorRef<SnapshotRegistry.Command> registry;
    private final XdsServer server;
    private final RouteResourceMapper mapper = new RouteResourceMapper();
    private final boolean delta;
    private List<XdsSnapshot> prepared = List.of();

    private SigmaControlPlane(
        ActorSystem<Void> system,
        ActorRef<SnapshotRegistry.Command> registry,
        XdsServer server,
        boolean delta) {
      this.system = system;
      this.registry = registry;
      this.server = server;
      this.delta = delta;
    }

    static SigmaControlPlane start(boolean delta) throws Exception {
      ActorSystem<Void> system =
          ActorSystem.create(Behaviors.empty(), "xds-bench", AgentRuntime.pekkoConfig());
      ActorRef<SnapshotRegistry.Command> registry =
          system.systemActorOf(
              SnapshotRegistry.create(),
              "xds-registry",
              org.apache.pekko.actor.typed.Props.empty());
      XdsMetrics metrics = new XdsMetrics(new AgentMetrics("bench", false, false));
      XdsServer server =
          XdsServer.start(
                  system, new AdsService(registry, metrics, Clock.systemUTC()), "127.0.0.1", 0)
              .toCompletableFuture()
              .get(10, TimeUnit.SECONDS);
      return new SigmaControlPlane(system, registry, server, delta);
    }

    @Override
    public String name() {
      return delta
          ? "sigma-agent Delta ADS (Pekko gRPC, SnapshotRegistry)"
          : "sigma-agent (Pekko gRPC ADS, SnapshotRegistry)";
    }

    @Override
    public boolean delta() {
      return delta;
    }

    @Override
    public int port() {
      return server.port();
    }

    @Override
    public void prepare(int version) {
      List<XdsSnapshot> snapshots = new ArrayList<>(NODES);
      for (int n = 0; n < NODES; n++) {
        snapshots.add(mapper.map(routes(n, version)).toSnapshot(nodeId(n), version));
      }
      prepared = snapshots;
    }

    @Override
    public void publish() {
      for (XdsSnapshot snapshot : prepared) {
        registry.tell(new SnapshotRegistry.SetSnapshot(snapshot));
      }
      prepared = List.of();
    }

    @Override
    public void close() throws Exception {
      server.stop(Duration.ofSeconds(2)).toCompletableFuture().get(10, TimeUnit.SECONDS);
      system.terminate();
      system.getWhenTerminated().toCompletableFuture().get(20, TimeUnit.SECONDS);
    }
  }

  // ------------------------------------------------------------------ java-control-plane

  /** envoyproxy/java-control-plane: V3DiscoveryServer over a SimpleCache keyed by node.id. */
  static final class JavaControlPlane implements ControlPlane {
    private final SimpleCache<String> cache;
    private final Server server;
    private final RouteResourceMapper mapper = new RouteResourceMapper();
    private List<Snapshot> prepared = List.of();

    private JavaControlPlane(SimpleCache<String> cache, Server server) {
      this.cache = cache;
      this.server = server;
    }

    static JavaControlPlane start() throws IOException {
      SimpleCache<String> cache = new SimpleCache<>(node -> node.getId());
      V3DiscoveryServer discovery = new V3DiscoveryServer(cache);
      Server server =
          Grpc.newServerBuilderForPort(0, InsecureServerCredentials.create())
              .addService(discovery.getAggregatedDiscoveryServiceImpl())
              .build()
              .start();
      return new JavaControlPlane(cache, server);
    }

    @Override
    public String name() {
      return "java-control-plane 1.0.49 (V3DiscoveryServer + SimpleCache, grpc-netty-shaded)";
    }

    @Override
    public int port() {
      return server.getPort();
    }

    @Override
    public void prepare(int version) {
      List<Snapshot> snapshots = new ArrayList<>(NODES);
      for (int n = 0; n < NODES; n++) {
        // The same resources as this agent serves, unpacked into the messages the cache takes.
        var mapping = mapper.map(routes(n, version));
        snapshots.add(
            Snapshot.create(
                unpack(mapping.clusters(), Cluster.class),
                List.of(),
                unpack(mapping.listeners(), Listener.class),
                List.of(),
                List.of(),
                String.valueOf(version)));
      }
      prepared = snapshots;
    }

    @Override
    public void publish() {
      for (int n = 0; n < NODES; n++) {
        cache.setSnapshot(nodeId(n), prepared.get(n));
      }
      prepared = List.of();
    }

    private static <T extends com.google.protobuf.Message> List<T> unpack(
        List<Any> resources, Class<T> type) {
      List<T> out = new ArrayList<>(resources.size());
      for (Any any : resources) {
        try {
          out.add(any.unpack(type));
        } catch (com.google.protobuf.InvalidProtocolBufferException e) {
          throw new IllegalStateException(e);
        }
      }
      return out;
    }

    @Override
    public void close() throws Exception {
      server.shutdownNow().awaitTermination(10, TimeUnit.SECONDS);
    }
  }

  // ------------------------------------------------------------------ the Envoys

  /** The child JVM running {@link XdsFanoutClients}. */
  static final class Clients implements AutoCloseable {
    private final Process process;
    private final BufferedReader out;
    private final PrintWriter in;

    private Clients(Process process) {
      this.process = process;
      this.out =
          new BufferedReader(
              new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
      this.in =
          new PrintWriter(
              new OutputStreamWriter(process.getOutputStream(), StandardCharsets.UTF_8), true);
    }

    static Clients start(int port, boolean delta) throws IOException {
      String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
      ProcessBuilder builder =
          new ProcessBuilder(
              java,
              "-Xss512k",
              "-cp",
              System.getProperty("java.class.path"),
              XdsFanoutClients.class.getName(),
              String.valueOf(port),
              String.valueOf(NODES),
              String.valueOf(STREAMS_PER_NODE),
              delta ? "delta" : "sotw");
      builder.redirectError(ProcessBuilder.Redirect.INHERIT);
      return new Clients(builder.start());
    }

    void expect(String version) throws IOException {
      in.println("EXPECT " + version);
      awaitLine("WAITING " + version);
    }

    void awaitAcked(String version) throws IOException {
      awaitLine("ACKED " + version);
    }

    private void awaitLine(String wanted) throws IOException {
      for (String line = out.readLine(); line != null; line = out.readLine()) {
        if (!line.startsWith(XdsFanoutClients.PROTOCOL)) {
          continue;
        }
        String message = line.substring(XdsFanoutClients.PROTOCOL.length());
        if (message.equals(wanted)) {
          return;
        }
        System.out.println("clients: " + message);
        if (message.startsWith("TIMEOUT")) {
          throw new IllegalStateException("the Envoy clients gave up: " + message);
        }
      }
      throw new IllegalStateException("the Envoy clients' JVM ended before '" + wanted + "'");
    }

    @Override
    public void close() throws Exception {
      in.println("EXIT");
      if (!process.waitFor(30, TimeUnit.SECONDS)) {
        process.destroyForcibly();
      }
    }
  }
}
