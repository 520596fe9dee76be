package io.sigma.agent.fleet;

import static io.sigma.agent.devapi.DevApiAdmin.admin;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sigma.agent.AgentRuntime;
import io.sigma.agent.api.ApiKey;
import io.sigma.agent.api.HttpSigmaApi;
import io.sigma.agent.api.VpsIds;
import io.sigma.agent.devapi.EndpointKind;
import io.sigma.agent.devapi.Fault;
import io.sigma.agent.devapi.FaultInjectingDevApi;
import io.sigma.agent.host.Cidr;
import io.sigma.agent.host.HostAddressDiscovery;
import io.sigma.agent.host.SystemFactsReader;
import io.sigma.agent.retry.Backoff;
import java.net.URI;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A register answer whose VPS id is not a UUID is a bad answer: it never reaches the agent's state
 * or its subscribers (the id goes into URLs and logs), and registration is retried.
 */
class VpsIdValidationIT {
  private static final Duration AWAIT = Duration.ofSeconds(20);
  private static ActorTestKit testKit;

  @BeforeAll
  static void startKit() {
    testKit = ActorTestKit.create(AgentRuntime.pekkoConfig());
  }

  @AfterAll
  static void stopKit() {
    testKit.shutdownTestKit();
  }

  @Test
  void aRegisterAnswerWithAPathAsItsIdIsRetriedAndNeverUsed() throws Exception {
    FaultInjectingDevApi devApi = new FaultInjectingDevApi(0, "k");
    String url = devApi.start(testKit.system()).toCompletableFuture().get(10, TimeUnit.SECONDS);
    try {
      devApi
          .faults()
          .failNext(
              EndpointKind.REGISTER,
              2,
              new Fault.Answer(
                  200,
                  Fault.JSON,
                  "{\"id\":\"../../envoy-nodes?x=\",\"hostname\":\"h\",\"status\":\"active\"}"));
      FleetStatus status = new FleetStatus(Clock.systemUTC());
      String hostname = "vps-id-it-" + ProcessHandle.current().pid();
      HostFacts host =
          new ProcHostFacts(
              hostname,
              new HostAddressDiscovery(Path.of("/proc"), List.of(Cidr.parse("127.0.0.0/8"))),
              new SystemFactsReader(Path.of("/proc"), Path.of("/")));
      var api =
          new HttpSigmaApi(
              testKit.system(),
              URI.create(url),
              Optional.of(new ApiKey("k")),
              Duration.ofSeconds(2));
      TestProbe<RegistrationActor.Registered> subscriber = testKit.createTestProbe();
      var actor =
          testKit.spawn(
              RegistrationActor.create(
                  new RegistrationActor.Settings(
                      Optional.empty(),
                      22,
                      null,
                      Duration.ofSeconds(30),
                      new Backoff(Duration.ofMillis(50), Duration.ofMillis(200))),
                  api,
                  host,
                  status,
                  new SplittableRandom(3)));
      actor.tell(new RegistrationActor.Subscribe(subscriber.ref()));

      RegistrationActor.Registered registered = subscriber.receiveMessage(AWAIT);
      assertTrue(
          VpsIds.isCanonicalUuid(registered.vpsId()),
          "subscribers were told " + registered.vpsId());
      String realId = admin(devApi).vpsByHostname(hostname).orElseThrow().id();
      assertEquals(realId, registered.vpsId(), "the first id subscribers hear is the real one");
      assertTrue(status.isRegistered());
      assertEquals(
          2, status.registrationFailures(), "both bad answers counted as failed registrations");
      assertEquals(3, devApi.stats().total(EndpointKind.REGISTER));
      assertTrue(status.lastError().isEmpty() || !status.lastError().get().contains("\n"));
      assertFalse(registered.vpsId().contains(".."));
      testKit.stop(actor);
    } finally {
      devApi.stop().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }
  }
}
