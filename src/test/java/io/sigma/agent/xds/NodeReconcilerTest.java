package io.sigma.agent.xds;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.Level;
import io.sigma.agent.api.EnvoyNode;
import io.sigma.agent.api.EnvoyRoute;
import io.sigma.agent.api.SigmaApi;
import io.sigma.agent.api.SigmaApiException;
import io.sigma.agent.host.LogCapture;
import io.sigma.agent.retry.Backoff;
import java.io.IOException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.random.RandomGenerator;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/**
 * The poller's decisions without an actor: each test feeds the reconciler what sigma-api answered
 * and checks the effects it asks for, with a fixed clock (serials are the clock's milliseconds or
 * the previous serial + 1) and seeded randomness.
 */
class NodeReconcilerTest {

  private static final String VPS = "vps-1";
  private static final long NOW_MILLIS = 1_700_000_000_000L;
  private static final Duration INTERVAL = Duration.ofSeconds(10);
  private static final Backoff BACKOFF =
      new Backoff(Duration.ofSeconds(20), Duration.ofSeconds(80));

  /** Draws the highest value every time: every delay is at the top of its range. */
  private static final RandomGenerator HIGHEST =
      new RandomGenerator() {
        @Override
        public long nextLong() {
          return Long.MAX_VALUE;
        }

        @Override
        public long nextLong(long bound) {
          return bound - 1;
        }
      };

  private final List<String> events = new ArrayList<>();
  private final PollerEvents recording =
      new PollerEvents() {
        @Override
        public void onPollFinished(PollResult result, Duration duration) {
          events.add("poll " + result);
        }

        @Override
        public void onSnapshotServed(
            String nodeId,
            long version,
            int routeCount,
            Map<RejectedRoute.Reason, Integer> rejected) {
          events.add(
              "served " + nodeId + " v" + version + " routes " + routeCount + " " + rejected);
        }

        @Override
        public void onNodeRemoved(String nodeId) {
          events.add("removed " + nodeId);
        }

        @Override
        public void onRoutesFetchFailed(String nodeId) {
          events.add("fetch failed " + nodeId);
        }
      };
  private final LogCapture logs = new LogCapture(NodeReconcilerTest.class);
  private final NodeReconciler reconciler = reconciler(2);

  private NodeReconciler reconciler(int concurrency) {
    return new NodeReconciler(
        new ConfigPoller.Settings(INTERVAL, BACKOFF, concurrency),
        recording,
        Clock.fixed(Instant.ofEpochMilli(NOW_MILLIS), ZoneOffset.UTC),
        HIGHEST,
        LoggerFactory.getLogger(NodeReconcilerTest.class));
  }

  @AfterEach
  void closeLogs() {
    logs.close();
  }

  private static EnvoyNode node(String nodeId, long version) {
    return node("uuid-" + nodeId, nodeId, version);
  }

  private static EnvoyNode node(String uuid, String nodeId, long version) {
    return new EnvoyNode(uuid, VPS, nodeId, 9901, null, version, "active", null, null);
  }

  private static List<EnvoyRoute> routes(String... names) {
    List<EnvoyRoute> routes = new ArrayList<>();
    for (int i = 0; i < names.length; i++) {
      routes.add(Routes.route(names[i], 10000 + i, "backend.example", 80));
    }
    return routes;
  }

  private static <T extends NodeReconciler.Effect> List<T> of(
      Class<T> type, List<NodeReconciler.Effect> effects) {
    return effects.stream().filter(type::isInstance).map(type::cast).toList();
  }

  private static <T extends NodeReconciler.Effect> T one(
      Class<T> type, List<NodeReconciler.Effect> effects) {
    List<T> found = of(type, effects);
    assertEquals(1, found.size(), type.getSimpleName() + " in " + effects);
    return found.get(0);
  }

  /** The poll id the reconciler starts when it learns the VPS id. */
  private long identify() {
    return one(NodeReconciler.ListNodes.class, reconciler.onVpsKnown(VPS)).poll();
  }

  /** Reads {@code node}'s routes consistently (routes, then the same node in the re-check). */
  private List<NodeReconciler.Effect> read(long poll, EnvoyNode node, List<EnvoyRoute> routes) {
    NodeReconciler.RecheckNode recheck =
        one(NodeReconciler.RecheckNode.class, reconciler.onRoutesRead(poll, node, 1, routes, null));
    assertEquals(VPS, recheck.vpsId());
    return reconciler.onNodeRechecked(
        poll, recheck.node(), recheck.attempt(), recheck.routes(), List.of(node), null);
  }

  /** A whole successful poll of {@code nodes}, each with {@code routes}; returns every effect. */
  private List<NodeReconciler.Effect> poll(long poll, List<EnvoyNode> nodes, List<EnvoyRoute> r) {
    List<NodeReconciler.Effect> all = new ArrayList<>(reconciler.onNodesListed(poll, nodes, null));
    List<NodeReconciler.ReadRoutes> reads =
        new ArrayList<>(of(NodeReconciler.ReadRoutes.class, all));
    for (int i = 0; i < reads.size(); i++) {
      List<NodeReconciler.Effect> effects = read(poll, reads.get(i).node(), r);
      all.addAll(effects);
      reads.addAll(of(NodeReconciler.ReadRoutes.class, effects));
    }
    return all;
  }

  @Test
  void nothingIsPolledBeforeTheVpsIdIsKnown() {
    assertEquals(List.of(), reconciler.onTick());
    assertEquals(List.of(), reconciler.onPollNow());
    assertEquals(List.of(), reconciler.onIntervalChanged(Duration.ofSeconds(5)));
    assertNull(reconciler.status(List.of(), null).vpsId());
  }

  @Test
  void theVpsIdStartsAPollOnceAndAgainOnlyWhenItChanges() {
    List<NodeReconciler.Effect> effects = reconciler.onVpsKnown(VPS);
    assertEquals(
        List.of(new NodeReconciler.VpsChanged(VPS), new NodeReconciler.ListNodes(1, VPS)), effects);
    assertEquals(List.of(), reconciler.onVpsKnown(VPS), "the same id again changes nothing");
    assertTrue(reconciler.status(List.of(), null).pollInFlight());
    assertEquals(
        List.of(new NodeReconciler.VpsChanged("vps-2"), new NodeReconciler.ListNodes(2, "vps-2")),
        reconciler.onVpsKnown("vps-2"));
    assertEquals("vps-2", reconciler.vpsId());
    // The answer to the first poll, about the old id, is ignored.
    assertEquals(List.of(), reconciler.onNodesListed(1, List.of(node("edge", 1)), null));
  }

  @Test
  void aListingFetchesTheChangedNodesAtMostConcurrencyAtATime() {
    long poll = identify();
    List<NodeReconciler.Effect> listed =
        reconciler.onNodesListed(poll, List.of(node("a", 1), node("b", 1), node("c", 1)), null);
    assertEquals(
        new NodeReconciler.Listed(VPS, List.of(node("a", 1), node("b", 1), node("c", 1))),
        one(NodeReconciler.Listed.class, listed));
    assertEquals(
        List.of(
            new NodeReconciler.ReadRoutes(poll, node("a", 1), 1),
            new NodeReconciler.ReadRoutes(poll, node("b", 1), 1)),
        of(NodeReconciler.ReadRoutes.class, listed),
        "two at a time");
    List<NodeReconciler.Effect> afterA = read(poll, node("a", 1), routes("r1"));
    assertEquals(
        List.of(new NodeReconciler.ReadRoutes(poll, node("c", 1), 1)),
        of(NodeReconciler.ReadRoutes.class, afterA),
        "c once a is done");
    assertEquals(List.of(), of(NodeReconciler.SchedulePoll.class, afterA), "b and c still out");
    assertTrue(reconciler.status(List.of(), null).pollInFlight());
    read(poll, node("b", 1), routes("r1"));
    List<NodeReconciler.Effect> last = read(poll, node("c", 1), routes("r1"));
    assertEquals(
        Duration.ofSeconds(15),
        one(NodeReconciler.SchedulePoll.class, last).delay(),
        "the second poll at a random point of a whole interval (from half of it on)");
    PollerStatus status = reconciler.status(List.of(), null);
    assertFalse(status.pollInFlight());
    assertEquals(PollResult.SUCCESS, status.lastResult());
    assertEquals(Instant.ofEpochMilli(NOW_MILLIS), status.lastSuccessAt());
    assertEquals(Instant.ofEpochMilli(NOW_MILLIS), status.lastPollAt());
    assertTrue(events.contains("poll SUCCESS"), events.toString());
  }

  @Test
  void aConsistentReadIsServedLabelledWithItsVersionAndSaved() {
    long poll = identify();
    reconciler.onNodesListed(poll, List.of(node("edge", 4)), null);
    List<NodeReconciler.Effect> effects = read(poll, node("edge", 4), routes("web", "db"));
    NodeReconciler.Serve serve = one(NodeReconciler.Serve.class, effects);
    assertFalse(serve.onlyIfAbsent(), "a fresh config replaces what is served");
    assertEquals("edge", serve.snapshot().nodeId());
    assertEquals(4, serve.snapshot().version());
    assertEquals(NOW_MILLIS, serve.snapshot().serial(), "the clock's milliseconds at first");
    assertEquals(2, serve.snapshot().routeCount());
    NodeReconciler.Save save = one(NodeReconciler.Save.class, effects);
    assertEquals(new NodeConfig(node("edge", 4), routes("web", "db")), save.config());
    assertEquals(NOW_MILLIS, save.serial());
    assertEquals(List.of("served edge v4 routes 2 {}", "poll SUCCESS"), events);
    assertEquals(
        List.of(
            "xDS: Envoy node edge now at config_version 4 (version_info 1700000000000): "
                + "2 route(s) served"),
        logs.messages(Level.INFO).stream().filter(m -> m.contains("now at")).toList());
    PollerStatus.Node status = reconciler.status(List.of(), null).node("edge");
    assertEquals(4L, status.servedVersion());
    assertEquals(4L, status.apiConfigVersion());
    assertEquals("uuid-edge", status.envoyNodeUuid());
  }

  @Test
  void anUnchangedNodeIsNotFetchedAgainButANewVersionOrUuidIs() {
    long poll = identify();
    poll(poll, List.of(node("edge", 1)), routes("web"));
    long second = one(NodeReconciler.ListNodes.class, reconciler.onTick()).poll();
    List<NodeReconciler.Effect> unchanged =
        reconciler.onNodesListed(second, List.of(node("edge", 1)), null);
    assertEquals(List.of(), of(NodeReconciler.ReadRoutes.class, unchanged));
    assertEquals(1, of(NodeReconciler.SchedulePoll.class, unchanged).size(), "the poll is over");

    long third = one(NodeReconciler.ListNodes.class, reconciler.onTick()).poll();
    assertEquals(
        List.of(new NodeReconciler.ReadRoutes(third, node("edge", 2), 1)),
        of(
            NodeReconciler.ReadRoutes.class,
            reconciler.onNodesListed(third, List.of(node("edge", 2)), null)));
    NodeReconciler.Serve v2 =
        one(NodeReconciler.Serve.class, read(third, node("edge", 2), routes("web")));
    assertEquals(NOW_MILLIS + 1, v2.snapshot().serial(), "the previous serial + 1");

    long fourth = one(NodeReconciler.ListNodes.class, reconciler.onTick()).poll();
    EnvoyNode recreated = node("uuid-new", "edge", 2);
    assertEquals(
        List.of(new NodeReconciler.ReadRoutes(fourth, recreated, 1)),
        of(
            NodeReconciler.ReadRoutes.class,
            reconciler.onNodesListed(fourth, List.of(recreated), null)),
        "same config_version, another node: fetched");
  }

  @Test
  void savedConfigsAreServedOnlyWhereTheRegistryHasNothingAndSavedAgainAboveTheirSerial() {
    NodeConfig saved = new NodeConfig(node("edge", 3), routes("web"));
    List<NodeReconciler.Effect> effects =
        reconciler.serveSaved(List.of(new NodeConfigStore.Saved(saved, NOW_MILLIS + 40)));
    NodeReconciler.Serve serve = one(NodeReconciler.Serve.class, effects);
    assertTrue(serve.onlyIfAbsent(), "never over a fresher snapshot (a restarted poller)");
    assertEquals(3, serve.snapshot().version());
    assertEquals(NOW_MILLIS + 41, serve.snapshot().serial(), "above the saved serial");
    assertEquals(
        new NodeReconciler.Save(saved, NOW_MILLIS + 41), one(NodeReconciler.Save.class, effects));
    assertEquals(Set.of("edge"), served());
    assertEquals(List.of(), logs.messages(Level.INFO), "not logged as a new version");
    PollerStatus.Node status = reconciler.status(List.of(), null).node("edge");
    assertEquals(3L, status.servedVersion());
    assertNull(status.apiConfigVersion(), "not listed yet");
    assertEquals("uuid-edge", status.envoyNodeUuid());

    long poll = identify();
    assertEquals(
        List.of(),
        of(
            NodeReconciler.ReadRoutes.class,
            reconciler.onNodesListed(poll, List.of(node("edge", 3)), null)),
        "the saved config is the listed one");
  }

  @Test
  void aNodeGoneFromTheListingIsRemovedWithANewSerialAndForgotten() {
    long poll = identify();
    poll(poll, List.of(node("edge", 1), node("gone", 1)), routes("web"));
    long second = one(NodeReconciler.ListNodes.class, reconciler.onTick()).poll();
    List<NodeReconciler.Effect> effects =
        reconciler.onNodesListed(second, List.of(node("edge", 1)), null);
    NodeReconciler.Remove remove = one(NodeReconciler.Remove.class, effects);
    assertEquals("gone", remove.nodeId());
    assertEquals(NOW_MILLIS + 1, remove.serial(), "above the served serial");
    assertEquals(
        new NodeReconciler.DeleteSaved("gone"), one(NodeReconciler.DeleteSaved.class, effects));
    assertTrue(events.contains("removed gone"), events.toString());
    assertEquals(Set.of("edge"), served());
    assertNull(reconciler.status(List.of(), null).node("gone"));

    // Re-created: its serials go on above the removal's.
    long third = one(NodeReconciler.ListNodes.class, reconciler.onTick()).poll();
    reconciler.onNodesListed(third, List.of(node("edge", 1), node("gone", 1)), null);
    NodeReconciler.Serve back =
        one(NodeReconciler.Serve.class, read(third, node("gone", 1), routes("web")));
    assertEquals(NOW_MILLIS + 2, back.snapshot().serial());
  }

  /** A listing of {@code nodes} as long as a full page (null entries, skipped, fill it up). */
  private static List<EnvoyNode> fullPage(EnvoyNode... nodes) {
    List<EnvoyNode> page = new ArrayList<>(Collections.nCopies(SigmaApi.MAX_PER_PAGE, null));
    page.addAll(List.of(nodes));
    return page;
  }

  @Test
  void aMultiPageListingRemovesANodeOnlyWhenTwoListingsInARowMissIt() {
    long poll = identify();
    poll(poll, List.of(node("gone", 1), node("edge", 1)), routes("web"));
    long second = one(NodeReconciler.ListNodes.class, reconciler.onTick()).poll();
    List<NodeReconciler.Effect> first =
        reconciler.onNodesListed(second, fullPage(node("edge", 1)), null);
    assertEquals(List.of(), of(NodeReconciler.Remove.class, first), "missed once: kept");
    assertTrue(served().contains("gone"));
    assertTrue(logs.messages(Level.INFO).stream().anyMatch(m -> m.contains("multi-page")));
    long third = one(NodeReconciler.ListNodes.class, reconciler.onTick()).poll();
    assertEquals(
        "gone",
        one(
                NodeReconciler.Remove.class,
                reconciler.onNodesListed(third, fullPage(node("edge", 1)), null))
            .nodeId(),
        "missed twice in a row");
  }

  @Test
  void aListingShorterThanAPageIsAtomicAndOneMissRemoves() {
    long poll = identify();
    poll(poll, List.of(node("gone", 1), node("edge", 1)), routes("web"));
    long second = one(NodeReconciler.ListNodes.class, reconciler.onTick()).poll();
    List<EnvoyNode> almostAPage =
        new ArrayList<>(fullPage(node("edge", 1)).subList(2, SigmaApi.MAX_PER_PAGE + 1));
    assertEquals(SigmaApi.MAX_PER_PAGE - 1, almostAPage.size());
    assertEquals(
        "gone",
        one(NodeReconciler.Remove.class, reconciler.onNodesListed(second, almostAPage, null))
            .nodeId());
  }

  @Test
  void aMultiPageMissFollowedByAListingWithTheNodeForgetsTheMiss() {
    long poll = identify();
    poll(poll, List.of(node("flaky", 1)), routes("web"));
    long p2 = one(NodeReconciler.ListNodes.class, reconciler.onTick()).poll();
    reconciler.onNodesListed(p2, fullPage(), null);
    long p3 = one(NodeReconciler.ListNodes.class, reconciler.onPollNow()).poll();
    reconciler.onNodesListed(p3, fullPage(node("flaky", 1)), null);
    long p4 = one(NodeReconciler.ListNodes.class, reconciler.onPollNow()).poll();
    assertEquals(
        List.of(),
        of(NodeReconciler.Remove.class, reconciler.onNodesListed(p4, fullPage(), null)),
        "missed once again, not twice in a row");
    long p5 = one(NodeReconciler.ListNodes.class, reconciler.onPollNow()).poll();
    assertEquals(
        1, of(NodeReconciler.Remove.class, reconciler.onNodesListed(p5, fullPage(), null)).size());
  }

  @Test
  void aVpsChangeForgetsTheMissesOfTheOldOne() {
    long poll = identify();
    poll(poll, List.of(node("flaky", 1)), routes("web"));
    long p2 = one(NodeReconciler.ListNodes.class, reconciler.onTick()).poll();
    reconciler.onNodesListed(p2, fullPage(), null);
    long p3 = one(NodeReconciler.ListNodes.class, reconciler.onVpsKnown("vps-2")).poll();
    assertEquals(
        List.of(),
        of(NodeReconciler.Remove.class, reconciler.onNodesListed(p3, fullPage(), null)),
        "the first miss under the new id");
  }

  @Test
  void aFailedListingChangesNothingAndBacksOffAboveTheInterval() {
    long poll = identify();
    poll(poll, List.of(node("edge", 1)), routes("web"));
    long second = one(NodeReconciler.ListNodes.class, reconciler.onTick()).poll();
    List<NodeReconciler.Effect> effects =
        reconciler.onNodesListed(second, null, SigmaApiException.httpStatus(503, "busy"));
    assertEquals(
        List.of(new NodeReconciler.SchedulePoll(Duration.ofSeconds(20))),
        effects,
        "nothing removed, nothing fetched; the backoff (20 s) beats the interval (11 s)");
    PollerStatus status = reconciler.status(List.of(), null);
    assertEquals(PollResult.FAILURE, status.lastResult());
    assertEquals("HTTP 503: busy", status.lastError());
    assertEquals(1, status.consecutiveFailures());
    assertEquals(Instant.ofEpochMilli(NOW_MILLIS), status.lastSuccessAt(), "the first poll");
    assertEquals(1L, status.node("edge").servedVersion());
    assertTrue(events.contains("poll FAILURE"), events.toString());
    assertEquals(1, logs.messages(Level.WARN).size(), logs.messages(Level.WARN).toString());
    assertTrue(
        logs.messages(Level.WARN).get(0).contains("(1 failure(s) in a row): HTTP 503: busy"),
        logs.messages(Level.WARN).get(0));

    long third = one(NodeReconciler.ListNodes.class, reconciler.onTick()).poll();
    assertEquals(
        List.of(new NodeReconciler.SchedulePoll(Duration.ofSeconds(40))),
        reconciler.onNodesListed(third, null, new IOException("connection reset")),
        "growing");
    assertEquals("IOException: connection reset", reconciler.status(List.of(), null).lastError());
    assertEquals(2, reconciler.status(List.of(), null).consecutiveFailures());
    long fourth = one(NodeReconciler.ListNodes.class, reconciler.onTick()).poll();
    assertEquals(
        List.of(
            new NodeReconciler.Listed(VPS, List.of(node("edge", 1))),
            new NodeReconciler.SchedulePoll(Duration.ofSeconds(11))),
        reconciler.onNodesListed(fourth, List.of(node("edge", 1)), null),
        "the interval +10% again");
    assertEquals(0, reconciler.status(List.of(), null).consecutiveFailures());
    assertNull(reconciler.status(List.of(), null).lastError());
    assertTrue(
        logs.messages(Level.INFO).stream().anyMatch(m -> m.contains("after 2 failed poll(s)")));
  }

  @Test
  void aFirstListingThatFailsBacksOffFromTheSpreadInterval() {
    NodeReconciler slow =
        new NodeReconciler(
            new ConfigPoller.Settings(Duration.ofSeconds(100), BACKOFF, 2),
            recording,
            Clock.fixed(Instant.ofEpochMilli(NOW_MILLIS), ZoneOffset.UTC),
            HIGHEST,
            LoggerFactory.getLogger(NodeReconcilerTest.class));
    long poll = one(NodeReconciler.ListNodes.class, slow.onVpsKnown(VPS)).poll();
    assertEquals(
        List.of(new NodeReconciler.SchedulePoll(Duration.ofSeconds(150))),
        slow.onNodesListed(poll, null, SigmaApiException.timeout("down")),
        "never sooner than the interval");
    assertNull(slow.status(List.of(), null).lastSuccessAt());
  }

  @Test
  void aFailedRoutesFetchKeepsTheServedConfigAndMakesThePollPartial() {
    long poll = identify();
    poll(poll, List.of(node("edge", 1)), routes("web"));
    long second = one(NodeReconciler.ListNodes.class, reconciler.onTick()).poll();
    reconciler.onNodesListed(second, List.of(node("edge", 2)), null);
    List<NodeReconciler.Effect> effects =
        reconciler.onRoutesRead(
            second, node("edge", 2), 1, null, SigmaApiException.timeout("timed out"));
    assertEquals(List.of(), of(NodeReconciler.Serve.class, effects));
    assertEquals(1, of(NodeReconciler.SchedulePoll.class, effects).size());
    PollerStatus status = reconciler.status(List.of(), null);
    assertEquals(PollResult.PARTIAL, status.lastResult());
    assertEquals("timed out", status.node("edge").lastFetchError());
    assertEquals(Instant.ofEpochMilli(NOW_MILLIS), status.node("edge").lastFetchErrorAt());
    assertEquals(1L, status.node("edge").servedVersion(), "still served");
    assertEquals(2L, status.node("edge").apiConfigVersion());
    assertTrue(events.contains("fetch failed edge"));
    assertEquals(
        List.of(
            "xDS: cannot fetch the routes of Envoy node edge (config_version 2): timed out; keeping "
                + "its config_version 1 (version_info 1700000000000); retrying at the next poll"),
        logs.messages(Level.WARN));

    long third = one(NodeReconciler.ListNodes.class, reconciler.onTick()).poll();
    reconciler.onNodesListed(third, List.of(node("edge", 2)), null);
    reconciler.onRoutesRead(third, node("edge", 2), 1, null, SigmaApiException.timeout("again"));
    assertEquals(1, logs.messages(Level.WARN).size(), "a streak is warned about once");
    assertEquals("again", reconciler.status(List.of(), null).node("edge").lastFetchError());

    long fourth = one(NodeReconciler.ListNodes.class, reconciler.onTick()).poll();
    reconciler.onNodesListed(fourth, List.of(node("edge", 2)), null);
    read(fourth, node("edge", 2), routes("web"));
    assertNull(reconciler.status(List.of(), null).node("edge").lastFetchError());
    assertTrue(
        logs.messages(Level.INFO).stream()
            .anyMatch(m -> m.contains("fetched again after 2 failed attempt(s)")));
  }

  @Test
  void aNodeWithoutConfigThatFailsSaysItsEnvoysKeepWaiting() {
    long poll = identify();
    reconciler.onNodesListed(poll, List.of(node("new", 1)), null);
    reconciler.onRoutesRead(poll, node("new", 1), 1, null, SigmaApiException.timeout("slow"));
    assertTrue(logs.messages(Level.WARN).get(0).contains("it has no config yet"));
  }

  @Test
  void aReadTornBetweenPagesIsReadAgainAfterAShortPause() {
    long poll = identify();
    reconciler.onNodesListed(poll, List.of(node("edge", 1)), null);
    List<NodeReconciler.Effect> effects =
        reconciler.onRoutesRead(
            poll, node("edge", 1), 1, null, SigmaApiException.listingChanged("page 2 is short"));
    NodeReconciler.ReadAgainLater later = one(NodeReconciler.ReadAgainLater.class, effects);
    assertEquals(poll, later.poll());
    assertEquals(node("edge", 1), later.node());
    assertEquals(2, later.attempt());
    assertEquals(Duration.ofMillis(200), later.pause(), "the read retry backoff's first step");
    assertEquals(
        List.of(new NodeReconciler.ReadRoutes(poll, node("edge", 1), 2)),
        reconciler.onReadAgain(poll, node("edge", 1), 2));
    assertEquals(List.of(), reconciler.onReadAgain(poll + 1, node("edge", 1), 2), "not this poll");
  }

  @Test
  void aNodeThatChangedDuringTheReadIsReadAgainFromItsNewVersionThenGivenUp() {
    long poll = identify();
    reconciler.onNodesListed(poll, List.of(node("edge", 1)), null);
    List<NodeReconciler.Effect> moved =
        reconciler.onNodeRechecked(
            poll, node("edge", 1), 1, routes("web"), List.of(node("edge", 2)), null);
    assertEquals(List.of(), of(NodeReconciler.Serve.class, moved), "a torn read is never served");
    NodeReconciler.ReadAgainLater later = one(NodeReconciler.ReadAgainLater.class, moved);
    assertEquals(node("edge", 2), later.node(), "from the node as listed now");
    assertEquals(2, later.attempt());

    List<NodeReconciler.Effect> gone =
        reconciler.onNodeRechecked(poll, node("edge", 2), 2, routes("web"), List.of(), null);
    assertEquals(3, one(NodeReconciler.ReadAgainLater.class, gone).attempt());
    assertEquals(Duration.ofMillis(400), one(NodeReconciler.ReadAgainLater.class, gone).pause());

    List<NodeReconciler.Effect> recreated =
        reconciler.onNodeRechecked(
            poll,
            node("edge", 2),
            ConfigPoller.MAX_READ_ATTEMPTS,
            routes("web"),
            List.of(node("uuid-other", "edge", 2)),
            null);
    assertEquals(List.of(), of(NodeReconciler.ReadAgainLater.class, recreated));
    assertEquals(1, of(NodeReconciler.SchedulePoll.class, recreated).size(), "given up: poll over");
    String error = reconciler.status(List.of(), null).node("edge").lastFetchError();
    assertTrue(
        error.contains("changed while being read, 3 reads in a row")
            && error.contains("a new node, id uuid-other"),
        error);
    assertEquals(PollResult.PARTIAL, reconciler.status(List.of(), null).lastResult());
  }

  @Test
  void aReCheckThatFailsIsAFailedFetch() {
    long poll = identify();
    reconciler.onNodesListed(poll, List.of(node("edge", 1)), null);
    List<NodeReconciler.Effect> effects =
        reconciler.onNodeRechecked(
            poll, node("edge", 1), 1, routes("web"), null, SigmaApiException.timeout("slow"));
    assertEquals(List.of(), of(NodeReconciler.Serve.class, effects));
    assertTrue(
        reconciler
            .status(List.of(), null)
            .node("edge")
            .lastFetchError()
            .contains("cannot read its config_version again"));
  }

  @Test
  void theReCheckTakesTheFirstUsableEntryOfTheNode() {
    long poll = identify();
    reconciler.onNodesListed(poll, List.of(node("edge", 1)), null);
    List<NodeReconciler.Effect> effects =
        reconciler.onNodeRechecked(
            poll,
            node("edge", 1),
            1,
            routes("web"),
            java.util.Arrays.asList(
                null,
                node(null, "edge", 7),
                node(" ", "edge", 7),
                node("other", 5),
                node("edge", 1),
                node("edge", 9)),
            null);
    assertEquals(1, one(NodeReconciler.Serve.class, effects).snapshot().version());
  }

  @Test
  void badListingEntriesAreSkippedAndWarnedAboutOnce() {
    long poll = identify();
    List<EnvoyNode> listing =
        java.util.Arrays.asList(
            null,
            node(null, "no-uuid", 1),
            node("", "blank-uuid", 1),
            node("uuid-x", null, 1),
            node("uuid-y", " ", 1),
            node("first", "dup", 1),
            node("second", "dup", 2));
    List<NodeReconciler.Effect> effects = reconciler.onNodesListed(poll, listing, null);
    assertEquals(
        List.of(new NodeReconciler.ReadRoutes(poll, node("first", "dup", 1), 1)),
        of(NodeReconciler.ReadRoutes.class, effects));
    List<String> warnings = logs.messages(Level.WARN);
    assertEquals(5, warnings.size(), warnings.toString());
    assertTrue(warnings.get(4).contains("lists node_id dup twice for VPS vps-1"), warnings.get(4));
    reconciler.onVpsKnown("vps-2");
    reconciler.onNodesListed(poll + 1, listing, null);
    assertEquals(5, logs.messages(Level.WARN).size(), "once per entry");
  }

  @Test
  void pollNowDuringAPollStartsTheNextOneRightAfterIt() {
    long poll = identify();
    assertEquals(List.of(), reconciler.onPollNow(), "one poll at a time");
    assertEquals(List.of(), reconciler.onTick(), "one poll at a time");
    List<NodeReconciler.Effect> end = reconciler.onNodesListed(poll, List.of(), null);
    assertEquals(List.of(), of(NodeReconciler.SchedulePoll.class, end));
    assertEquals(poll + 1, one(NodeReconciler.ListNodes.class, end).poll());
    assertEquals(
        1,
        of(NodeReconciler.SchedulePoll.class, reconciler.onNodesListed(poll + 1, List.of(), null))
            .size(),
        "asked once, polled once");
    assertEquals(poll + 2, one(NodeReconciler.ListNodes.class, reconciler.onPollNow()).poll());
  }

  @Test
  void aNewIntervalReschedulesAnIdlePollerOnly() {
    long poll = identify();
    assertEquals(List.of(), reconciler.onIntervalChanged(Duration.ofSeconds(100)), "in flight");
    assertEquals(
        List.of(new NodeReconciler.SchedulePoll(Duration.ofSeconds(150))),
        of(NodeReconciler.SchedulePoll.class, reconciler.onNodesListed(poll, List.of(), null)),
        "the poll in flight ends with the new interval");
    assertEquals(Duration.ofSeconds(100), reconciler.status(List.of(), null).pollInterval());
    assertEquals(
        List.of(new NodeReconciler.SchedulePoll(Duration.ofMillis(1100))),
        reconciler.onIntervalChanged(Duration.ofSeconds(1)),
        "an idle poller waits one new interval (+-10%)");
    assertEquals(Duration.ofSeconds(1), reconciler.status(List.of(), null).pollInterval());

    long failing = one(NodeReconciler.ListNodes.class, reconciler.onTick()).poll();
    reconciler.onNodesListed(failing, null, SigmaApiException.timeout("down"));
    assertEquals(
        List.of(), reconciler.onIntervalChanged(Duration.ofSeconds(2)), "backing off: kept");
  }

  @Test
  void rejectedRoutesAreCountedAndTheFirstOnesListed() {
    long poll = identify();
    reconciler.onNodesListed(poll, List.of(node("edge", 1)), null);
    List<EnvoyRoute> routes = new ArrayList<>(routes("web"));
    for (int i = 0; i < ConfigPoller.MAX_REJECTED_IN_STATUS + 5; i++) {
      routes.add(Routes.route("p" + i, 20000 + i, null, null));
    }
    read(poll, node("edge", 1), routes);
    PollerStatus.Node status = reconciler.status(List.of(), null).node("edge");
    assertEquals(ConfigPoller.MAX_REJECTED_IN_STATUS + 5, status.rejectedRouteCount());
    assertEquals(ConfigPoller.MAX_REJECTED_IN_STATUS, status.rejectedRoutes().size());
    PollerStatus.Rejected first = status.rejectedRoutes().get(0);
    assertEquals("p0", first.name());
    assertEquals(20000, first.listenPort());
    assertEquals("PLACEHOLDER", first.reason());
    assertTrue(first.message().contains("p0"), first.message());
    assertTrue(events.contains("served edge v1 routes 1 {PLACEHOLDER=55}"), events.toString());
    assertTrue(
        logs.messages(Level.INFO).stream()
            .anyMatch(m -> m.contains("1 route(s) served, left out: {PLACEHOLDER=55}")));
    assertEquals(
        ConfigPoller.MAX_REJECTED_IN_STATUS + 5,
        logs.messages(Level.INFO).stream().filter(m -> m.contains("skipped")).count());
  }

  @Test
  void anInvalidRouteIsWarnedAbout() {
    long poll = identify();
    reconciler.onNodesListed(poll, List.of(node("edge", 1)), null);
    read(poll, node("edge", 1), List.of(Routes.route("bad", 70000, "backend.example", 80)));
    assertTrue(
        logs.messages(Level.WARN).stream().anyMatch(m -> m.contains("v1: invalid")),
        logs.messages(Level.WARN).toString());
  }

  @Test
  void theStatusListsListedAndServedNodesWithTheSaverState() {
    long poll = identify();
    reconciler.onNodesListed(poll, List.of(node("b", 2), node("a", 1)), null);
    PollerStatus status = reconciler.status(List.of("a"), "disk full");
    assertEquals(
        List.of("a", "b"), status.nodes().stream().map(PollerStatus.Node::nodeId).toList());
    assertNull(status.node("a").servedVersion());
    assertEquals(1L, status.node("a").apiConfigVersion());
    assertEquals(List.of("a"), status.unsavedNodes());
    assertEquals("disk full", status.lastSaveError());
    assertEquals(VPS, status.vpsId());
  }

  @Test
  void aNodeReadAgainFromANewerVersionIsListedAtTheVersionServed() {
    long poll = identify();
    reconciler.onNodesListed(poll, List.of(node("edge", 1)), null);
    NodeReconciler.ReadAgainLater later =
        one(
            NodeReconciler.ReadAgainLater.class,
            reconciler.onNodeRechecked(
                poll, node("edge", 1), 1, routes("web"), List.of(node("edge", 2)), null));
    assertEquals(1L, reconciler.status(List.of(), null).node("edge").apiConfigVersion());
    reconciler.onRoutesRead(poll, later.node(), later.attempt(), routes("web"), null);
    reconciler.onNodeRechecked(
        poll, later.node(), later.attempt(), routes("web"), List.of(node("edge", 2)), null);
    PollerStatus.Node status = reconciler.status(List.of(), null).node("edge");
    assertEquals(2L, status.servedVersion());
    assertEquals(2L, status.apiConfigVersion(), "the listing follows the consistent read");
  }

  /** The node.ids served now. */
  private Set<String> served() {
    return reconciler.status(List.of(), null).nodes().stream()
        .filter(n -> n.servedVersion() != null)
        .map(PollerStatus.Node::nodeId)
        .collect(Collectors.toSet());
  }
}
