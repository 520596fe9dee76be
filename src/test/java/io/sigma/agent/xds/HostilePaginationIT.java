package io.sigma.agent.xds;

import static io.sigma.agent.devapi.DevApiAdmin.admin;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sigma.agent.AgentRuntime;
import io.sigma.agent.api.EnvoyNode;
import io.sigma.agent.api.EnvoyRoute;
import io.sigma.agent.api.Page;
import io.sigma.agent.api.SigmaApi;
import io.sigma.agent.devapi.DevSigmaApi;
import io.sigma.agent.devapi.RouteSpec;
import io.sigma.agent.testing.DelegatingSigmaApi;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.IntFunction;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * One node's routes listing lies (a total that grows with every page, the same page over and over),
 * another node's is honest: the honest node is updated, the lying node keeps serving its last good
 * snapshot, and the agent keeps polling.
 */
class HostilePaginationIT {
  /** Polls only when a test asks ({@link PolledControlPlane#pollNow}). */
  private static final Duration NO_TIMED_POLLS = Duration.ofHours(1);

  private static ActorTestKit testKit;

  @TempDir Path stateDir;

  private DevApiWithVps fixture;
  private DevSigmaApi devApi;
  private SigmaApi http;
  private String vpsId;

  /** How the liar's routes pages are made while it lies; null while it tells the truth. */
  private volatile IntFunction<Page<EnvoyRoute>> lie;

  private volatile String liarUuid;
  private final AtomicInteger liarPagesServed = new AtomicInteger();

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
    fixture = DevApiWithVps.start(testKit.system(), "hostile-");
    devApi = fixture.devApi();
    http = fixture.http();
    vpsId = fixture.vpsId();
  }

  @AfterEach
  void stopApi() throws Exception {
    fixture.close();
  }

  /** The real client, except that the liar's routes pages come from {@link #lie} while it lies. */
  private SigmaApi api() {
    return new DelegatingSigmaApi(http) {
      @Override
      public CompletionStage<Page<EnvoyRoute>> envoyRoutes(String nodeUuid, int page, int perPage) {
        IntFunction<Page<EnvoyRoute>> pages = lie;
        if (pages == null || !nodeUuid.equals(liarUuid)) {
          return super.envoyRoutes(nodeUuid, page, perPage);
        }
        liarPagesServed.incrementAndGet();
        return CompletableFuture.completedFuture(pages.apply(page));
      }
    };
  }

  /** 100 routes never seen before on every page. */
  private List<EnvoyRoute> freshRoutes(int page) {
    List<EnvoyRoute> routes = new ArrayList<>();
    for (int i = 0; i < 100; i++) {
      int n = (page - 1) * 100 + i;
      routes.add(
          new EnvoyRoute(
              UUID.randomUUID().toString(),
              liarUuid,
              "lie-" + n,
              20000 + n % 40000,
              "lie.example",
              80,
              "logical_dns",
              5,
              0,
              "dynamic",
              "active",
              null,
              null));
    }
    return routes;
  }

  private long version(EnvoyNode node) {
    return admin(devApi).node(node.id()).orElseThrow().configVersion();
  }

  @Test
  void aLyingRoutesListingKeepsThatNodesLastSnapshotWhileTheHonestNodeMovesOn() throws Exception {
    EnvoyNode honest = admin(devApi).addNode(vpsId, "honest");
    EnvoyNode liar = admin(devApi).addNode(vpsId, "liar");
    liarUuid = liar.id();
    EnvoyRoute honestRoute =
        admin(devApi).addRoute(honest.id(), RouteSpec.active("h1", 10001, "h.example", 80));
    EnvoyRoute liarRoute =
        admin(devApi).addRoute(liar.id(), RouteSpec.active("l1", 11001, "l.example", 80));
    long liarGood = version(liar);
    try (PolledControlPlane agent =
        PolledControlPlane.start(testKit, api(), stateDir, NO_TIMED_POLLS)) {
      agent.identify(vpsId);
      agent.awaitVersion("honest", version(honest));
      agent.awaitVersion("liar", liarGood);

      // 1. a total that grows with every page (100 new rows a page, for ever)
      lie = p -> new Page<>(freshRoutes(p), 100L * p + 100, p, 100);
      String growing = lieThroughOnePoll(agent, honest, honestRoute, liarRoute, 1, liarGood);
      assertTrue(
          growing.contains("listing changed while being read (total 200 on page 1, 300 on page 2)"),
          growing);
      // A changed total looks like routes edited between two page reads: read again, at most
      // ConfigPoller.MAX_READ_ATTEMPTS times, two pages each.
      assertTrue(growing.contains(ConfigPoller.MAX_READ_ATTEMPTS + " reads in a row"), growing);
      assertEquals(
          2 * ConfigPoller.MAX_READ_ATTEMPTS,
          liarPagesServed.getAndSet(0),
          "the lie was read for two pages a read, not a thousand");

      // 2. the same page for every page number
      List<EnvoyRoute> samePage = freshRoutes(1);
      lie = p -> new Page<>(samePage, 1_000, p, 100);
      String repeated = lieThroughOnePoll(agent, honest, honestRoute, liarRoute, 2, liarGood);
      assertTrue(repeated.contains("page 2 repeats page 1"), repeated);
      assertEquals(2, liarPagesServed.getAndSet(0));

      // 3. the truth again: the liar catches up
      lie = null;
      agent.pollNow();
      agent.awaitVersion("liar", version(liar));
      PollerStatus recovered = agent.awaitPoller(s -> s.lastResult() == PollResult.SUCCESS);
      assertNull(recovered.node("liar").lastFetchError());
      assertEquals(1, agent.status().node("liar").routeCount());
    }
  }

  /**
   * Changes both nodes, polls once while the liar lies; checks what is served; returns the liar's
   * fetch error.
   */
  private String lieThroughOnePoll(
      PolledControlPlane agent,
      EnvoyNode honest,
      EnvoyRoute honestRoute,
      EnvoyRoute liarRoute,
      int round,
      long liarGood) {
    admin(devApi)
        .updateRoute(honestRoute.id(), RouteSpec.active("h1", 10001 + round, "h.example", 80));
    admin(devApi)
        .updateRoute(liarRoute.id(), RouteSpec.active("l1", 11001 + round, "l.example", 80));
    agent.pollNow();

    PollerStatus partial =
        agent.awaitPoller(
            s ->
                s.lastResult() == PollResult.PARTIAL
                    && s.node("liar").lastFetchError() != null
                    && s.node("honest").servedVersion() == version(honest));
    NodeStatus honestServed = agent.awaitVersion("honest", version(honest));
    assertEquals(1, honestServed.routeCount(), "the honest node is served its new routes");
    assertEquals(
        liarGood, partial.node("liar").servedVersion(), "the liar keeps its last good config");
    NodeStatus liarServed = agent.status().node("liar");
    assertEquals(Long.valueOf(liarGood), liarServed.snapshotVersion());
    assertEquals(1, liarServed.routeCount(), "none of the lie's rows is served");
    return partial.node("liar").lastFetchError();
  }
}
