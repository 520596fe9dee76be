package io.sigma.agent;

import static io.sigma.agent.devapi.DevApiAdmin.admin;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.net.httpserver.HttpServer;
import io.sigma.agent.api.HttpSigmaApi;
import io.sigma.agent.api.IpAddress;
import io.sigma.agent.api.SystemInfo;
import io.sigma.agent.config.AgentConfig;
import io.sigma.agent.config.ConfigLoader;
import io.sigma.agent.config.PortRange;
import io.sigma.agent.devapi.EndpointKind;
import io.sigma.agent.devapi.FaultInjectingDevApi;
import io.sigma.agent.fleet.FleetGuardian;
import io.sigma.agent.fleet.HostFacts;
import io.sigma.agent.fleet.RegistrationActor;
import io.sigma.agent.fleet.SystemInfoExtras;
import io.sigma.agent.host.SystemFacts;
import io.sigma.agent.metrics.AgentMetrics;
import io.sigma.agent.metrics.MetricsRoutes;
import io.sigma.agent.metrics.MetricsServer;
import io.sigma.agent.net.HttpGuard;
import io.sigma.agent.ports.BindProbe;
import io.sigma.agent.ports.FreePorts;
import io.sigma.agent.ports.ListenerAttribution;
import io.sigma.agent.ports.PortScan;
import io.sigma.agent.ports.PortsGuardian;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.http.javadsl.ServerBinding;
import org.apache.pekko.http.javadsl.server.Route;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Supervision exercised: each child of the fleet and ports features (registration, public-IP
 * watcher, port scan, allocator) is crashed by a fault of its own dependency, and the agent, built
 * from the feature guardians as the root builds it, keeps heartbeating to the dev sigma-api over
 * real HTTP and answering POST /ports/allocate after the restart.
 */
class FeatureSupervisionIT {
  private static final Duration AWAIT = Duration.ofSeconds(30);
  private static final String KEY = "supervision-key";
  private static final String PUBLIC_IP = "198.51.100.23";
  private static ActorTestKit testKit;

  private final HttpClient http = HttpClient.newHttpClient();
  private FaultInjectingDevApi devApi;
  private HttpServer ipService;
  private ServerBinding metricsServer;
  private ActorRef<Void> agent;
  private String hostname;

  // The faults, each armed by a test and consumed by the one call it breaks.
  private final AtomicBoolean crashHostname = new AtomicBoolean();
  private final AtomicBoolean nullAddresses = new AtomicBoolean();
  private final AtomicBoolean nullScan = new AtomicBoolean();
  private final AtomicBoolean throwingBindCheck = new AtomicBoolean();
  private final AtomicInteger addressReads = new AtomicInteger();
  private final AtomicInteger scans = new AtomicInteger();
  private final AtomicInteger crashes = new AtomicInteger();

  @BeforeAll
  static void startKit() {
    testKit = ActorTestKit.create(AgentRuntime.pekkoConfig());
  }

  @AfterAll
  static void stopKit() {
    testKit.shutdownTestKit();
  }

  @BeforeEach
  void startApis() throws Exception {
    devApi = new FaultInjectingDevApi(0, KEY);
    devApi.start(testKit.system()).toCompletableFuture().get(10, TimeUnit.SECONDS);
    ipService = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    ipService.createContext(
        "/",
        ex -> {
          byte[] body = PUBLIC_IP.getBytes(StandardCharsets.UTF_8);
          ex.sendResponseHeaders(200, body.length);
          ex.getResponseBody().write(body);
          ex.close();
        });
    ipService.start();
    hostname = "supervised-" + ProcessHandle.current().pid() + "-" + System.nanoTime();
  }

  @AfterEach
  void stopAll() throws Exception {
    if (agent != null) {
      testKit.stop(agent);
    }
    if (metricsServer != null) {
      metricsServer.unbind().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }
    ipService.stop(0);
    devApi.stop().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  private AgentConfig config(PortRange range) {
    ConfigLoader.Outcome outcome =
        ConfigLoader.load(
            new String[] {
              "--api-url", devApi.baseUrl(),
              "--api-key", KEY,
              "--hostname", hostname,
              "--interval", "1",
              "--backoff-initial", "50ms",
              "--backoff-max", "1",
              "--port-scan", "true",
              "--port-scan-range", range.first() + "-" + range.last(),
              "--port-scan-interval", "1",
              "--public-ip-lookup", "true",
              "--public-ip-services", "http://127.0.0.1:" + ipService.getAddress().getPort() + "/ip"
            },
            Map.of(),
            "test",
            Path.of("/nonexistent/agent.conf"));
    return ((ConfigLoader.Outcome.Run) outcome).config();
  }

  /** The host as the fleet sees it: behind NAT, and its hostname read can be made to throw once. */
  private HostFacts host() {
    return new HostFacts() {
      @Override
      public String hostname() {
        if (crashHostname.getAndSet(false)) {
          crashes.incrementAndGet();
          throw new IllegalStateException("test fault: the hostname read crashes");
        }
        return hostname;
      }

      @Override
      public List<IpAddress> addresses() {
        return List.of(new IpAddress("10.0.0.5", IpAddress.INTERNAL));
      }

      @Override
      public SystemInfo systemInfo(Integer metricsPort, String publicIp) {
        return SystemFacts.NONE.toSystemInfo(metricsPort, publicIp);
      }
    };
  }

  private record Started(FleetGuardian fleet, PortsGuardian ports) {}

  /** The fleet and ports guardians under one parent, as AgentGuardian composes them. */
  private Started start(PortRange range) throws Exception {
    AgentConfig config = config(range);
    HttpSigmaApi api =
        new HttpSigmaApi(
            testKit.system(), URI.create(devApi.baseUrl()), config.apiKey(), Duration.ofSeconds(2));
    BindProbe probe = new BindProbe();
    TestProbe<Started> started = testKit.createTestProbe();
    agent =
        testKit.spawn(
            Behaviors.<Void>setup(
                ctx -> {
                  FleetGuardian fleet =
                      FleetGuardian.start(
                          ctx,
                          config,
                          new FleetGuardian.Dependencies(
                              api,
                              host(),
                              () -> {
                                addressReads.incrementAndGet();
                                if (nullAddresses.getAndSet(false)) {
                                  crashes.incrementAndGet();
                                  return null; // the watcher cannot handle it: it crashes
                                }
                                return List.of(new IpAddress("10.0.0.5", IpAddress.INTERNAL));
                              },
                              SystemInfoExtras.NONE));
                  PortsGuardian ports =
                      PortsGuardian.start(
                          ctx,
                          config,
                          () -> {
                            scans.incrementAndGet();
                            if (nullScan.getAndSet(false)) {
                              crashes.incrementAndGet();
                              return null; // published, it crashes the scan actor
                            }
                            return new PortScan(
                                range,
                                new BitSet(),
                                ListenerAttribution.none(),
                                Instant.now(),
                                Duration.ZERO);
                          },
                          port -> {
                            if (throwingBindCheck.getAndSet(false)) {
                              crashes.incrementAndGet();
                              throw new IllegalStateException("test fault: the bind check throws");
                            }
                            return probe.canBind(port);
                          });
                  started.ref().tell(new Started(fleet, ports));
                  return Behaviors.empty();
                }),
            "agent-" + System.nanoTime());
    Started guardians = started.receiveMessage(AWAIT);
    AgentMetrics metrics = new AgentMetrics(hostname, false, false);
    guardians.fleet().metrics().bindTo(metrics);
    guardians.ports().metrics().bindTo(metrics);
    List<Route> routes = new ArrayList<>();
    routes.add(new MetricsRoutes(metrics.registry()).route());
    routes.addAll(guardians.ports().metricsRoutes());
    metricsServer =
        MetricsServer.bind(
                testKit.system(), "127.0.0.1", 0, routes, HttpGuard.METRICS, Optional.empty())
            .toCompletableFuture()
            .get(10, TimeUnit.SECONDS);
    return guardians;
  }

  private URI uri(String path) {
    return URI.create("http://127.0.0.1:" + metricsServer.localAddress().getPort() + path);
  }

  private int allocate() throws Exception {
    return http.send(
            HttpRequest.newBuilder(uri("/ports/allocate"))
                .timeout(AWAIT)
                .POST(HttpRequest.BodyPublishers.ofString("{\"count\": 1}"))
                .build(),
            HttpResponse.BodyHandlers.ofString())
        .statusCode();
  }

  private void await(String what, java.util.function.BooleanSupplier condition) {
    testKit
        .createTestProbe()
        .awaitAssert(
            AWAIT,
            Duration.ofMillis(50),
            () -> {
              assertTrue(condition.getAsBoolean(), what);
              return null;
            });
  }

  /** Heartbeats keep reaching the dev API and POST /ports/allocate answers 200. */
  private void agentKeepsWorking() throws Exception {
    long beats = devApi.stats().total(EndpointKind.HEARTBEAT);
    await(
        "two more heartbeats reach the dev API",
        () -> devApi.stats().total(EndpointKind.HEARTBEAT) >= beats + 2);
    await(
        "POST /ports/allocate answers 200",
        () -> {
          try {
            return allocate() == 200;
          } catch (Exception e) {
            return false;
          }
        });
  }

  @Test
  void aCrashedRegistrationActorRestartsRegistersAgainAndKeepsItsSubscribers() throws Exception {
    Started agent = start(FreePorts.range(16));
    TestProbe<RegistrationActor.Registered> subscriber = testKit.createTestProbe();
    agent.fleet().subscribe(subscriber.ref());
    String id = subscriber.receiveMessage(AWAIT).vpsId();
    await("a heartbeat", () -> devApi.stats().total(EndpointKind.HEARTBEAT) >= 1);

    crashHostname.set(true);
    await("the registration actor crashed", () -> crashes.get() == 1);
    // Restarted, it registers again and tells the subscriber it had before the crash.
    assertEquals(id, subscriber.receiveMessage(AWAIT).vpsId());
    assertTrue(devApi.stats().total(EndpointKind.REGISTER) >= 2);
    agentKeepsWorking();
  }

  @Test
  void aCrashedPublicIpWatcherRestartsAndItsLookUpStillReachesTheHeartbeats() throws Exception {
    nullAddresses.set(true);
    start(FreePorts.range(16));
    await("the watcher crashed on its first read", () -> crashes.get() == 1);
    await(
        "the restarted watcher's look-up reaches sigma-api with a heartbeat",
        () ->
            admin(devApi)
                .vpsByHostname(hostname)
                .map(v -> v.extra().path("system_info").path("public_ip").asText())
                .filter(PUBLIC_IP::equals)
                .isPresent());
    assertTrue(addressReads.get() >= 2, "read again after the restart");
    agentKeepsWorking();
  }

  @Test
  void aCrashedPortScanRestartsAndScansAgain() throws Exception {
    start(FreePorts.range(16));
    await("a first scan", () -> scans.get() >= 1);
    nullScan.set(true);
    await("the scan actor crashed", () -> crashes.get() == 1);
    int atCrash = scans.get();
    await("the restarted actor scans again", () -> scans.get() >= atCrash + 1);
    agentKeepsWorking();
  }

  @Test
  void aCrashedAllocatorAnswers500ThenServesAgainAfterItsRestart() throws Exception {
    start(FreePorts.range(16));
    await("the agent registered", () -> admin(devApi).vpsByHostname(hostname).isPresent());
    throwingBindCheck.set(true);
    assertEquals(500, allocate(), "the caller whose bind tests failed");
    assertEquals(1, crashes.get());
    // Asked while it restarts, the allocator answers once it is back.
    assertEquals(200, allocate());
    agentKeepsWorking();
  }
}
