package io.sigma.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.Level;
import io.sigma.agent.devapi.EndpointKind;
import io.sigma.agent.devapi.Fault;
import io.sigma.agent.devapi.FaultInjectingDevApi;
import io.sigma.agent.host.LogCapture;
import io.sigma.agent.ports.FreePorts;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.CoordinatedShutdown;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The health endpoints (pekko-management) of a whole agent against the dev sigma-api, whose
 * registration answers the test controls.
 */
class HealthEndpointsIT {
  private static final String KEY = "health-it-key";
  private static ActorTestKit apiKit;
  private static Path stateDir;

  private FaultInjectingDevApi devApi;
  private String baseUrl;

  @BeforeAll
  static void startKit() throws Exception {
    apiKit = ActorTestKit.create(AgentRuntime.pekkoConfig());
    stateDir = Files.createTempDirectory("sigma-agent-health-it");
  }

  @AfterAll
  static void stopKit() throws Exception {
    apiKit.shutdownTestKit();
    Files.deleteIfExists(stateDir);
  }

  @BeforeEach
  void startApi() throws Exception {
    devApi = new FaultInjectingDevApi(0, KEY);
    baseUrl =
        devApi
            .start(apiKit.system())
            .toCompletableFuture()
            .get(RunningAgent.AWAIT.toSeconds(), TimeUnit.SECONDS);
  }

  @AfterEach
  void stopApi() throws Exception {
    devApi.stop().toCompletableFuture().get(RunningAgent.AWAIT.toSeconds(), TimeUnit.SECONDS);
  }

  private RunningAgent startAgent(int managementPort) {
    return startAgent(managementPort, baseUrl);
  }

  private RunningAgent startAgent(int managementPort, String apiUrl) {
    return RunningAgent.start(
        "--api-url",
        apiUrl,
        "--api-key",
        KEY,
        "--hostname",
        "it-health-" + ProcessHandle.current().pid(),
        "--interval",
        "1",
        "--backoff-initial",
        "50ms",
        "--backoff-max",
        "1",
        "--metrics-port",
        String.valueOf(FreePorts.ephemeral()),
        "--metrics-bind",
        "127.0.0.1",
        "--management-port",
        String.valueOf(managementPort),
        "--management-bind",
        "127.0.0.1",
        "--public-ip-lookup=false",
        "--state-dir",
        stateDir.toString());
  }

  /** The reason in /ready is the operator's words, not Pekko's "Tcp command [Connect(...". */
  @Test
  void notReadySaysWhichAddressRefusedTheConnection() throws Exception {
    int closed;
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      closed = s.getLocalPort();
    }
    try (RunningAgent agent =
        startAgent(FreePorts.ephemeral(), "http://127.0.0.1:" + closed + "/api")) {
      TestProbe<Object> probe = TestProbe.create(apiKit.system());
      probe.awaitAssert(
          RunningAgent.AWAIT,
          () -> {
            HttpResponse<String> ready = agent.get(agent.management("/ready"));
            assertEquals(503, ready.statusCode(), ready.body());
            assertEquals(
                "Not Healthy: not registered with sigma-api (last error: POST /agent/register: "
                    + "connection refused by 127.0.0.1:"
                    + closed
                    + ")",
                ready.body());
            return null;
          });
    }
  }

  @Test
  void notReadyUntilRegisteredButAliveAllAlong() throws Exception {
    devApi.faults().failAlways(EndpointKind.REGISTER, Fault.status(503));
    try (RunningAgent agent = startAgent(FreePorts.ephemeral())) {
      TestProbe<Object> probe = TestProbe.create(apiKit.system());
      // registration keeps failing: not ready, with the reason in the answer
      probe.awaitAssert(
          RunningAgent.AWAIT,
          () -> {
            assertTrue(devApi.faults().injected(EndpointKind.REGISTER) >= 2);
            HttpResponse<String> ready = agent.get(agent.management("/ready"));
            assertEquals(503, ready.statusCode(), ready.body());
            assertTrue(
                ready.body().startsWith("Not Healthy: not registered with sigma-api"),
                ready.body());
            return null;
          });
      HttpResponse<String> alive = agent.get(agent.management("/alive"));
      assertEquals(
          200, alive.statusCode(), "a failing sigma-api is no reason to restart: " + alive.body());

      devApi.faults().clear();
      probe.awaitAssert(
          RunningAgent.AWAIT,
          () -> {
            HttpResponse<String> ready = agent.get(agent.management("/ready"));
            assertEquals(200, ready.statusCode(), ready.body());
            assertEquals("OK", ready.body());
            return null;
          });
      assertEquals(200, agent.get(agent.management("/alive")).statusCode());
    }
  }

  @Test
  void aTakenManagementPortStopsTheAgentAsAStartupFailure() throws Exception {
    try (LogCapture logs = new LogCapture(AgentGuardian.class);
        ServerSocket taken = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
        RunningAgent agent = startAgent(taken.getLocalPort())) {
      agent
          .system
          .getWhenTerminated()
          .toCompletableFuture()
          .get(RunningAgent.AWAIT.toSeconds(), TimeUnit.SECONDS);
      assertEquals(
          Optional.of(StartupFailure.INSTANCE),
          CoordinatedShutdown.get(agent.system).getShutdownReason());
      // the port in operator terms, not "ConnectionSourceStage$$anon$1$$anon$2: Bind failed ..."
      assertEquals(
          List.of(
              "Could not start the health endpoints: 127.0.0.1:"
                  + taken.getLocalPort()
                  + " is already in use. Free the port or change --management-port / "
                  + "AGENT_MANAGEMENT_PORT (0 disables them). Stopping."),
          logs.messages(Level.ERROR));
    }
  }
}
