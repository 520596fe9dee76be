package io.sigma.agent.xds;

import static io.sigma.agent.devapi.DevApiAdmin.admin;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sigma.agent.AgentRuntime;
import io.sigma.agent.api.EnvoyNode;
import io.sigma.agent.devapi.DevApiRequests.CreateNodeInput;
import io.sigma.agent.metrics.AgentMetrics;
import io.sigma.agent.retry.Backoff;
import io.sigma.agent.testing.DelegatingSigmaApi;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The guardian's own jobs: binding the ADS server, forwarding, telling a restarted poller again.
 */
class XdsGuardianTest {

  private static final Duration AWAIT = Duration.ofSeconds(10);
  private static ActorTestKit testKit;

  @TempDir Path stateDir;

  private DevApiWithVps fixture;
  private final AtomicBoolean crashNextListing = new AtomicBoolean();

  @BeforeAll
  static void startKit() {
    testKit = ActorTestKit.create(AgentRuntime.pekkoConfig());
  }

  @AfterAll
  static void stopKit() {
    testKit.shutdownTestKit();
  }

  @BeforeEach
  void startApi() throws Exception {
    fixture = DevApiWithVps.start(testKit.system(), "xds-guardian-");
  }

  @AfterEach
  void stopApi() throws Exception {
    fixture.close();
  }

  private ActorRef<XdsGuardian.Command> spawn(int port, CompletableFuture<XdsServer> bound) {
    return testKit.spawn(
        XdsGuardian.create(
            new XdsGuardian.Settings(
                new ConfigPoller.Settings(
                    Duration.ofHours(1),
                    new Backoff(Duration.ofMillis(50), Duration.ofMillis(400))),
                "127.0.0.1",
                port,
                stateDir),
            new DelegatingSigmaApi(fixture.http()) {
              @Override
              public CompletionStage<List<EnvoyNode>> allEnvoyNodes(String vpsId) {
                if (crashNextListing.getAndSet(false)) {
                  throw new IllegalStateException("test fault: the node listing throws");
                }
                return super.allEnvoyNodes(vpsId);
              }
            },
            new NodeConfigStore(stateDir, Clock.systemUTC()),
            new XdsMetrics(new AgentMetrics("guardian-test", false, false)),
            Clock.systemUTC(),
            new SplittableRandom(2),
            bound));
  }

  private static PollerStatus pollerStatus(ActorRef<XdsGuardian.Command> guardian) {
    TestProbe<PollerStatus> probe = testKit.createTestProbe();
    guardian.tell(new ConfigPoller.GetStatus(probe.ref()));
    return probe.receiveMessage(AWAIT);
  }

  @Test
  void theGuardianBindsTheAdsServerForwardsAndTellsARestartedPollerWhatItKnew() throws Exception {
    admin(fixture.devApi()).addNode(fixture.vpsId(), "edge");
    CompletableFuture<XdsServer> bound = new CompletableFuture<>();
    ActorRef<XdsGuardian.Command> guardian = spawn(0, bound);
    XdsServer server = bound.get(10, TimeUnit.SECONDS);
    assertTrue(server.port() > 0);

    TestProbe<ConfigPoller.EnvoyNodes> watcher = testKit.createTestProbe();
    guardian.tell(new ConfigPoller.WatchNodes(watcher.ref()));
    assertEquals(new ConfigPoller.EnvoyNodes(null, List.of()), watcher.receiveMessage(AWAIT));
    guardian.tell(new ConfigPoller.VpsKnown(fixture.vpsId()));
    watcher.fishForMessage(
        AWAIT,
        nodes ->
            nodes.nodes().size() == 1
                ? org.apache.pekko.actor.testkit.typed.javadsl.FishingOutcomes.complete()
                : org.apache.pekko.actor.testkit.typed.javadsl.FishingOutcomes.continueAndIgnore());
    TestProbe<XdsStatus> served = testKit.createTestProbe();
    served.awaitAssert(
        AWAIT,
        () -> {
          guardian.tell(new XdsGuardian.GetServedStatus(served.ref()));
          assertEquals(1L, served.receiveMessage().node("edge").snapshotVersion());
          return null;
        });
    HttpResponse page =
        XdsStatusRoutes.of(guardian, testKit.system(), Clock.systemUTC())
            .status()
            .toCompletableFuture()
            .get(10, TimeUnit.SECONDS);
    assertEquals(200, page.status().intValue());
    String json =
        page.entity()
            .toStrict(5_000, testKit.system())
            .toCompletableFuture()
            .get(10, TimeUnit.SECONDS)
            .getData()
            .decodeString(StandardCharsets.UTF_8);
    assertTrue(json.contains(fixture.vpsId()) && json.contains("\"edge\""), json);

    // The poller crashes; restarted, it is told the VPS id and its watcher again.
    crashNextListing.set(true);
    guardian.tell(new ConfigPoller.PollNow());
    assertEquals(
        new ConfigPoller.EnvoyNodes(fixture.vpsId(), List.of()),
        watcher.receiveMessage(AWAIT),
        "the restarted poller knows the VPS id, not its nodes yet");
    assertEquals(
        List.of(new ConfigPoller.ListedNode("edge", null, 1)),
        watcher.receiveMessage(AWAIT).nodes(),
        "then lists them again");
    TestProbe<PollerStatus> again = testKit.createTestProbe();
    PollerStatus restarted =
        again.awaitAssert(
            AWAIT,
            () -> {
              PollerStatus status = pollerStatus(guardian);
              assertEquals(fixture.vpsId(), status.vpsId());
              assertEquals(PollResult.SUCCESS, status.lastResult());
              return status;
            });
    assertEquals(1L, restarted.node("edge").servedVersion());
    guardian.tell(new ConfigPoller.IntervalChanged(Duration.ofMinutes(7)));
    assertEquals(Duration.ofMinutes(7), pollerStatus(guardian).pollInterval(), "forwarded");
    testKit.stop(guardian, AWAIT);
    server.stop(Duration.ofSeconds(1)).toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  @Test
  void aPortInUseFailsTheBindingTheAgentWaitsFor() throws Exception {
    try (ServerSocket taken = new ServerSocket()) {
      taken.bind(new InetSocketAddress("127.0.0.1", 0));
      CompletableFuture<XdsServer> bound = new CompletableFuture<>();
      ActorRef<XdsGuardian.Command> guardian = spawn(taken.getLocalPort(), bound);
      ExecutionException failed =
          org.junit.jupiter.api.Assertions.assertThrows(
              ExecutionException.class, () -> bound.get(10, TimeUnit.SECONDS));
      String why = io.sigma.agent.net.BindFailure.describe(failed.getCause());
      assertTrue(why.contains("already in use"), why);
      testKit.stop(guardian, AWAIT);
    }
  }

  @Test
  void theAdminProbeFollowsTheNodeListingsAndAReloadedPollInterval() throws Exception {
    fixture
        .devApi()
        .store()
        .createNode(new CreateNodeInput(fixture.vpsId(), "edge", "", 9901, "active"));
    ActorRef<XdsGuardian.Command> guardian = spawn(0, new CompletableFuture<>());
    BlockingQueue<Integer> probed = new LinkedBlockingQueue<>();
    TestProbe<String> events = testKit.createTestProbe();
    XdsGuardian.ProbeEnvoyAdmins probe =
        new XdsGuardian.ProbeEnvoyAdmins(
            new EnvoyAdminProbe.Settings(Duration.ofHours(1), Duration.ofSeconds(5), 1),
            port -> {
              probed.add(port);
              return CompletableFuture.completedFuture(EnvoyAdminProbe.Answer.LIVE);
            },
            new ProbeEventsTo(events.ref()));
    guardian.tell(probe);
    guardian.tell(probe); // told twice (e.g. a retried start): still one probe
    guardian.tell(new ConfigPoller.VpsKnown(fixture.vpsId()));
    // The poller lists the node with its admin_port: the probe probes it at once...
    assertEquals(9901, probed.poll(10, TimeUnit.SECONDS));
    events.expectMessage(AWAIT, "edge up");
    // ...then hourly, until SIGHUP shortens --xds-poll-interval: the guardian tells the probe too.
    events.expectNoMessage(Duration.ofMillis(300));
    assertNull(probed.peek());
    guardian.tell(new ConfigPoller.IntervalChanged(Duration.ofMillis(100)));
    assertEquals(9901, probed.poll(10, TimeUnit.SECONDS));
    assertEquals(9901, probed.poll(10, TimeUnit.SECONDS));
    // The poller took the interval as well.
    assertEquals(Duration.ofMillis(100), pollerStatus(guardian).pollInterval());
  }
}
