package io.sigma.agent.bench;

import io.envoyproxy.envoy.config.core.v3.Node;
import io.envoyproxy.envoy.service.discovery.v3.AggregatedDiscoveryServiceGrpc;
import io.envoyproxy.envoy.service.discovery.v3.DeltaDiscoveryRequest;
import io.envoyproxy.envoy.service.discovery.v3.DeltaDiscoveryResponse;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryRequest;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryResponse;
import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.stub.StreamObserver;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The Envoy side of {@link XdsFanoutBenchmark}, run in its own JVM so the server's heap is measured
 * alone. Opens {@code nodes × streamsPerNode} ADS streams, each on its own connection (as separate
 * Envoys would), and behaves like Envoy: subscribes to Clusters, ACKs every response, subscribes to
 * Listeners after its first Clusters, ACKs those; with a fourth argument {@code delta} the same
 * over Delta ADS.
 *
 * <p>Talks to the parent over stdin/stdout, one line per message, protocol lines prefixed with
 * {@code @@}: it prints {@code @@ ACKED <version>} once every stream has received and ACKed
 * Clusters and Listeners at the version it was told to expect ({@code 1} at start, then each {@code
 * EXPECT <version>} line read from stdin, answered first by {@code @@ WAITING <version>}). {@code
 * EXIT} closes everything.
 */
public final class XdsFanoutClients {

  static final String CLUSTER = "type.googleapis.com/envoy.config.cluster.v3.Cluster";
  static final String LISTENER = "type.googleapis.com/envoy.config.listener.v3.Listener";
  static final String PROTOCOL = "@@ ";

  private XdsFanoutClients() {}

  /** args: port nodes streamsPerNode [delta] */
  public static void main(String[] args) throws Exception {
    int port = Integer.parseInt(args[0]);
    int nodes = Integer.parseInt(args[1]);
    int streamsPerNode = Integer.parseInt(args[2]);
    boolean delta = args.length > 3 && args[3].equals("delta");
    AtomicReference<Target> target = new AtomicReference<>(new Target("1", nodes * streamsPerNode));
    List<ManagedChannel> channels = new ArrayList<>();
    List<Envoy> streams = new ArrayList<>();
    for (int n = 0; n < nodes; n++) {
      for (int s = 0; s < streamsPerNode; s++) {
        ManagedChannel channel =
            Grpc.newChannelBuilderForAddress("127.0.0.1", port, InsecureChannelCredentials.create())
                .maxInboundMessageSize(64 * 1024 * 1024)
                .build();
        channels.add(channel);
        String nodeId = XdsFanoutBenchmark.nodeId(n);
        streams.add(
            delta
                ? new DeltaEnvoyStream(channel, nodeId, target)
                : new EnvoyStream(channel, nodeId, target));
      }
    }
    streams.forEach(Envoy::start);
    awaitAndReport(target.get(), streams);

    BufferedReader in =
        new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
    for (String line = in.readLine(); line != null && !line.equals("EXIT"); line = in.readLine()) {
      if (line.startsWith("EXPECT ")) {
        String version = line.substring("EXPECT ".length()).strip();
        Target next = new Target(version, streams.size());
        target.set(next);
        streams.forEach(stream -> stream.check(next));
        say("WAITING " + version);
        awaitAndReport(next, streams);
      }
    }
    channels.forEach(ManagedChannel::shutdownNow);
    for (ManagedChannel channel : channels) {
      channel.awaitTermination(10, TimeUnit.SECONDS);
    }
  }

  private static void awaitAndReport(Target target, List<Envoy> streams)
      throws InterruptedException {
    if (!target.done.await(2, TimeUnit.MINUTES)) {
      List<String> missing =
          streams.stream().filter(s -> !s.reached(target)).map(Envoy::describe).limit(5).toList();
      say(
          "TIMEOUT "
              + target.version
              + ": "
              + target.done.getCount()
              + " streams missing, e.g. "
              + missing);
      System.exit(3);
    }
    say("ACKED " + target.version);
  }

  private static void say(String message) {
    synchronized (System.out) {
      System.out.println(PROTOCOL + message);
      System.out.flush();
    }
  }

  /** A version every stream must reach; counts the streams still missing it. */
  private static final class Target {
    final String version;
    final CountDownLatch done;

    Target(String version, int streams) {
      this.version = version;
      this.done = new CountDownLatch(streams);
    }
  }

  /** One Envoy's stream, state of the world or delta. */
  private interface Envoy {
    void start();

    void check(Target t);

    boolean reached(Target t);

    String describe();
  }

  /** One Envoy-like ADS stream. */
  private static final class EnvoyStream implements Envoy, StreamObserver<DiscoveryResponse> {
    private final ManagedChannel channel;
    private final Node node;
    private final AtomicReference<Target> target;
    private StreamObserver<DiscoveryRequest> requests;
    private boolean listenersSubscribed;
    private volatile String clusterVersion = "";
    private volatile String listenerVersion = "";
    private Target countedFor;

    EnvoyStream(ManagedChannel channel, String nodeId, AtomicReference<Target> target) {
      this.channel = channel;
      this.node = Node.newBuilder().setId(nodeId).setCluster("bench").build();
      this.target = target;
    }

    @Override
    public void start() {
      requests = AggregatedDiscoveryServiceGrpc.newStub(channel).streamAggregatedResources(this);
      send(CLUSTER, "", "");
    }

    @Override
    public synchronized void onNext(DiscoveryResponse response) {
      send(response.getTypeUrl(), response.getVersionInfo(), response.getNonce());
      if (CLUSTER.equals(response.getTypeUrl())) {
        clusterVersion = response.getVersionInfo();
        if (!listenersSubscribed) {
          listenersSubscribed = true;
          send(LISTENER, "", "");
        }
      } else if (LISTENER.equals(response.getTypeUrl())) {
        listenerVersion = response.getVersionInfo();
      }
      check(target.get());
    }

    /** Counts this stream down for {@code t} once (when it has ACKed both types at t's version). */
    @Override
    public synchronized void check(Target t) {
      if (countedFor != t
          && t.version.equals(clusterVersion)
          && t.version.equals(listenerVersion)) {
        countedFor = t;
        t.done.countDown();
      }
    }

    @Override
    public synchronized boolean reached(Target t) {
      return t.version.equals(clusterVersion) && t.version.equals(listenerVersion);
    }

    @Override
    public synchronized String describe() {
      return node.getId()
          + " at Cluster "
          + clusterVersion
          + " / Listener "
          + listenerVersion
          + (listenersSubscribed ? "" : " (Listeners not subscribed)");
    }

    private void send(String typeUrl, String version, String nonce) {
      requests.onNext(
          DiscoveryRequest.newBuilder()
              .setNode(node)
              .setTypeUrl(typeUrl)
              .setVersionInfo(version)
              .setResponseNonce(nonce)
              .build());
    }

    @Override
    public void onError(Throwable error) {
      say("STREAM-ERROR " + node.getId() + " " + error);
    }

    @Override
    public void onCompleted() {
      say("STREAM-CLOSED " + node.getId());
    }
  }

  /**
   * One Envoy-like Delta ADS stream ({@code api_type: DELTA_GRPC}): wildcard Clusters, then
   * wildcard Listeners after the first Clusters, every response ACKed. A type is "at" the version
   * of the last response's system_version_info (the bench changes every resource on every bump, so
   * each bump sends both types).
   */
  private static final class DeltaEnvoyStream
      implements Envoy, StreamObserver<DeltaDiscoveryResponse> {
    private final ManagedChannel channel;
    private final Node node;
    private final AtomicReference<Target> target;
    private StreamObserver<DeltaDiscoveryRequest> requests;
    private boolean listenersSubscribed;
    private volatile String clusterVersion = "";
    private volatile String listenerVersion = "";
    private Target countedFor;

    DeltaEnvoyStream(ManagedChannel channel, String nodeId, AtomicReference<Target> target) {
      this.channel = channel;
      this.node = Node.newBuilder().setId(nodeId).setCluster("bench").build();
      this.target = target;
    }

    @Override
    public void start() {
      requests = AggregatedDiscoveryServiceGrpc.newStub(channel).deltaAggregatedResources(this);
      send(CLUSTER, "");
    }

    @Override
    public synchronized void onNext(DeltaDiscoveryResponse response) {
      send(response.getTypeUrl(), response.getNonce());
      if (CLUSTER.equals(response.getTypeUrl())) {
        clusterVersion = response.getSystemVersionInfo();
        if (!listenersSubscribed) {
          listenersSubscribed = true;
          send(LISTENER, "");
        }
      } else if (LISTENER.equals(response.getTypeUrl())) {
        listenerVersion = response.getSystemVersionInfo();
      }
      check(target.get());
    }

    @Override
    public synchronized void check(Target t) {
      if (countedFor != t
          && t.version.equals(clusterVersion)
          && t.version.equals(listenerVersion)) {
        countedFor = t;
        t.done.countDown();
      }
    }

    @Override
    public synchronized boolean reached(Target t) {
      return t.version.equals(clusterVersion) && t.version.equals(listenerVersion);
    }

    @Override
    public synchronized String describe() {
      return node.getId()
          + " (delta) at Cluster "
          + clusterVersion
          + " / Listener "
          + listenerVersion
          + (listenersSubscribed ? "" : " (Listeners not subscribed)");
    }

    private void send(String typeUrl, String nonce) {
      requests.onNext(
          DeltaDiscoveryRequest.newBuilder()
              .setNode(node)
              .setTypeUrl(typeUrl)
              .setResponseNonce(nonce)
              .build());
    }

    @Override
    public void onError(Throwable error) {
      say("STREAM-ERROR " + node.getId() + " " + error);
    }

    @Override
    public void onCompleted() {
      say("STREAM-CLOSED " + node.getId());
    }
  }
}
