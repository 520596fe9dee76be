package io.sigma.agent.xds;

import static io.sigma.agent.devapi.DevApiAdmin.admin;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sigma.agent.AgentRuntime;
import io.sigma.agent.api.EnvoyNode;
import io.sigma.agent.devapi.RouteSpec;
import io.sigma.agent.retry.Backoff;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.SplittableRandom;
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
 * The poller actor carrying out its reconciler's decisions against the dev sigma-api over real
 * HTTP: saved configs, node watchers, removals and saves through its children, auto-registration.
 */
class ConfigPollerTest {

  private static final Duration AWAIT = PolledControlPlane.AWAIT;
  private static final Duration NO_TIMED_POLLS = Duration.ofHours(1);
  private static ActorTestKit testKit;

  @TempDir Path stateDir;

  private DevApiWithVps fixture;

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
    fixture = DevApiWithVps.start(testKit.system(), "xds-poller-");
  }

  @AfterEach
  void stopApi() throws Exception {
    fixture.close();
  }

  private static NodeConfig config(String nodeId, long version) {
    return new NodeConfig(
        new EnvoyNode("uuid-" + nodeId, "vps", nodeId, null, null, version, "active", null, null),
        List.of(Routes.route("web", 10000, "backend.example", 80)));
  }

  private static Optional<XdsSnapshot> snapshot(
      ActorRef<SnapshotRegistry.Command> registry, String nodeId) {
    // As a stream that connects now gets it.
    TestProbe<XdsSnapshot> probe = testKit.createTestProbe();
    StreamStatus stream = new StreamStatus(999, nodeId, java.time.Instant.now(), null, List.of());
    registry.tell(new SnapshotRegistry.Subscribe(stream, probe.ref()));
    XdsSnapshot current = probe.receiveMessage(AWAIT);
    registry.tell(new SnapshotRegistry.StreamClosed(999));
    return Optional.of(current);
  }

  @Test
  void aSavedConfigIsServedWhereTheRegistryHasNoneAndNeverOverAFresherOne() throws Exception {
    NodeConfigStore store = new NodeConfigStore(stateDir, Clock.systemUTC());
    store.save(config("edge", 3), 30);
    store.save(config("spare", 2), 20);
    ActorRef<SnapshotRegistry.Command> registry = testKit.spawn(SnapshotRegistry.create());
    // What a poller that ran before this one (then crashed) set: fresher than the saved file.
    XdsSnapshot fresh = XdsSnapshot.empty("edge", 5, 50);
    registry.tell(new SnapshotRegistry.SetSnapshot(fresh));
    assertEquals(Optional.of(fresh), snapshot(registry, "edge"));

    ActorRef<ConfigPoller.Command> poller =
        testKit.spawn(
            ConfigPoller.create(
                new ConfigPoller.Settings(
                    NO_TIMED_POLLS, new Backoff(Duration.ofMillis(50), Duration.ofMillis(400))),
                fixture.http(),
                registry,
                store,
                new PollerEvents() {},
                Clock.systemUTC(),
                new SplittableRandom(1)));
    TestProbe<PollerStatus> status = testKit.createTestProbe();
    poller.tell(new ConfigPoller.GetStatus(status.ref()));
    assertEquals(3L, status.receiveMessage(AWAIT).node("edge").servedVersion(), "started");

    XdsSnapshot spare = snapshot(registry, "spare").orElseThrow();
    assertEquals(2, spare.version(), "served from the state dir");
    assertTrue(spare.serial() > 20, "above the saved serial");
    assertEquals(Optional.of(fresh), snapshot(registry, "edge"), "the saved v3 did not replace v5");
    testKit.stop(poller, AWAIT);
    testKit.stop(registry, AWAIT);
  }

  @Test
  void nodeWatchersHearTheListedNodesAtOnceAndWhenTheyChange() throws Exception {
    EnvoyNode edge = admin(fixture.devApi()).addNode(fixture.vpsId(), "edge");
    admin(fixture.devApi()).updateNode(edge.id(), "", 9901, "active");
    try (PolledControlPlane agent =
        PolledControlPlane.start(testKit, fixture.http(), stateDir, NO_TIMED_POLLS)) {
      TestProbe<ConfigPoller.EnvoyNodes> watcher = testKit.createTestProbe();
      agent.poller.tell(new ConfigPoller.WatchNodes(watcher.ref()));
      assertEquals(new ConfigPoller.EnvoyNodes(null, List.of()), watcher.receiveMessage(AWAIT));

      agent.identify(fixture.vpsId());
      assertEquals(
          new ConfigPoller.EnvoyNodes(fixture.vpsId(), List.of()),
          watcher.receiveMessage(AWAIT),
          "a new VPS id: no node known yet");
      assertEquals(
          new ConfigPoller.EnvoyNodes(
              fixture.vpsId(), List.of(new ConfigPoller.ListedNode("edge", 9901, 1))),
          watcher.receiveMessage(AWAIT));

      agent.pollNow();
      agent.awaitNextPoll();
      watcher.expectNoMessage(Duration.ofMillis(200));

      admin(fixture.devApi()).addRoute(edge.id(), RouteSpec.active("web", 10001, "b.example", 80));
      agent.pollNow();
      assertEquals(
          new ConfigPoller.EnvoyNodes(
              fixture.vpsId(), List.of(new ConfigPoller.ListedNode("edge", 9901, 2))),
          watcher.receiveMessage(AWAIT));

      TestProbe<ConfigPoller.EnvoyNodes> late = testKit.createTestProbe();
      agent.poller.tell(new ConfigPoller.WatchNodes(late.ref()));
      assertEquals(
          new ConfigPoller.EnvoyNodes(
              fixture.vpsId(), List.of(new ConfigPoller.ListedNode("edge", 9901, 2))),
          late.receiveMessage(AWAIT),
          "a late watcher hears the current list at once");
      agent.poller.tell(new ConfigPoller.WatchNodes(late.ref()));
      late.receiveMessage(AWAIT);
      late.stop();
      admin(fixture.devApi()).deleteNode(edge.id());
      agent.pollNow();
      assertEquals(
          new ConfigPoller.EnvoyNodes(fixture.vpsId(), List.of()), watcher.receiveMessage(AWAIT));
      watcher.expectNoMessage(Duration.ofMillis(200));
    }
  }

  @Test
  void aNodeIsServedAndSavedThenRemovedAndForgottenOnDisk() throws Exception {
    EnvoyNode edge = admin(fixture.devApi()).addNode(fixture.vpsId(), "edge");
    admin(fixture.devApi()).addRoute(edge.id(), RouteSpec.active("web", 10001, "b.example", 80));
    try (PolledControlPlane agent =
        PolledControlPlane.start(testKit, fixture.http(), stateDir, NO_TIMED_POLLS)) {
      agent.identify(fixture.vpsId());
      agent.awaitVersion("edge", 2);
      Path file = stateDir.resolve(NodeConfigStore.fileName("edge"));
      agent.poller.tell(new ConfigPoller.PollNow());
      testKit
          .createTestProbe()
          .awaitAssert(
              AWAIT,
              () -> {
                assertTrue(Files.exists(file), "saved");
                return null;
              });

      admin(fixture.devApi()).deleteNode(edge.id());
      agent.pollNow();
      XdsStatus status =
          testKit
              .<XdsStatus>createTestProbe()
              .awaitAssert(
                  AWAIT,
                  () -> {
                    XdsStatus now = agent.status();
                    assertNull(now.node("edge"), "removed: " + now);
                    return now;
                  });
      assertTrue(status.nodes().isEmpty());
      testKit
          .createTestProbe()
          .awaitAssert(
              AWAIT,
              () -> {
                assertFalse(Files.exists(file), "its saved config deleted");
                return null;
              });
      assertNull(agent.pollerStatus().node("edge"));
    }
  }

  @Test
  void aTimedPollRunsByItselfAndANewIntervalApplies() throws Exception {
    try (PolledControlPlane agent =
        PolledControlPlane.start(testKit, fixture.http(), stateDir, Duration.ofMillis(100))) {
      agent.identify(fixture.vpsId());
      agent.awaitNextPoll();
      agent.awaitNextPoll();
      agent.poller.tell(new ConfigPoller.IntervalChanged(NO_TIMED_POLLS));
      assertEquals(NO_TIMED_POLLS, agent.awaitPoller(s -> !s.pollInFlight()).pollInterval());
    }
  }

  @Test
  void anUnknownConnectedEnvoyIsRegisteredAndThenServed() throws Exception {
    try (PolledControlPlane agent =
            PolledControlPlane.start(testKit, fixture.http(), stateDir, NO_TIMED_POLLS);
        AdsTestClient envoy = agent.connect("newbie")) {
      agent.identify(fixture.vpsId());
      envoy.handshake();
      EnvoyNode created =
          admin(fixture.devApi()).nodes(fixture.vpsId()).stream()
              .filter(n -> n.nodeId().equals("newbie"))
              .findFirst()
              .orElseThrow();
      assertEquals(ConfigPoller.AUTO_REGISTERED_DESCRIPTION, created.description());
      assertEquals(
          1L, agent.awaitNode("newbie", n -> n.snapshotVersion() != null).snapshotVersion());
    }
  }
}
