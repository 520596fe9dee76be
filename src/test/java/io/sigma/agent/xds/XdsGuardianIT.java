package io.sigma.agent.xds;

import static io.sigma.agent.devapi.DevApiAdmin.admin;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.envoyproxy.envoy.service.discovery.v3.DiscoveryResponse;
import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import io.sigma.agent.AgentRuntime;
import io.sigma.agent.api.CreateEnvoyNodeRequest;
import io.sigma.agent.api.EnvoyNode;
import io.sigma.agent.devapi.RouteSpec;
import io.sigma.agent.metrics.AgentMetrics;
import io.sigma.agent.retry.Backoff;
import io.sigma.agent.testing.DelegatingSigmaApi;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Supervision, exercised: each child of the xDS guardian is crashed by a dependency that throws
 * (sigma-api's client, the state dir) or by a message that throws, while a real gRPC ADS client is
 * connected. The Envoy keeps its config through the crash and gets the next one after it, and the
 * crashed child works again (restarted, or resumed for the registry).
 */
class XdsGuardianIT {

  private static final Duration AWAIT = PolledControlPlane.AWAIT;
  private static final Duration POLL = Duration.ofMillis(200);
  private static ActorTestKit testKit;

  @TempDir Path stateDir;

  private DevApiWithVps fixture;
  private ManagedChannel channel;
  private ActorRef<XdsGuardian.Command> guardian;
  private final AtomicBoolean crashNextListing = new AtomicBoolean();
  private final AtomicBoolean crashNextRegistration = new AtomicBoolean();
  private final AtomicInteger registrations = new AtomicInteger();

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
  void stop() throws Exception {
    if (channel != null) {
      channel.shutdownNow().awaitTermination(10, TimeUnit.SECONDS);
    }
    if (guardian != null) {
      testKit.stop(guardian, AWAIT);
    }
    fixture.close();
  }

  /** The dev API's client, with faults that throw instead of answering (bugs, not API errors). */
  private final class FaultyApi extends DelegatingSigmaApi {
    FaultyApi() {
      super(fixture.http());
    }

    @Override
    public CompletionStage<List<EnvoyNode>> allEnvoyNodes(String vpsId) {
      if (crashNextListing.getAndSet(false)) {
        throw new IllegalStateException("test fault: the node listing throws");
      }
      return super.allEnvoyNodes(vpsId);
    }

    @Override
    public CompletionStage<EnvoyNode> createEnvoyNode(CreateEnvoyNodeRequest request) {
      registrations.incrementAndGet();
      if (crashNextRegistration.getAndSet(false)) {
        throw new IllegalStateException("test fault: registering throws");
      }
      return super.createEnvoyNode(request);
    }
  }

  /** Starts the guardian on {@code store}; returns its ADS server's port. */
  private int start(NodeConfigStore store) throws Exception {
    CompletableFuture<XdsServer> bound = new CompletableFuture<>();
    guardian =
        testKit.spawn(
            XdsGuardian.create(
                new XdsGuardian.Settings(
                    new ConfigPoller.Settings(
                        POLL, new Backoff(Duration.ofMillis(50), Duration.ofMillis(400))),
                    "127.0.0.1",
                    0,
                    stateDir),
                new FaultyApi(),
                store,
                new XdsMetrics(new AgentMetrics("guardian-it", false, false)),
                Clock.systemUTC(),
                new SplittableRandom(5),
                bound));
    XdsServer server = bound.get(10, TimeUnit.SECONDS);
    channel =
        Grpc.newChannelBuilderForAddress(
                "127.0.0.1", server.port(), InsecureChannelCredentials.create())
            .build();
    guardian.tell(new ConfigPoller.VpsKnown(fixture.vpsId()));
    return server.port();
  }

  private int start() throws Exception {
    return start(new NodeConfigStore(stateDir, Clock.systemUTC()));
  }

  private NodeStatus awaitServed(String nodeId, long version) {
    TestProbe<XdsStatus> probe = testKit.createTestProbe();
    return probe.awaitAssert(
        AWAIT,
        () -> {
          guardian.tell(new XdsGuardian.GetServedStatus(probe.ref()));
          NodeStatus node = probe.receiveMessage().node(nodeId);
          assertTrue(
              node != null && node.snapshotVersion() != null && node.snapshotVersion() == version,
              nodeId + ": " + node);
          return node;
        });
  }

  private PollerStatus awaitPoller(java.util.function.Predicate<PollerStatus> condition) {
    TestProbe<PollerStatus> probe = testKit.createTestProbe();
    return probe.awaitAssert(
        AWAIT,
        () -> {
          guardian.tell(new ConfigPoller.GetStatus(probe.ref()));
          PollerStatus status = probe.receiveMessage();
          assertTrue(condition.test(status), status.toString());
          return status;
        });
  }

  private long version(EnvoyNode node) {
    return admin(fixture.devApi()).node(node.id()).orElseThrow().configVersion();
  }

  private EnvoyNode nodeWithOneRoute(String nodeId) {
    EnvoyNode node = admin(fixture.devApi()).addNode(fixture.vpsId(), nodeId);
    admin(fixture.devApi()).addRoute(node.id(), RouteSpec.active("r1", 10001, "one.example", 80));
    return node;
  }

  /** One more route for {@code node}: a new config_version; returns it. */
  private long addRoute(EnvoyNode node, int port) {
    admin(fixture.devApi())
        .addRoute(node.id(), RouteSpec.active("r" + port, port, "more.example", 80));
    return version(node);
  }

  @Test
  void aCrashedPollerRestartsAndTheEnvoyKeepsItsConfigAndGetsTheNextOne() throws Exception {
    EnvoyNode edge = nodeWithOneRoute("edge");
    start();
    try (AdsTestClient envoy = AdsTestClient.connect(channel, "edge")) {
      DiscoveryResponse[] first = envoy.handshake();
      assertEquals(1, first[0].getResourcesCount());

      Instant crashAt = Instant.now();
      crashNextListing.set(true);
      guardian.tell(new ConfigPoller.PollNow());
      testKit
          .createTestProbe()
          .awaitAssert(
              AWAIT,
              () -> {
                assertFalse(crashNextListing.get(), "the poller hit the fault");
                return null;
              });
      // Meanwhile the registry serves on, and the stream stays open.
      NodeStatus during = awaitServed("edge", version(edge));
      assertEquals(1, during.streams().size());

      // Restarted (after its backoff), told the VPS id again, polling on.
      PollerStatus restarted =
          awaitPoller(
              s ->
                  fixture.vpsId().equals(s.vpsId())
                      && s.lastPollAt() != null
                      && s.lastPollAt().isAfter(crashAt)
                      && s.lastResult() == PollResult.SUCCESS);
      assertEquals(version(edge), restarted.node("edge").servedVersion());

      long next = addRoute(edge, 10002);
      String versionInfo = awaitServed("edge", next).versionInfo();
      DiscoveryResponse[] after = envoy.readAndAckUntil(versionInfo);
      assertEquals(2, after[0].getResourcesCount(), "the config after the crash");
      assertEquals(2, after[1].getResourcesCount());
    }
  }

  @Test
  void aCrashedRegistrarRestartsAndRegistersTheUnknownEnvoy() throws Exception {
    EnvoyNode edge = nodeWithOneRoute("edge");
    crashNextRegistration.set(true);
    start();
    try (AdsTestClient known = AdsTestClient.connect(channel, "edge");
        AdsTestClient newbie = AdsTestClient.connect(channel, "newbie")) {
      known.handshake();
      // The first attempt throws (the registrar crashes); the restarted one registers it.
      DiscoveryResponse[] served = newbie.handshake();
      assertEquals(0, served[0].getResourcesCount(), "a new node has no routes yet");
      assertTrue(registrations.get() >= 2, "tried again after the crash: " + registrations);
      assertFalse(crashNextRegistration.get());
      assertEquals(
          1,
          admin(fixture.devApi()).nodes(fixture.vpsId()).stream()
              .filter(n -> n.nodeId().equals("newbie"))
              .count());

      long next = addRoute(edge, 10002);
      String versionInfo = awaitServed("edge", next).versionInfo();
      assertEquals(2, known.readAndAckUntil(versionInfo)[0].getResourcesCount());
    }
  }

  @Test
  void aCrashedSaverRestartsAndSavesWhatItWasSavingWhileTheEnvoyIsServed() throws Exception {
    EnvoyNode edge = nodeWithOneRoute("edge");
    AtomicInteger saves = new AtomicInteger();
    NodeConfigStore store =
        new NodeConfigStore(stateDir, Clock.systemUTC()) {
          @Override
          public void save(NodeConfig config, long serial) throws IOException {
            if (saves.getAndIncrement() == 0) {
              throw new IllegalStateException("test fault: the store throws");
            }
            super.save(config, serial);
          }
        };
    start(store);
    try (AdsTestClient envoy = AdsTestClient.connect(channel, "edge")) {
      assertEquals(1, envoy.handshake()[0].getResourcesCount(), "served while the save crashed");
      awaitSaved(store, "edge", version(edge));
      assertTrue(saves.get() >= 2, "saved after the crash: " + saves);

      long next = addRoute(edge, 10002);
      String versionInfo = awaitServed("edge", next).versionInfo();
      assertEquals(2, envoy.readAndAckUntil(versionInfo)[0].getResourcesCount());
      awaitSaved(store, "edge", next);
      assertTrue(awaitPoller(s -> s.unsavedNodes().isEmpty()).lastSaveError() == null);
    }
  }

  private static void awaitSaved(NodeConfigStore store, String nodeId, long version) {
    testKit
        .createTestProbe()
        .awaitAssert(
            AWAIT,
            () -> {
              assertTrue(
                  store.loadAll().stream()
                      .anyMatch(
                          s ->
                              s.config().nodeId().equals(nodeId)
                                  && s.config().configVersion() == version),
                  nodeId + " v" + version + " saved");
              return null;
            });
  }

  @Test
  void aRegistryHitByAMessageThatThrowsKeepsItsSnapshotsAndStreams() throws Exception {
    EnvoyNode edge = nodeWithOneRoute("edge");
    try (PolledControlPlane agent =
            PolledControlPlane.start(testKit, fixture.http(), stateDir, Duration.ofHours(1));
        AdsTestClient envoy = agent.connect("edge")) {
      agent.identify(fixture.vpsId());
      assertEquals(1, envoy.handshake()[0].getResourcesCount());

      agent.registry.tell(new SnapshotRegistry.StreamUpdated(null));
      agent.registry.tell(new SnapshotRegistry.Subscribe(null, null));

      NodeStatus after = agent.awaitVersion("edge", version(edge));
      assertEquals(1, after.streams().size(), "the stream is still subscribed");
      long next = addRoute(edge, 10002);
      agent.pollNow();
      String versionInfo = agent.awaitVersionInfo("edge", next);
      assertEquals(2, envoy.readAndAckUntil(versionInfo)[0].getResourcesCount());
    }
  }
}
