package io.sigma.agent.xds;

import static io.sigma.agent.devapi.DevApiAdmin.admin;
import static io.sigma.agent.xds.AdsTestClient.clusterNames;
import static io.sigma.agent.xds.AdsTestClient.listenerNames;
import static io.sigma.agent.xds.PolledControlPlane.AWAIT;
import static io.sigma.agent.xds.PolledControlPlane.type;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.Level;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryResponse;
import io.sigma.agent.AgentRuntime;
import io.sigma.agent.api.EnvoyNode;
import io.sigma.agent.api.EnvoyRoute;
import io.sigma.agent.api.Page;
import io.sigma.agent.api.SigmaApi;
import io.sigma.agent.devapi.EndpointKind;
import io.sigma.agent.devapi.FaultInjectingDevApi;
import io.sigma.agent.devapi.RouteSpec;
import io.sigma.agent.host.LogCapture;
import io.sigma.agent.testing.DelegatingSigmaApi;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.IntConsumer;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What Envoy is served stays consistent while sigma-api changes under the agent, across node
 * re-creations, restarts and a failing state dir: the dev sigma-api over real HTTP, the poller, the
 * registry and the ADS server over real gRPC, real files.
 */
class ConfigPollerConsistencyIT {

  /** Polls only when a test asks ({@link PolledControlPlane#pollNow}). */
  private static final Duration NO_TIMED_POLLS = Duration.ofHours(1);

  private static final Duration POLL = Duration.ofMillis(200);

  private static ActorTestKit testKit;

  @TempDir Path tmp;

  private DevApiWithVps fixture;
  private FaultInjectingDevApi devApi;
  private SigmaApi http;
  private String vpsId;

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
    fixture = DevApiWithVps.start(testKit.system(), "xds-consistency-");
    devApi = fixture.devApi();
    http = fixture.http();
    vpsId = fixture.vpsId();
  }

  @AfterEach
  void stopApi() throws Exception {
    fixture.close();
  }

  // ------------------------------------------------------------------ torn paged reads

  @Test
  void aRouteDeletedBetweenTwoPageReadsIsNeverServedTornAndTheReadIsRetried() throws Exception {
    EnvoyNode node = admin(devApi).addNode(vpsId, "big");
    List<EnvoyRoute> routes = addRoutes(node, 150);
    long listed = configVersion(node);
    // The first read's second page comes after a route of its first page is deleted: that page
    // then starts one row later (r101), and a read that trusts it loses r100, which never changed.
    EditsBeforeSecondPage api =
        new EditsBeforeSecondPage(http, 1, edit -> admin(devApi).deleteRoute(routes.get(10).id()));
    Path stateDir = tmp.resolve("xds");
    try (LogCapture logs = new LogCapture(ConfigPoller.class);
        PolledControlPlane agent =
            PolledControlPlane.start(testKit, api, stateDir, NO_TIMED_POLLS);
        AdsTestClient envoy = agent.connect("big")) {
      agent.identify(vpsId);
      DiscoveryResponse[] handshake = envoy.handshake();

      List<String> listeners = listenerNames(handshake[1]);
      assertTrue(listeners.contains("listener-r100"), "the route that never changed is served");
      assertFalse(listeners.contains("listener-r10"), "the deleted route is not");
      assertEquals(149, listeners.size());
      assertEquals(149, handshake[0].getResourcesCount());
      PollerStatus poll = agent.awaitPoller(s -> s.lastResult() != null);
      assertEquals(PollResult.SUCCESS, poll.lastResult());
      assertNull(poll.node("big").lastFetchError());
      assertEquals(listed + 1, configVersion(node), "the deletion bumped the config_version");
      assertEquals(listed + 1, poll.node("big").servedVersion(), "labelled with the version read");
      assertEquals(listed + 1, agent.status().node("big").snapshotVersion());
      assertTrue(devApi.stats().total(EndpointKind.ENVOY_ROUTES) >= 4, "two reads of two pages");
      List<String> served =
          logs.messages(Level.INFO).stream()
              .filter(m -> m.contains("now at config_version"))
              .toList();
      assertEquals(1, served.size(), "one snapshot, the consistent one: " + served);
      assertTrue(served.get(0).contains("149 route(s)"), served.get(0));

      NodeConfig saved = awaitSaved(stateDir, "big", listed + 1);
      assertEquals(149, saved.routes().size());
      assertTrue(saved.routes().stream().anyMatch(r -> r.name().equals("r100")), "saved whole");
    }
  }

  @Test
  void aNodeWhoseRoutesKeepChangingWhileReadIsAFetchFailureForThatNodeOnly() throws Exception {
    EnvoyNode busy = admin(devApi).addNode(vpsId, "busy");
    List<EnvoyRoute> routes = addRoutes(busy, 120);
    EnvoyNode calm = admin(devApi).addNode(vpsId, "calm");
    EnvoyRoute calmRoute =
        admin(devApi).addRoute(calm.id(), RouteSpec.active("c1", 10001, "c.example", 80));
    EditsBeforeSecondPage api =
        new EditsBeforeSecondPage(
            http, 0, edit -> admin(devApi).deleteRoute(routes.get(edit).id()));
    try (PolledControlPlane agent =
            PolledControlPlane.start(testKit, api, tmp.resolve("xds"), NO_TIMED_POLLS);
        AdsTestClient envoy = agent.connect("busy")) {
      agent.identify(vpsId);
      long before = configVersion(busy);
      assertEquals(120, envoy.handshake()[1].getResourcesCount());
      agent.awaitPoller(s -> s.lastResult() == PollResult.SUCCESS);

      api.editNextReads(ConfigPoller.MAX_READ_ATTEMPTS);
      admin(devApi).bumpConfigVersion(busy.id());
      admin(devApi).updateRoute(calmRoute.id(), RouteSpec.active("c1", 10002, "c.example", 81));
      agent.pollNow();

      PollerStatus partial = agent.awaitPoller(s -> s.lastResult() == PollResult.PARTIAL);
      String error = partial.node("busy").lastFetchError();
      assertNotNull(error);
      assertTrue(
          error.contains("changed while being read, " + ConfigPoller.MAX_READ_ATTEMPTS + " reads"),
          error);
      assertEquals(before, partial.node("busy").servedVersion(), "it keeps its last snapshot");
      assertEquals(
          configVersion(calm), partial.node("calm").servedVersion(), "the other node moved on");
      assertNull(partial.node("calm").lastFetchError());
      assertEquals(ConfigPoller.MAX_READ_ATTEMPTS, api.edits(), "bounded: one edit per read");
      NodeStatus kept = agent.status().node("busy");
      assertEquals(1, type(kept, TypeUrls.LISTENER).responses(), "nothing torn was pushed");

      agent.pollNow();
      String now = agent.awaitVersionInfo("busy", configVersion(busy));
      DiscoveryResponse[] retried = envoy.readAndAckUntil(now);
      assertEquals(120 - ConfigPoller.MAX_READ_ATTEMPTS, retried[1].getResourcesCount());
      assertNull(
          agent
              .awaitPoller(s -> s.lastResult() == PollResult.SUCCESS)
              .node("busy")
              .lastFetchError());
    }
  }

  @Test
  void routesThatRepeatARowAreNotServed() throws Exception {
    EnvoyNode node = admin(devApi).addNode(vpsId, "echo");
    addRoutes(node, 150);
    // A server that counts a row inserted before the page boundary (total 151, page 2 starts one
    // row earlier) but does not bump config_version: the last row of page 1 comes again.
    SigmaApi echoing =
        new DelegatingSigmaApi(http) {
          @Override
          public CompletionStage<Page<EnvoyRoute>> envoyRoutes(
              String envoyNodeUuid, int page, int perPage) {
            CompletionStage<Page<EnvoyRoute>> first = super.envoyRoutes(envoyNodeUuid, 1, perPage);
            if (page == 1) {
              return first.thenApply(p -> new Page<>(p.data(), p.total() + 1, 1, p.perPage()));
            }
            return first.thenCombine(
                super.envoyRoutes(envoyNodeUuid, page, perPage),
                (p1, p2) -> {
                  List<EnvoyRoute> shifted = new ArrayList<>(p2.data());
                  shifted.add(0, p1.data().get(p1.data().size() - 1));
                  return new Page<>(shifted, p2.total() + 1, page, p2.perPage());
                });
          }
        };
    try (PolledControlPlane agent =
        PolledControlPlane.start(testKit, echoing, tmp.resolve("xds"), NO_TIMED_POLLS)) {
      agent.identify(vpsId);

      PollerStatus status = agent.awaitPoller(s -> s.lastResult() != null);
      assertEquals(PollResult.PARTIAL, status.lastResult());
      assertTrue(
          status.node("echo").lastFetchError().contains("appears twice"),
          status.node("echo").lastFetchError());
      assertNull(status.node("echo").servedVersion());
      assertNull(agent.status().node("echo"), "nothing served");
      assertFalse(Files.exists(tmp.resolve("xds").resolve("echo.json")), "nothing saved");
    }
  }

  // ------------------------------------------------------------------ version_info

  @Test
  void aDeletedAndReCreatedNodeNeverReusesAVersionInfo() throws Exception {
    EnvoyNode first = admin(devApi).addNode(vpsId, "phoenix");
    admin(devApi).addRoute(first.id(), RouteSpec.active("old", 10001, "old.example", 80));
    try (PolledControlPlane agent =
            PolledControlPlane.start(testKit, http, tmp.resolve("xds"), POLL);
        AdsTestClient envoy = agent.connect("phoenix")) {
      agent.identify(vpsId);
      DiscoveryResponse[] served = envoy.handshake();
      assertEquals(List.of("cluster-old"), clusterNames(served[0]));
      assertEquals(2, agent.status().node("phoenix").snapshotVersion());

      long firstVersion = configVersion(first);
      admin(devApi).deleteNode(first.id());
      // Make before break: the empty Listeners first, the empty Clusters once they are ACKed.
      DiscoveryResponse emptied = envoy.next(TypeUrls.LISTENER);
      assertEquals(0, emptied.getResourcesCount());
      envoy.ack(emptied);
      DiscoveryResponse emptiedClusters = envoy.next(TypeUrls.CLUSTER);
      assertEquals(0, emptiedClusters.getResourcesCount());
      assertEquals(
          emptied.getVersionInfo(),
          emptiedClusters.getVersionInfo(),
          "one empty set: one version_info");
      envoy.ack(emptiedClusters);

      EnvoyNode second = admin(devApi).addNode(vpsId, "phoenix");
      admin(devApi).addRoute(second.id(), RouteSpec.active("new", 10002, "new.example", 80));
      assertEquals(
          firstVersion, configVersion(second), "config_version restarted: the same number again");
      DiscoveryResponse[] reborn = envoy.readAndAckUntil(agent.awaitVersionInfo("phoenix", 2));
      assertEquals(List.of("cluster-new"), clusterNames(reborn[0]));

      long one = Long.parseLong(served[0].getVersionInfo());
      long two = Long.parseLong(emptied.getVersionInfo());
      long three = Long.parseLong(reborn[0].getVersionInfo());
      assertTrue(
          one < two && two < three,
          "three resource sets, three increasing version_infos: "
              + one
              + ", "
              + two
              + ", "
              + three);
      assertEquals(
          served[0].getVersionInfo(), served[1].getVersionInfo(), "one set: one version_info");
    }
  }

  @Test
  void aRestartNumbersAboveTheSavedSerialEvenWhenTheClockIsBehindIt() throws Exception {
    EnvoyNode node = admin(devApi).addNode(vpsId, "saved");
    admin(devApi).addRoute(node.id(), RouteSpec.active("s", 10001, "s.example", 80));
    Path stateDir = tmp.resolve("xds");
    // As if an earlier run served serial `ahead` and the clock then stepped back by an hour.
    long ahead = System.currentTimeMillis() + Duration.ofHours(1).toMillis();
    new NodeConfigStore(stateDir, Clock.systemUTC())
        .save(
            new NodeConfig(
                admin(devApi).node(node.id()).orElseThrow(), admin(devApi).routes(node.id())),
            ahead);
    devApi.down().toCompletableFuture().get(10, TimeUnit.SECONDS);

    try (PolledControlPlane agent =
            PolledControlPlane.start(testKit, http, stateDir, NO_TIMED_POLLS);
        AdsTestClient envoy = agent.connect("saved")) {
      DiscoveryResponse[] handshake = envoy.handshake();

      assertEquals(String.valueOf(ahead + 1), handshake[0].getVersionInfo());
      assertEquals(List.of("cluster-s"), clusterNames(handshake[0]));
      testKit
          .createTestProbe()
          .awaitAssert(
              AWAIT,
              () -> {
                assertEquals(
                    ahead + 1,
                    new NodeConfigStore(stateDir, Clock.systemUTC()).loadAll().get(0).serial(),
                    "the new serial is saved, so the next start numbers above it");
                return null;
              });
    }
  }

  // ------------------------------------------------------------------ failed saves

  @Test
  void aSaveThatFailedIsRetriedUntilTheNewestConfigIsOnDiskAndARestartServesIt() throws Exception {
    EnvoyNode node = admin(devApi).addNode(vpsId, "keep");
    EnvoyRoute route =
        admin(devApi).addRoute(node.id(), RouteSpec.active("k", 10001, "v1.example", 80));
    // The state dir is a symbolic link, so it can break and be fixed in one atomic rename each
    // (a fix in two steps would race with the retries).
    Path realDir = Files.createDirectories(tmp.resolve("real-xds"));
    Path stateDir = Files.createSymbolicLink(tmp.resolve("xds"), realDir);
    Path notADir = Files.writeString(tmp.resolve("not-a-dir"), "a regular file");
    try (PolledControlPlane agent =
        PolledControlPlane.start(testKit, http, stateDir, NO_TIMED_POLLS)) {
      agent.identify(vpsId);
      long v1 = configVersion(node);
      awaitSaved(stateDir, "keep", v1);

      // The state dir breaks: it is a regular file now (no one, not even root, writes in there).
      pointAt(stateDir, notADir);
      admin(devApi).updateRoute(route.id(), RouteSpec.active("k", 10001, "v2.example", 80));
      long v2 = configVersion(node);
      agent.pollNow();
      agent.awaitVersion("keep", v2);
      PollerStatus failing =
          agent.awaitPoller(s -> s.unsavedNodes().contains("keep") && s.lastSaveError() != null);
      assertTrue(failing.lastSaveError().contains("xds"), failing.lastSaveError());

      // Fixed, with the v1 file back: no poll runs (none is due, none is asked for), yet v2 lands.
      long listings = devApi.stats().total(EndpointKind.ENVOY_NODES);
      pointAt(stateDir, realDir);
      assertEquals(v2, awaitSaved(stateDir, "keep", v2).configVersion());
      PollerStatus saved = agent.awaitPoller(s -> s.unsavedNodes().isEmpty());
      assertNull(saved.lastSaveError());
      assertEquals(listings, devApi.stats().total(EndpointKind.ENVOY_NODES), "no poll in between");
    }

    devApi.down().toCompletableFuture().get(10, TimeUnit.SECONDS);
    try (PolledControlPlane restarted =
            PolledControlPlane.start(testKit, http, stateDir, NO_TIMED_POLLS);
        AdsTestClient envoy = restarted.connect("keep")) {
      DiscoveryResponse clusters = envoy.handshake()[0];
      assertEquals(
          "v2.example",
          AdsTestClient.unpack(clusters, io.envoyproxy.envoy.config.cluster.v3.Cluster.class)
              .get(0)
              .getLoadAssignment()
              .getEndpoints(0)
              .getLbEndpoints(0)
              .getEndpoint()
              .getAddress()
              .getSocketAddress()
              .getAddress());
    }
  }

  // ------------------------------------------------------------------ helpers

  /**
   * The real client, with an edit made in sigma-api right before the second page of a routes read
   * is asked for (as an operator's edit landing between two page reads would).
   */
  private static final class EditsBeforeSecondPage extends DelegatingSigmaApi {
    private final AtomicInteger armed;
    private final AtomicInteger edits = new AtomicInteger();
    private final IntConsumer edit;

    EditsBeforeSecondPage(SigmaApi api, int armed, IntConsumer edit) {
      super(api);
      this.armed = new AtomicInteger(armed);
      this.edit = edit;
    }

    void editNextReads(int reads) {
      armed.set(reads);
    }

    int edits() {
      return edits.get();
    }

    @Override
    public CompletionStage<Page<EnvoyRoute>> envoyRoutes(
        String envoyNodeUuid, int page, int perPage) {
      if (page == 2 && armed.getAndUpdate(n -> Math.max(0, n - 1)) > 0) {
        edit.accept(edits.getAndIncrement());
      }
      return super.envoyRoutes(envoyNodeUuid, page, perPage);
    }
  }

  /** Makes the symbolic link {@code link} point at {@code target}, atomically. */
  private static void pointAt(Path link, Path target) throws Exception {
    Path next = Files.createSymbolicLink(link.resolveSibling(link.getFileName() + ".next"), target);
    Files.move(next, link, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
  }

  /** Adds routes r0..r{n-1} on ports 20000.. (listed in that order). */
  private List<EnvoyRoute> addRoutes(EnvoyNode node, int n) {
    List<EnvoyRoute> routes = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      routes.add(
          admin(devApi)
              .addRoute(node.id(), RouteSpec.active("r" + i, 20000 + i, "b" + i + ".example", 80)));
    }
    return routes;
  }

  private long configVersion(EnvoyNode node) {
    return admin(devApi).node(node.id()).orElseThrow().configVersion();
  }

  private static NodeConfig awaitSaved(Path stateDir, String nodeId, long version) {
    return testKit
        .createTestProbe()
        .awaitAssert(
            AWAIT,
            () -> {
              List<NodeConfigStore.Saved> saved =
                  Files.isDirectory(stateDir)
                      ? new NodeConfigStore(stateDir, Clock.systemUTC()).loadAll()
                      : List.of();
              NodeConfig config =
                  saved.stream()
                      .map(NodeConfigStore.Saved::config)
                      .filter(c -> c.nodeId().equals(nodeId))
                      .findFirst()
                      .orElse(null);
              assertTrue(
                  config != null && config.configVersion() == version,
                  nodeId + " saved at " + version + ": " + config);
              return config;
            });
  }
}
