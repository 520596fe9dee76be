package io.sigma.agent.fleet;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sigma.agent.AgentRuntime;
import io.sigma.agent.api.HttpSigmaApi;
import io.sigma.agent.devapi.DevSigmaApi;
import io.sigma.agent.host.Cidr;
import io.sigma.agent.host.HostAddressDiscovery;
import io.sigma.agent.host.SystemFactsReader;
import io.sigma.agent.retry.Backoff;
import java.net.URI;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.typed.ActorRef;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Extra system_info objects ({@link RegistrationActor.AddSystemInfo}) reach sigma-api's stored
 * system_info over real HTTP, and a supplier that fails never costs a heartbeat.
 */
class SystemInfoExtrasIT {
  private static final Duration AWAIT = Duration.ofSeconds(20);
  private static ActorTestKit testKit;
  private static DevSigmaApi devApi;
  private static String baseUrl;

  @BeforeAll
  static void start() throws Exception {
    testKit = ActorTestKit.create(AgentRuntime.pekkoConfig());
    devApi = new DevSigmaApi(0);
    baseUrl = devApi.start(testKit.system()).toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  @AfterAll
  static void stop() throws Exception {
    devApi.stop().toCompletableFuture().get(10, TimeUnit.SECONDS);
    testKit.shutdownTestKit();
  }

  @Test
  void extraObjectsAreStoredBesideTheHostFactsAndAFailingSupplierIsSkipped() {
    String hostname = "extras-" + ProcessHandle.current().pid();
    ActorRef<RegistrationActor.Command> agent = spawn(hostname);
    ObjectNode envoy = JsonNodeFactory.instance.objectNode();
    envoy.putObject("edge").put("streams", 1);
    AtomicInteger calls = new AtomicInteger();
    agent.tell(
        new RegistrationActor.AddSystemInfo(
            () -> {
              if (calls.incrementAndGet() % 2 == 1) {
                throw new IllegalStateException("status source broken");
              }
              return Map.of("envoy", envoy, "cpu_cores", "not yours");
            }));
    agent.tell(
        new RegistrationActor.AddSystemInfo(
            () -> {
              throw new IllegalStateException("always broken");
            }));

    // Every other call fails: heartbeats go on, some with the object, some without.
    JsonNode with = awaitStored(hostname, info -> info.has("envoy"));
    assertEquals(1, with.path("envoy").path("edge").path("streams").asInt());
    assertTrue(with.path("cpu_cores").isInt(), "an extra cannot replace a contract field: " + with);
    JsonNode without = awaitStored(hostname, info -> !info.has("envoy"));
    assertTrue(without.path("cpu_cores").isInt(), without.toString());
    awaitStored(hostname, info -> info.has("envoy"));
  }

  private JsonNode awaitStored(String hostname, java.util.function.Predicate<JsonNode> check) {
    return testKit
        .createTestProbe()
        .awaitAssert(
            AWAIT,
            () -> {
              JsonNode info = devApi.store().vpsByHostname(hostname).orElseThrow().systemInfo();
              assertTrue(check.test(info), info.toString());
              return info;
            });
  }

  private ActorRef<RegistrationActor.Command> spawn(String hostname) {
    HttpSigmaApi http =
        new HttpSigmaApi(
            testKit.system(), URI.create(baseUrl), Optional.empty(), Duration.ofSeconds(2));
    HostFacts host =
        new ProcHostFacts(
            hostname,
            new HostAddressDiscovery(Path.of("/proc"), List.of(Cidr.parse("127.0.0.0/8"))),
            new SystemFactsReader(Path.of("/proc"), Path.of("/")));
    RegistrationActor.Settings settings =
        new RegistrationActor.Settings(
            Optional.empty(),
            22,
            null,
            Duration.ofMillis(200),
            new Backoff(Duration.ofMillis(50), Duration.ofMillis(400)));
    return testKit.spawn(
        RegistrationActor.create(
            settings, http, host, new FleetStatus(Clock.systemUTC()), new SplittableRandom(1)));
  }
}
