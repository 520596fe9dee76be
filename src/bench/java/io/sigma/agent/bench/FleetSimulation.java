package io.sigma.agent.bench;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.LoggerContext;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import io.sigma.agent.AgentRuntime;
import io.sigma.agent.api.ApiKey;
import io.sigma.agent.api.HttpSigmaApi;
import io.sigma.agent.api.Json;
import io.sigma.agent.api.RegisterRequest;
import io.sigma.agent.devapi.DevApiAdmin;
import io.sigma.agent.devapi.DevApiRequests.RegisterInput;
import io.sigma.agent.devapi.DevApiStore;
import io.sigma.agent.devapi.DevSeed;
import io.sigma.agent.devapi.Fault;
import io.sigma.agent.devapi.FaultInjectingDevApi;
import io.sigma.agent.devapi.FaultPlan;
import io.sigma.agent.devapi.RequestStats;
import io.sigma.agent.fleet.FleetStatus;
import io.sigma.agent.fleet.RegistrationActor;
import io.sigma.agent.retry.Backoff;
import io.sigma.agent.xds.ConfigPoller;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import java.util.stream.Stream;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.http.javadsl.Http;
import org.slf4j.LoggerFactory;

/**
 * A thousand agents through a sigma-api outage, in one JVM (issue 5, "Fleet simulation").
 *
 * <p>K agent instances (default 1,000), each with its own hostname and actor hierarchy ({@link
 * SimulatedAgent}: its own {@code RegistrationActor} and xDS {@code ConfigPoller} with snapshot
 * registry, {@code HttpSigmaApi}, host facts, status, metrics, state dir and random sources), talk
 * real HTTP to the dev sigma-api on loopback. Scenario: the agents start evenly over one interval
 * (machines of a fleet boot at different times), heartbeat and poll; the steady rate is measured;
 * the API answers 503 to everything, then refuses connections, for T in all (default 3 min: half
 * and half); the API comes back. The dev API counts what it received per second; a counting wrapper
 * around each agent's client counts what the agents sent (also while the port was closed).
 *
 * <p>Why one actor system for K agents is faithful: an agent's behaviour is its actors, their
 * timers and its client, and each simulated agent has its own of each, so no agent's schedule
 * depends on another's; a thousand actor systems would only add a thousand thread pools that a
 * 2-core machine cannot run. What the agents do share is Pekko HTTP's connection pool for the API's
 * host (pools are per host and settings, per actor system). So the simulation raises the pool's
 * max-connections to K times an agent's own (4) and max-open-requests above that: the shared pool
 * never queues a request an agent's own pool would have sent at once. What stays shared is the
 * pool's reconnect back-off after failed connects (at most 1 s, see {@code HttpSigmaApi}): while
 * connections are refused it lines the fleet's attempts up within a second, more than separate
 * pools would.
 *
 * <p>Run: {@code mvn -B -Pbench verify -Dbench=fleet}; knobs in {@link FleetSimulationSettings}.
 */
public final class FleetSimulation {
  private static final String API_KEY = "fleet-simulation-key";
  private static final Duration POLL = Duration.ofMillis(100);
  private static final String HEADING = "Fleet simulation";
  private static final String INTRO =
      """
      K agents in one JVM, each its own hostname and actor hierarchy (its own RegistrationActor,
      xDS config poller and snapshot registry, HttpSigmaApi client, host facts, metrics, state
      dir and jitter), real HTTP to the dev sigma-api on loopback; each VPS has one Envoy node
      with routes. The agents start evenly over one interval, heartbeat and poll; then the API
      answers 503 to everything, then refuses connections, for T in all; then it comes back. The
      dev API counts what it received per second, a wrapper around each agent's client counts
      what the agents sent.

      Run (about 7 minutes with the defaults K = 1,000, T = 3 min, heartbeat and poll interval
      10 s, backoff cap 20 s):

          mvn -B -Pbench verify -Dbench=fleet

      Quick run (figures go to target/fleet-simulation/ unless fleet.out is set):

          mvn -B -Pbench verify -Dbench=fleet -Dbench.jvm="-Xmx3g -Dfleet.agents=100 -Dfleet.outage=30s"

      Knobs (system properties, via -Dbench.jvm): fleet.agents, fleet.outage, fleet.outage503
      (part of the outage answered 503, default half), fleet.interval, fleet.xds (true),
      fleet.pollInterval, fleet.backoffMax, fleet.backoffInitial, fleet.requestTimeout,
      fleet.steady, fleet.startSpread, fleet.seed, fleet.out.

      One actor system for K agents is faithful because each agent's actors, timers and client
      are its own; K actor systems would only add K thread pools. The agents share Pekko HTTP's
      connection pool for the API host, so the simulation raises max-connections to K times an
      agent's own (4) and max-open-requests (a power of two) above that: the shared pool never
      holds back a request a real agent's own pool would send at once. Its reconnect back-off
      (at most 1 s) stays shared, which lines up the fleet's attempts while connections are
      refused a little more than separate pools would. Heap per agent is the used heap after GC
      with the fleet running minus before it started, over K: what one more agent hierarchy
      costs inside a process (the dev API's per-connection state included, so an upper bound),
      not a process's footprint.

      ![requests per second](fleet-simulation.png)
      """;

  private final FleetSimulationSettings settings;

  private FleetSimulation(FleetSimulationSettings settings) {
    this.settings = settings;
  }

  public static void main(String[] args) throws Exception {
    System.setProperty("java.awt.headless", "true");
    FleetSimulationSettings settings = FleetSimulationSettings.fromSystemProperties();
    quietAgentLogs();
    System.out.println("fleet simulation: " + settings.describe());
    FleetReport report = new FleetSimulation(settings).run();
    System.out.println();
    System.out.print(report.table());
    Path png = settings.out().resolve("fleet-simulation.png");
    FleetChart.write(report, png);
    Path doc = settings.out().resolve("benchmarks.md");
    new BenchmarksDoc(doc)
        .writeFigures(
            HEADING,
            "fleet-simulation",
            INTRO,
            "Measured "
                + java.time.LocalDate.now()
                + " on "
                + machine()
                + ":\n\n"
                + report.markdown());
    System.out.println("chart: " + png.toAbsolutePath());
    System.out.println("figures: " + doc.toAbsolutePath() + " (## " + HEADING + ")");
  }

  private FleetReport run() throws Exception {
    int k = settings.agents();
    ActorSystem<Void> apiSystem =
        ActorSystem.create(Behaviors.empty(), "sigma-api", AgentRuntime.pekkoConfig());
    FaultInjectingDevApi devApi = new FaultInjectingDevApi(0, API_KEY);
    ActorSystem<FleetRoot.Command> fleet = null;
    Path stateRoot = null;
    try {
      URI url = URI.create(devApi.start(apiSystem).toCompletableFuture().get(30, TimeUnit.SECONDS));
      String[] vpsIds = preRegister(devApi.store(), k);
      stateRoot = Files.createTempDirectory("fleet-simulation-");
      fleet = ActorSystem.create(FleetRoot.create(), "fleet", fleetConfig(settings));
      Http.get(fleet); // the HTTP extension is one per process, not per agent
      long heapBefore = usedHeapAfterGc();

      RequestStats sent = new RequestStats();
      CountingSigmaApi.Outcomes outcomes = new CountingSigmaApi.Outcomes();
      FleetStatus[] statuses = new FleetStatus[k];
      Backoff backoff = new Backoff(settings.backoffInitial(), settings.backoffMax());
      ConfigPoller.Settings pollerSettings =
          new ConfigPoller.Settings(settings.pollInterval(), backoff);
      // Every agent's parts are built before the clock starts, so building a thousand clients
      // does not compete with the first agents for the CPU.
      SimulatedAgent.Parts[] parts = new SimulatedAgent.Parts[k];
      HttpSigmaApi[] clients = new HttpSigmaApi[k];
      for (int i = 0; i < k; i++) {
        statuses[i] = new FleetStatus(Clock.systemUTC());
        SyntheticHost host = new SyntheticHost(i, Clock.systemUTC());
        clients[i] =
            new HttpSigmaApi(
                fleet, url, Optional.of(new ApiKey(API_KEY)), settings.requestTimeout());
        CountingSigmaApi api = new CountingSigmaApi(clients[i], sent, outcomes);
        RegistrationActor.Settings agentSettings =
            new RegistrationActor.Settings(
                Optional.of(host.hostname() + ".example.net"),
                22,
                9102,
                settings.interval(),
                backoff);
        parts[i] =
            new SimulatedAgent.Parts(
                agentSettings,
                api,
                host,
                statuses[i],
                settings.seed() + i,
                settings.xds() ? pollerSettings : null,
                stateRoot.resolve(String.format("agent-%05d", i)));
      }
      warmUp(clients, vpsIds, devApi);
      Instant fleetStart = Instant.now();
      for (int i = 0; i < k; i++) {
        sleepUntil(fleetStart.plus(settings.startSpread().multipliedBy(i).dividedBy(k)));
        fleet.tell(new FleetRoot.SpawnAgent(String.format("agent-%05d", i), parts[i]));
      }
      Instant allHeartbeating =
          awaitAll(
              statuses,
              s -> s.isRegistered() && s.heartbeatSuccesses() > 0,
              Instant.now().plus(settings.interval().multipliedBy(3)).plus(Duration.ofMinutes(2)));
      System.out.printf(
          "all %d agents registered and heartbeating %.1f s after the first " + "started%n",
          k, Duration.between(fleetStart, allHeartbeating).toMillis() / 1e3);

      sleepFor(settings.interval());

      Instant steadyStart = Instant.now();
      System.out.printf("steady window: %d s%n", settings.steady().toSeconds());
      sleepFor(settings.steady());

      Instant outageStart = Instant.now();
      devApi.faults().failAlways(FaultPlan.ALL_KINDS, Fault.status(503));
      System.out.printf("outage: the API answers 503 for %d s%n", settings.outage503().toSeconds());
      sleepUntil(outageStart.plus(settings.outage503()));
      Instant refusedFrom = Instant.now();
      if (!settings.outageDown().isZero()) {
        devApi.down().toCompletableFuture().get(30, TimeUnit.SECONDS);
        System.out.printf(
            "outage: the API refuses connections for %d s%n", settings.outageDown().toSeconds());
        sleepUntil(outageStart.plus(settings.outage()));
      }
      devApi.faults().clear();
      if (devApi.isDown()) {
        devApi.up().toCompletableFuture().get(30, TimeUnit.SECONDS);
      }
      Instant apiBack = Instant.now();
      System.out.printf(
          "the API is back; watching recovery for up to %d s%n",
          settings.recoveryWatch().toSeconds());

      Instant[] backAt = watchRecovery(statuses, apiBack);
      Instant watchEnd = Instant.now();
      // Measured last: a full GC stops every agent for a moment, and the requests it holds back
      // would leave echoes, one interval apart, in the windows measured above.
      long heapWith = usedHeapAfterGc();
      long from = fleetStart.getEpochSecond();
      long to = watchEnd.getEpochSecond();
      return new FleetReport(
          settings,
          new FleetPhases(
              fleetStart,
              allHeartbeating,
              steadyStart,
              outageStart,
              refusedFrom,
              apiBack,
              watchEnd),
          devApi.stats().perSecond(from, to),
          sent.perSecond(from, to),
          backAt,
          (heapWith - heapBefore) / k,
          outcomes.describe());
    } finally {
      if (fleet != null) {
        fleet.terminate();
        fleet.getWhenTerminated().toCompletableFuture().get(30, TimeUnit.SECONDS);
      }
      devApi.stop().toCompletableFuture().get(30, TimeUnit.SECONDS);
      apiSystem.terminate();
      apiSystem.getWhenTerminated().toCompletableFuture().get(30, TimeUnit.SECONDS);
      if (stateRoot != null) {
        deleteTree(stateRoot);
      }
    }
  }

  /**
   * Watches until every agent had a successful heartbeat after the API came back and the peak
   * window is over, or until the watch ends. An agent's first success after {@code apiBack} is its
   * last success when first seen (polled every 100 ms; heartbeats are an interval apart).
   */
  private Instant[] watchRecovery(FleetStatus[] statuses, Instant apiBack)
      throws InterruptedException {
    Instant[] backAt = new Instant[statuses.length];
    Instant peakOver = apiBack.plus(FleetSimulationSettings.PEAK_WINDOW);
    Instant deadline = apiBack.plus(settings.recoveryWatch());
    int back = 0;
    while (Instant.now().isBefore(deadline)) {
      for (int i = 0; i < statuses.length; i++) {
        if (backAt[i] == null && statuses[i].isRegistered()) {
          Optional<Instant> last = statuses[i].lastHeartbeatSuccess();
          if (last.isPresent() && last.get().isAfter(apiBack)) {
            backAt[i] = last.get();
            back++;
          }
        }
      }
      if (back == statuses.length && !Instant.now().isBefore(peakOver)) {
        break;
      }
      sleepFor(POLL);
    }
    return backAt;
  }

  private static Instant awaitAll(
      FleetStatus[] statuses, Predicate<FleetStatus> condition, Instant deadline)
      throws InterruptedException {
    while (true) {
      if (Arrays.stream(statuses).allMatch(condition)) {
        return Instant.now();
      }
      if (Instant.now().isAfter(deadline)) {
        long missing = Arrays.stream(statuses).filter(condition.negate()).count();
        throw new IllegalStateException(missing + " agent(s) never registered and heartbeated");
      }
      sleepFor(POLL);
    }
  }

  /**
   * One registration and one read of its Envoy nodes and routes through each agent's client before
   * the clock starts, not counted. A real agent pays its JVM's and its client's warm-up (JIT, its
   * JSON mapper learning the request and answer types, 10-20 ms of CPU) once, on its own VPS; here
   * a thousand of them would share two cores within the start spread and hold the first
   * registrations back for seconds, which is the simulation's cost, not the agents'.
   */
  private static void warmUp(HttpSigmaApi[] clients, String[] vpsIds, FaultInjectingDevApi devApi)
      throws Exception {
    int batch = 100;
    for (int from = 0; from < clients.length; from += batch) {
      List<CompletableFuture<?>> calls = new ArrayList<>();
      for (int i = from; i < Math.min(clients.length, from + batch); i++) {
        SyntheticHost host = new SyntheticHost(i, Clock.systemUTC());
        HttpSigmaApi client = clients[i];
        String vpsId = vpsIds[i];
        calls.add(
            client
                .register(
                    new RegisterRequest(
                        host.hostname(),
                        host.hostname() + ".example.net",
                        host.addresses(),
                        22,
                        host.systemInfo(9102, null)))
                .thenCompose(vps -> client.allEnvoyNodes(vpsId))
                .thenCompose(
                    nodes ->
                        nodes.isEmpty()
                            ? CompletableFuture.completedFuture(List.of())
                            : client.allEnvoyRoutes(nodes.get(0).id()))
                .toCompletableFuture());
      }
      CompletableFuture.allOf(calls.toArray(CompletableFuture[]::new)).get(2, TimeUnit.MINUTES);
    }
    devApi.stats().reset();
  }

  /**
   * Each agent's VPS exists before the fleet starts, with one Envoy node and its routes (the dev
   * API's standard seed), so the store's growth is not counted as agent heap (the agents'
   * registrations update these records) and the pollers find a config to serve.
   */
  private static String[] preRegister(DevApiStore store, int agents) {
    ObjectMapper json = Json.newMapper();
    Clock clock = Clock.systemUTC();
    String[] ids = new String[agents];
    for (int i = 0; i < agents; i++) {
      SyntheticHost host = new SyntheticHost(i, clock);
      ids[i] =
          store
              .register(
                  new RegisterInput(
                      host.hostname(),
                      host.hostname() + ".example.net",
                      host.addresses(),
                      22,
                      json.valueToTree(host.systemInfo(9102, null))))
              .id();
      DevApiAdmin.of(store).seed(ids[i], DevSeed.standard());
    }
    return ids;
  }

  private static void deleteTree(Path root) throws IOException {
    try (Stream<Path> paths = Files.walk(root)) {
      for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(p);
      }
    }
  }

  /**
   * The agents' Pekko config with the shared connection pool opened up: as many connections per
   * agent as an agent's own pool has (sigma-agent.conf: 4), and max-open-requests (a power of two)
   * above that.
   */
  static Config fleetConfig(FleetSimulationSettings settings) {
    int maxConnections =
        AgentRuntime.pekkoConfig().getInt("pekko.http.host-connection-pool.max-connections")
            * settings.agents();
    int maxOpenRequests = Integer.highestOneBit(2 * maxConnections - 1) << 1;
    return ConfigFactory.parseString(
            String.join(
                "\n",
                "pekko.http.host-connection-pool.max-connections = " + maxConnections,
                "pekko.http.host-connection-pool.max-open-requests = " + maxOpenRequests))
        .withFallback(AgentRuntime.pekkoConfig())
        .resolve();
  }

  /**
   * A thousand agents each log every failed heartbeat and poll (the agent's job); the simulation
   * counts outcomes itself, so only errors are printed.
   */
  private static void quietAgentLogs() {
    if (LoggerFactory.getILoggerFactory() instanceof LoggerContext context) {
      context.getLogger("io.sigma.agent.fleet").setLevel(Level.ERROR);
      context.getLogger("io.sigma.agent.xds").setLevel(Level.ERROR);
      context.getLogger("io.sigma.agent.devapi").setLevel(Level.WARN);
    }
  }

  private static long usedHeapAfterGc() throws InterruptedException {
    long least = Long.MAX_VALUE;
    for (int i = 0; i < 3; i++) {
      System.gc();
      sleepFor(Duration.ofMillis(200));
      least = Math.min(least, ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed());
    }
    return least;
  }

  private static String machine() {
    return Runtime.getRuntime().availableProcessors()
        + " cores, Java "
        + System.getProperty("java.version");
  }

  private static void sleepUntil(Instant t) throws InterruptedException {
    long millis = Duration.between(Instant.now(), t).toMillis();
    if (millis > 0) {
      Thread.sleep(millis);
    }
  }

  private static void sleepFor(Duration d) throws InterruptedException {
    Thread.sleep(d.toMillis());
  }
}
