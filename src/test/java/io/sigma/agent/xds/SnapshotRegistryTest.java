package io.sigma.agent.xds;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sigma.agent.xds.SnapshotRegistry.Command;
import io.sigma.agent.xds.SnapshotRegistry.GetStatus;
import io.sigma.agent.xds.SnapshotRegistry.RemoveNode;
import io.sigma.agent.xds.SnapshotRegistry.SetSnapshot;
import io.sigma.agent.xds.SnapshotRegistry.StreamClosed;
import io.sigma.agent.xds.SnapshotRegistry.StreamUpdated;
import io.sigma.agent.xds.SnapshotRegistry.Subscribe;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.apache.pekko.actor.DeadLetter;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.eventstream.EventStream;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class SnapshotRegistryTest {

  private static final ActorTestKit testKit = ActorTestKit.create();
  private static final Instant OPENED = Instant.parse("2026-11-26T10:00:00Z");

  private ActorRef<Command> registry;

  @BeforeEach
  void startRegistry() {
    registry = testKit.spawn(SnapshotRegistry.create());
  }

  @AfterAll
  static void stopTestKit() {
    testKit.shutdownTestKit();
  }

  @Test
  void subscriberWaitsUntilItsNodeHasASnapshot() {
    TestProbe<XdsSnapshot> stream = testKit.createTestProbe();
    registry.tell(new Subscribe(initial(1, "a"), stream.ref()));

    NodeStatus waiting = status().node("a");
    assertNotNull(waiting);
    assertNull(waiting.snapshotVersion());
    assertEquals(List.of(1L), waiting.streams().stream().map(StreamStatus::streamId).toList());

    XdsSnapshot v1 = XdsSnapshot.empty("a", 1, 1);
    registry.tell(new SetSnapshot(v1));
    assertSame(v1, stream.receiveMessage());
  }

  @Test
  void lateSubscriberGetsTheCurrentSnapshotAtOnce() {
    XdsSnapshot v3 = XdsSnapshot.empty("a", 3, 3);
    registry.tell(new SetSnapshot(XdsSnapshot.empty("a", 2, 2)));
    registry.tell(new SetSnapshot(v3));
    TestProbe<XdsSnapshot> stream = testKit.createTestProbe();

    registry.tell(new Subscribe(initial(1, "a"), stream.ref()));

    assertSame(v3, stream.receiveMessage());
  }

  @Test
  void snapshotsGoOnlyToTheirNodesStreams() {
    TestProbe<XdsSnapshot> streamA = testKit.createTestProbe();
    TestProbe<XdsSnapshot> streamA2 = testKit.createTestProbe();
    TestProbe<XdsSnapshot> streamB = testKit.createTestProbe();
    registry.tell(new Subscribe(initial(1, "a"), streamA.ref()));
    registry.tell(new Subscribe(initial(2, "a"), streamA2.ref()));
    registry.tell(new Subscribe(initial(3, "b"), streamB.ref()));

    XdsSnapshot a = XdsSnapshot.empty("a", 2, 2);
    XdsSnapshot b = XdsSnapshot.empty("b", 5, 5);
    registry.tell(new SetSnapshot(a));
    registry.tell(new SetSnapshot(b));

    assertSame(a, streamA.receiveMessage());
    assertSame(a, streamA2.receiveMessage());
    assertSame(b, streamB.receiveMessage());
  }

  @Test
  void theEmptyStateOfARemovedNodeTakesTheGivenSerialButNeverOneAtOrBelowTheRemovedSnapshots() {
    TestProbe<XdsSnapshot> stream = testKit.createTestProbe();
    registry.tell(new Subscribe(initial(1, "a"), stream.ref()));
    XdsSnapshot served =
        new RouteResourceMapper()
            .map(List.of(Routes.route("r", 10001, "h", 80)))
            .toSnapshot("a", 7, 1_000);
    registry.tell(new SetSnapshot(served));
    assertSame(served, stream.receiveMessage());
    assertEquals("1000", status().node("a").versionInfo());

    registry.tell(new RemoveNode("a", 5_000));
    XdsSnapshot empty = stream.receiveMessage();
    assertEquals("5000", empty.versionInfo());
    assertEquals(8, empty.version());
    assertNull(status().node("a").versionInfo());

    registry.tell(new SetSnapshot(XdsSnapshot.empty("a", 1, 6_000)));
    stream.receiveMessage();
    registry.tell(new RemoveNode("a", 10));
    assertEquals(
        "6001",
        stream.receiveMessage().versionInfo(),
        "a stale serial is raised above the served one");
  }

  @Test
  void removedNodeStreamsGetAnEmptyStateAtANewVersion() {
    TestProbe<XdsSnapshot> stream = testKit.createTestProbe();
    XdsSnapshot v7 =
        new RouteResourceMapper()
            .map(List.of(Routes.route("r", 10001, "h", 80)))
            .toSnapshot("a", 7);
    registry.tell(new SetSnapshot(v7));
    registry.tell(new Subscribe(initial(1, "a"), stream.ref()));
    assertSame(v7, stream.receiveMessage());

    registry.tell(new RemoveNode("a", 0));

    XdsSnapshot empty = stream.receiveMessage();
    assertEquals("a", empty.nodeId());
    assertEquals(8, empty.version());
    assertEquals(List.of(), empty.clusters());
    assertEquals(List.of(), empty.listeners());
    NodeStatus node = status().node("a");
    assertNull(node.snapshotVersion());
    assertEquals(1, node.streams().size());

    TestProbe<XdsSnapshot> later = testKit.createTestProbe();
    registry.tell(new Subscribe(initial(2, "a"), later.ref()));
    XdsSnapshot back = XdsSnapshot.empty("a", 9, 9);
    registry.tell(new SetSnapshot(back));
    assertSame(back, later.receiveMessage());
  }

  @Test
  void removingAnUnknownNodeChangesNothing() {
    registry.tell(new SetSnapshot(XdsSnapshot.empty("kept", 1, 1)));

    registry.tell(new RemoveNode("never-seen", 0));

    assertEquals(List.of("kept"), status().nodes().stream().map(NodeStatus::nodeId).toList());
  }

  @Test
  void statusShowsSnapshotsAndTheLatestStreamStatus() {
    XdsSnapshot snapshot =
        new RouteResourceMapper()
            .map(List.of(Routes.route("r1", 10001, "h", 80), Routes.route("r2", 10002, "h", 80)))
            .toSnapshot("a", 4);
    registry.tell(new SetSnapshot(snapshot));
    registry.tell(new SetSnapshot(XdsSnapshot.empty("b", 1, 1)));
    TestProbe<XdsSnapshot> stream = testKit.createTestProbe();
    registry.tell(new Subscribe(initial(11, "a"), stream.ref()));
    ResourceTypeStatus clusters =
        new ResourceTypeStatus(TypeUrls.CLUSTER, "4", "4", false, 1, 1, 0, null, null, null);
    StreamStatus updated = new StreamStatus(11, "a", OPENED, "4", List.of(clusters));
    registry.tell(new StreamUpdated(updated));

    XdsStatus status = status();

    assertEquals(List.of("a", "b"), status.nodes().stream().map(NodeStatus::nodeId).toList());
    NodeStatus a = status.node("a");
    assertEquals(4L, a.snapshotVersion());
    assertEquals(2, a.routeCount());
    assertEquals(2, a.clusterCount());
    assertEquals(2, a.listenerCount());
    assertEquals(List.of(updated), a.streams());
    assertEquals(List.of(), status.node("b").streams());
    assertNull(status.node("c"));
  }

  @Test
  void closedStreamsLeaveTheStatus() {
    TestProbe<XdsSnapshot> stream = testKit.createTestProbe();
    registry.tell(new Subscribe(initial(5, "a"), stream.ref()));
    registry.tell(new StreamClosed(5));
    registry.tell(new StreamUpdated(initial(5, "a")));

    assertEquals(List.of(), status().nodes());
  }

  @Test
  void streamWhoseInletStopsIsDropped() {
    TestProbe<XdsSnapshot> seen = testKit.createTestProbe();
    ActorRef<XdsSnapshot> inlet =
        testKit.spawn(
            Behaviors.<XdsSnapshot>receiveMessage(
                snapshot -> {
                  seen.ref().tell(snapshot);
                  return Behaviors.same();
                }));
    registry.tell(new Subscribe(initial(6, "a"), inlet));
    registry.tell(new SetSnapshot(XdsSnapshot.empty("a", 1, 1)));
    seen.receiveMessage();

    testKit.stop(inlet);

    TestProbe<XdsStatus> probe = testKit.createTestProbe();
    probe.awaitAssert(
        () -> {
          registry.tell(new GetStatus(probe.ref()));
          assertEquals(List.of(), probe.receiveMessage().node("a").streams());
          return null;
        });
  }

  @Test
  void badSetSnapshotIsIgnoredAndTheRegistryKeepsItsState() {
    registry.tell(new SetSnapshot(XdsSnapshot.empty("a", 1, 1)));

    registry.tell(new SetSnapshot(null));

    assertEquals(1L, snapshot("a").orElseThrow().version());
    assertTrue(status().node("a") != null);
  }

  @Test
  void setSnapshotIfAbsentSeedsANodeButNeverReplacesItsSnapshot() {
    TestProbe<XdsSnapshot> stream = testKit.createTestProbe();
    registry.tell(new Subscribe(initial(1, "a"), stream.ref()));
    XdsSnapshot saved = XdsSnapshot.empty("a", 4, 4);

    registry.tell(new SnapshotRegistry.SetSnapshotIfAbsent(saved));
    assertSame(saved, stream.receiveMessage());

    XdsSnapshot fresh = XdsSnapshot.empty("a", 5, 5);
    registry.tell(new SetSnapshot(fresh));
    assertSame(fresh, stream.receiveMessage());
    registry.tell(new SnapshotRegistry.SetSnapshotIfAbsent(XdsSnapshot.empty("a", 4, 4)));
    registry.tell(new SnapshotRegistry.SetSnapshotIfAbsent(null));

    stream.expectNoMessage(Duration.ofMillis(100));
    assertSame(fresh, snapshot("a").orElseThrow());
  }

  @Test
  void watcherLearnsWhichNodesHaveStreamsAsTheyComeAndGo() {
    TestProbe<SnapshotRegistry.ConnectedNodes> watcher = testKit.createTestProbe();
    registry.tell(new Subscribe(initial(1, "a"), testKit.<XdsSnapshot>createTestProbe().ref()));

    registry.tell(new SnapshotRegistry.WatchConnectedNodes(watcher.ref()));
    assertEquals(Set.of("a"), watcher.receiveMessage().nodeIds(), "the current set at once");

    registry.tell(new Subscribe(initial(2, "b"), testKit.<XdsSnapshot>createTestProbe().ref()));
    assertEquals(Set.of("a", "b"), watcher.receiveMessage().nodeIds());

    registry.tell(new Subscribe(initial(3, "a"), testKit.<XdsSnapshot>createTestProbe().ref()));
    registry.tell(new StreamClosed(1));
    watcher.expectNoMessage(Duration.ofMillis(100));

    registry.tell(new StreamClosed(3));
    assertEquals(Set.of("b"), watcher.receiveMessage().nodeIds(), "a's last stream closed");
    registry.tell(new StreamClosed(2));
    assertEquals(Set.of(), watcher.receiveMessage().nodeIds());
  }

  @Test
  void stoppedWatcherIsForgotten() {
    TestProbe<SnapshotRegistry.ConnectedNodes> watcher = testKit.createTestProbe();
    TestProbe<SnapshotRegistry.ConnectedNodes> other = testKit.createTestProbe();
    registry.tell(new SnapshotRegistry.WatchConnectedNodes(watcher.ref()));
    registry.tell(new SnapshotRegistry.WatchConnectedNodes(other.ref()));
    watcher.receiveMessage();
    other.receiveMessage();
    TestProbe<DeadLetter> deadLetters = testKit.createTestProbe();
    testKit
        .system()
        .eventStream()
        .tell(new EventStream.Subscribe<>(DeadLetter.class, deadLetters.ref()));

    watcher.stop();
    // The registry hears of the stop asynchronously: until it has, a change may still go to the
    // stopped watcher (a dead letter). Once it has, no change ever goes there again.
    long[] streamId = {0};
    deadLetters.awaitAssert(
        Duration.ofSeconds(10),
        () -> {
          long id = ++streamId[0];
          registry.tell(
              new Subscribe(initial(id, "a"), testKit.<XdsSnapshot>createTestProbe().ref()));
          assertEquals(Set.of("a"), other.receiveMessage().nodeIds());
          registry.tell(new StreamClosed(id));
          assertEquals(Set.of(), other.receiveMessage().nodeIds());
          List<DeadLetter> dead = new ArrayList<>();
          while (true) {
            try {
              dead.add(deadLetters.receiveMessage(Duration.ofMillis(200)));
            } catch (AssertionError none) {
              break;
            }
          }
          assertTrue(
              dead.stream().noneMatch(d -> d.message() instanceof SnapshotRegistry.ConnectedNodes),
              "told a stopped watcher: " + dead);
          return null;
        });
  }

  private XdsStatus status() {
    TestProbe<XdsStatus> probe = testKit.createTestProbe();
    registry.tell(new GetStatus(probe.ref()));
    return probe.receiveMessage();
  }

  /** The snapshot {@code nodeId} is served now, as a stream that connects now gets it. */
  private Optional<XdsSnapshot> snapshot(String nodeId) {
    TestProbe<XdsSnapshot> probe = testKit.createTestProbe();
    registry.tell(new Subscribe(initial(999, nodeId), probe.ref()));
    XdsSnapshot current = probe.receiveMessage();
    registry.tell(new StreamClosed(999));
    return Optional.of(current);
  }

  private static StreamStatus initial(long streamId, String nodeId) {
    return new StreamStatus(streamId, nodeId, OPENED, null, List.of());
  }
}
