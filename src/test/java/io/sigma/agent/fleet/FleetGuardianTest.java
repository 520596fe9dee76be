package io.sigma.agent.fleet;

import static io.sigma.agent.devapi.DevApiAdmin.admin;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.net.httpserver.HttpServer;
import io.prometheus.metrics.expositionformats.PrometheusTextFormatWriter;
import io.sigma.agent.AgentRuntime;
import io.sigma.agent.api.HttpSigmaApi;
import io.sigma.agent.api.IpAddress;
import io.sigma.agent.config.AgentConfig;
import io.sigma.agent.devapi.EndpointKind;
import io.sigma.agent.devapi.Fault;
import io.sigma.agent.devapi.FaultInjectingDevApi;
import io.sigma.agent.health.AgentHealth;
import io.sigma.agent.host.SystemFacts;
import io.sigma.agent.metrics.AgentMetrics;
import io.sigma.agent.testing.FeatureStart;
import java.io.ByteArrayOutputStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The fleet feature as the root starts it, against the dev sigma-api over real HTTP: it registers
 * and heartbeats, reports to the health endpoints and the metrics registry, hands out the VPS id,
 * and follows a reloaded --interval.
 */
class FleetGuardianTest {
  private static final Duration AWAIT = Duration.ofSeconds(20);
  private static final String KEY = "fleet-key";

  private ActorTestKit testKit;
  private FaultInjectingDevApi devApi;

  @BeforeEach
  void start() throws Exception {
    testKit = ActorTestKit.create(AgentRuntime.pekkoConfig());
    devApi = new FaultInjectingDevApi(0, KEY);
    devApi.start(testKit.system()).toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  @AfterEach
  void stop() throws Exception {
    devApi.stop().toCompletableFuture().get(10, TimeUnit.SECONDS);
    testKit.shutdownTestKit();
  }

  /** The dev API's URL and key, no public IP look-up unless {@code more} asks for one, and more. */
  private AgentConfig config(String... more) {
    List<String> args = new ArrayList<>(List.of("--api-url", devApi.baseUrl(), "--api-key", KEY));
    if (!List.of(more).contains("--public-ip-lookup")) {
      args.addAll(List.of("--public-ip-lookup", "false"));
    }
    args.addAll(List.of(more));
    return FeatureStart.config(args.toArray(String[]::new));
  }

  private FleetGuardian start(AgentConfig config, String hostname) {
    return start(
        config,
        hostname,
        List.of(new IpAddress("203.0.113.9", IpAddress.PUBLIC)),
        Duration.ofSeconds(2));
  }

  /**
   * @param addresses the host's addresses
   * @param apiTimeout the timeout of the sigma-api client (the config's --request-timeout only sets
   *     the stall limit here)
   */
  private FleetGuardian start(
      AgentConfig config, String hostname, List<IpAddress> addresses, Duration apiTimeout) {
    HostFacts host = new FixedHostFacts(hostname, addresses, SystemFacts.NONE);
    HttpSigmaApi api =
        new HttpSigmaApi(
            testKit.system(), URI.create(devApi.baseUrl()), config.apiKey(), apiTimeout);
    return FeatureStart.start(
        testKit,
        ctx ->
            FleetGuardian.start(
                ctx,
                config,
                new FleetGuardian.Dependencies(api, host, host::addresses, SystemInfoExtras.NONE)));
  }

  private static String scrape(AgentMetrics metrics) throws Exception {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    PrometheusTextFormatWriter.create().write(out, metrics.registry().scrape());
    return out.toString(StandardCharsets.UTF_8);
  }

  @Test
  void registersReportsItsHealthAndItsSeriesAndHandsOutTheVpsId() throws Exception {
    AgentHealth health = AgentHealth.get(testKit.system());
    assertEquals(Optional.of("the agent is still starting"), health.readinessProblem());
    FleetGuardian fleet =
        start(config("--interval", "1", "--metrics-port", "9102"), "fleet-guardian-1");
    AgentMetrics metrics = new AgentMetrics("fleet-guardian-1", false, false);
    fleet.metrics().bindTo(metrics);
    assertEquals(List.of(), fleet.metricsRoutes());
    assertEquals(List.of(), fleet.managementPages());

    TestProbe<RegistrationActor.Registered> subscriber = testKit.createTestProbe();
    fleet.subscribe(subscriber.ref());
    RegistrationActor.Registered registered = subscriber.receiveMessage(AWAIT);
    assertEquals("fleet-guardian-1", registered.hostname());
    assertEquals(
        registered.vpsId(), admin(devApi).vpsByHostname("fleet-guardian-1").orElseThrow().id());
    assertEquals(
        9102,
        admin(devApi)
            .vps(registered.vpsId())
            .orElseThrow()
            .extra()
            .path("system_info")
            .path("metrics_port")
            .asInt(),
        "the metrics port is reported");

    testKit
        .createTestProbe()
        .awaitAssert(
            AWAIT,
            () -> {
              assertEquals(Optional.empty(), health.readinessProblem());
              assertTrue(scrape(metrics).contains("\nsigma_agent_registered 1.0\n"));
              return null;
            });
    assertEquals(Optional.empty(), health.livenessProblem());
  }

  @Test
  void withoutTheMetricsServerNoMetricsPortIsReported() {
    FleetGuardian fleet =
        start(config("--interval", "1", "--metrics-port", "0"), "fleet-guardian-2");
    TestProbe<RegistrationActor.Registered> subscriber = testKit.createTestProbe();
    fleet.registration().tell(new RegistrationActor.Subscribe(subscriber.ref()));
    String id = subscriber.receiveMessage(AWAIT).vpsId();
    assertTrue(
        admin(devApi)
            .vps(id)
            .orElseThrow()
            .extra()
            .path("system_info")
            .path("metrics_port")
            .isMissingNode());
  }

  /**
   * A reloaded --interval reaches the registration actor: from a day to a second, heartbeats follow
   * at once instead of in a day.
   */
  @Test
  void aReloadedIntervalIsApplied() {
    AgentConfig daily = config("--interval", "24h");
    FleetGuardian fleet = start(daily, "fleet-guardian-3");
    TestProbe<RegistrationActor.Registered> subscriber = testKit.createTestProbe();
    fleet.subscribe(subscriber.ref());
    subscriber.receiveMessage(AWAIT);
    // Unchanged, nothing is told; changed, the next heartbeat is due a second from now.
    fleet.apply(daily, daily);
    fleet.apply(daily, config("--interval", "1"));
    testKit
        .createTestProbe()
        .awaitAssert(
            AWAIT,
            () -> {
              assertTrue(devApi.stats().total(EndpointKind.HEARTBEAT) >= 2);
              return null;
            });
  }

  /**
   * The stall limit follows a reloaded --interval: from a day (a limit of three days) to a second
   * (1.5 s + 0.1 s request timeout, twice: 3.2 s), a heartbeat that hangs makes the agent unhealthy
   * within seconds.
   */
  @Test
  void theStallLimitFollowsAReloadedInterval() {
    String[] limits = {"--backoff-max", "1", "--request-timeout", "100ms"};
    AgentConfig daily = config(concat(limits, "--interval", "24h"));
    FleetGuardian fleet =
        start(
            daily,
            "fleet-guardian-4",
            List.of(new IpAddress("203.0.113.9", IpAddress.PUBLIC)),
            Duration.ofSeconds(60));
    TestProbe<RegistrationActor.Registered> subscriber = testKit.createTestProbe();
    fleet.subscribe(subscriber.ref());
    subscriber.receiveMessage(AWAIT);
    AgentHealth health = AgentHealth.get(testKit.system());
    assertEquals(Optional.empty(), health.livenessProblem());

    // Heartbeats get no answer for half a minute (the client waits a minute).
    devApi.faults().failAlways(EndpointKind.HEARTBEAT, Fault.delay(Duration.ofSeconds(30)));
    fleet.apply(daily, config(concat(limits, "--interval", "1")));
    testKit
        .createTestProbe()
        .awaitAssert(
            AWAIT,
            () -> {
              assertEquals(
                  Optional.of("the registration/heartbeat loop got no answer within 3s"),
                  health.livenessProblem());
              return null;
            });
  }

  /**
   * With --public-ip-lookup a host behind NAT has its public IP looked up (here from a loopback
   * service) and reported with its heartbeats.
   */
  @Test
  void withThePublicIpLookupAHostBehindNatReportsItsLookedUpAddress() throws Exception {
    HttpServer service = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    service.createContext(
        "/",
        ex -> {
          byte[] body = "198.51.100.23".getBytes(StandardCharsets.UTF_8);
          ex.sendResponseHeaders(200, body.length);
          ex.getResponseBody().write(body);
          ex.close();
        });
    service.start();
    try {
      FleetGuardian fleet =
          start(
              config(
                  "--interval",
                  "1",
                  "--public-ip-lookup",
                  "true",
                  "--public-ip-services",
                  "http://127.0.0.1:" + service.getAddress().getPort() + "/ip"),
              "fleet-guardian-5",
              List.of(new IpAddress("10.0.0.5", IpAddress.INTERNAL)),
              Duration.ofSeconds(2));
      TestProbe<RegistrationActor.Registered> subscriber = testKit.createTestProbe();
      fleet.subscribe(subscriber.ref());
      String id = subscriber.receiveMessage(AWAIT).vpsId();
      testKit
          .createTestProbe()
          .awaitAssert(
              AWAIT,
              () -> {
                assertEquals(
                    "198.51.100.23",
                    admin(devApi)
                        .vps(id)
                        .orElseThrow()
                        .extra()
                        .path("system_info")
                        .path("public_ip")
                        .asText());
                return null;
              });
    } finally {
      service.stop(0);
    }
  }

  private static String[] concat(String[] first, String... more) {
    List<String> all = new ArrayList<>(List.of(first));
    all.addAll(List.of(more));
    return all.toArray(String[]::new);
  }
}
