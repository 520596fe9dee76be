package io.sigma.agent.xds;

import static io.sigma.agent.devapi.DevApiAdmin.admin;
import static io.sigma.agent.xds.AdsTestClient.clusterNames;
import static io.sigma.agent.xds.AdsTestClient.listenerNames;
import static io.sigma.agent.xds.AdsTestClient.unpack;
import static io.sigma.agent.xds.PolledControlPlane.AWAIT;
import static io.sigma.agent.xds.PolledControlPlane.type;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.Level;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.core.v3.ProxyProtocolConfig;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy;
import io.envoyproxy.envoy.extensions.transport_sockets.proxy_protocol.v3.ProxyProtocolUpstreamTransport;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryResponse;
import io.sigma.agent.AgentRuntime;
import io.sigma.agent.api.EnvoyNode;
import io.sigma.agent.api.EnvoyRoute;
import io.sigma.agent.api.Page;
import io.sigma.agent.api.SigmaApi;
import io.sigma.agent.devapi.DevSeed;
import io.sigma.agent.devapi.EndpointKind;
import io.sigma.agent.devapi.Fault;
import io.sigma.agent.devapi.FaultInjectingDevApi;
import io.sigma.agent.devapi.RouteSpec;
import io.sigma.agent.host.LogCapture;
import io.sigma.agent.testing.DelegatingSigmaApi;
import io.sigma.agent.testing.HighestDraw;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The config source end to end: the dev sigma-api over real HTTP, the poller, the registry and the
 * ADS server over real gRPC, with Envoy-like clients.
 */
class ConfigPollerIT {

  private static final Duration POLL = Duration.ofMillis(200);

  /** For tests that trigger polls themselves ({@link PolledControlPlane#pollNow}). */
  private static final Duration NO_TIMED_POLLS = Duration.ofHours(1);

  private static ActorTestKit testKit;

  @TempDir Path stateDir;

  private DevApiWithVps fixture;
  private FaultInjectingDevApi devApi;
  private SigmaApi api;
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
    fixture = DevApiWithVps.start(testKit.system(), "xds-it-");
    devApi = fixture.devApi();
    api = fixture.http();
    vpsId = fixture.vpsId();
  }

  @AfterEach
  void stopApi() throws Exception {
    fixture.close();
  }

  @Test
  void servesTheDevSeedWithDecodedResources() throws Exception {
    EnvoyNode seeded = admin(devApi).seed(vpsId, DevSeed.standard());
    long startedAt = System.currentTimeMillis();
    try (PolledControlPlane agent = PolledControlPlane.start(testKit, api, stateDir, POLL);
        AdsTestClient envoy = start(agent).connect(DevSeed.DEFAULT_NODE_ID)) {
      DiscoveryResponse[] handshake = envoy.handshake();

      String version = agent.awaitVersionInfo(DevSeed.DEFAULT_NODE_ID, seeded.configVersion());
      assertEquals(version, handshake[0].getVersionInfo());
      assertEquals(version, handshake[1].getVersionInfo());
      assertTrue(Long.parseLong(version) >= startedAt, "a serial at least the clock: " + version);
      List<Cluster> clusters = unpack(handshake[0], Cluster.class);
      assertEquals(
          List.of("cluster-dev-logical-dns", "cluster-dev-static", "cluster-dev-strict-dns"),
          clusters.stream().map(Cluster::getName).toList(),
          "placeholders and the source=static route make no resources");
      assertEquals(
          List.of(
              Cluster.DiscoveryType.LOGICAL_DNS,
              Cluster.DiscoveryType.STATIC,
              Cluster.DiscoveryType.STRICT_DNS),
          clusters.stream().map(Cluster::getType).toList());
      assertEquals(
          List.of(5L, 5L, 3L),
          clusters.stream().map(c -> c.getConnectTimeout().getSeconds()).toList());
      assertFalse(clusters.get(0).hasTransportSocket(), "proxy_protocol 0: no transport socket");
      assertEquals(ProxyProtocolConfig.Version.V1, proxyProtocol(clusters.get(1)));
      assertEquals(ProxyProtocolConfig.Version.V2, proxyProtocol(clusters.get(2)));
      var endpoint =
          clusters
              .get(1)
              .getLoadAssignment()
              .getEndpoints(0)
              .getLbEndpoints(0)
              .getEndpoint()
              .getAddress()
              .getSocketAddress();
      assertEquals("127.0.0.1", endpoint.getAddress());
      assertEquals(8082, endpoint.getPortValue());

      List<Listener> listeners = unpack(handshake[1], Listener.class);
      assertEquals(
          List.of("listener-dev-logical-dns", "listener-dev-static", "listener-dev-strict-dns"),
          listeners.stream().map(Listener::getName).toList());
      assertEquals(
          List.of(10001, 10002, 10003),
          listeners.stream().map(l -> l.getAddress().getSocketAddress().getPortValue()).toList());
      TcpProxy proxy =
          listeners.get(2).getFilterChains(0).getFilters(0).getTypedConfig().unpack(TcpProxy.class);
      assertEquals("cluster-dev-strict-dns", proxy.getCluster());
      assertEquals("tcp-dev-strict-dns", proxy.getStatPrefix());

      NodeStatus node =
          agent.awaitNode(
              DevSeed.DEFAULT_NODE_ID,
              n ->
                  n.streams().size() == 1
                      && version.equals(type(n, TypeUrls.LISTENER).ackedVersion()));
      assertEquals(3, node.routeCount());
      assertEquals(version, type(node, TypeUrls.CLUSTER).ackedVersion());
    }
  }

  @Test
  void moreThanOneHundredRoutesOfANodeAreAllServed() throws Exception {
    EnvoyNode node = admin(devApi).addNode(vpsId, "big");
    for (int i = 0; i < 150; i++) {
      admin(devApi)
          .addRoute(
              node.id(), RouteSpec.active("r" + i, 20000 + i, "backend-" + i + ".example", 8000));
    }
    long version = admin(devApi).node(node.id()).orElseThrow().configVersion();
    try (PolledControlPlane agent = PolledControlPlane.start(testKit, api, stateDir, POLL);
        AdsTestClient envoy = start(agent).connect("big")) {
      DiscoveryResponse[] handshake = envoy.handshake();

      assertEquals(agent.awaitVersionInfo("big", version), handshake[0].getVersionInfo());
      assertEquals(150, handshake[0].getResourcesCount());
      assertEquals(150, handshake[1].getResourcesCount());
      assertTrue(clusterNames(handshake[0]).contains("cluster-r149"), "a route of the second page");
      assertTrue(listenerNames(handshake[1]).contains("listener-r100"));
      assertTrue(
          devApi.stats().total(EndpointKind.ENVOY_ROUTES) >= 2, "the routes came in two pages");
    }
  }

  @Test
  void nodesBeyondTheFirstPageOfTheListingAreServed() throws Exception {
    for (int i = 0; i < 104; i++) {
      admin(devApi).addNode(vpsId, String.format("node-%03d", i));
    }
    EnvoyNode last = admin(devApi).nodes(vpsId).get(103);
    admin(devApi).addRoute(last.id(), RouteSpec.active("late", 10001, "late.example", 80));
    try (PolledControlPlane agent = PolledControlPlane.start(testKit, api, stateDir, POLL);
        AdsTestClient envoy = start(agent).connect("node-103")) {
      DiscoveryResponse[] handshake = envoy.handshake();

      assertEquals(List.of("cluster-late"), clusterNames(handshake[0]));
      assertEquals(104, agent.awaitPoller(s -> s.nodes().size() == 104).nodes().size());
    }
  }

  @Test
  void aChangeReachesTheChangedNodesStreamsOnlyAndTwoNodesEachGetTheirOwnConfig() throws Exception {
    EnvoyNode a = admin(devApi).addNode(vpsId, "node-a");
    EnvoyNode b = admin(devApi).addNode(vpsId, "node-b");
    EnvoyRoute aRoute =
        admin(devApi).addRoute(a.id(), RouteSpec.active("a1", 10001, "a.example", 80));
    admin(devApi).addRoute(b.id(), RouteSpec.active("b1", 11001, "b.example", 80));
    admin(devApi).addRoute(b.id(), RouteSpec.active("b2", 11002, "b.example", 81));
    try (PolledControlPlane agent = PolledControlPlane.start(testKit, api, stateDir, POLL);
        AdsTestClient envoyA = start(agent).connect("node-a");
        AdsTestClient envoyA2 = agent.connect("node-a");
        AdsTestClient envoyB = agent.connect("node-b")) {
      assertEquals(List.of("cluster-a1"), clusterNames(envoyA.handshake()[0]));
      assertEquals(List.of("cluster-a1"), clusterNames(envoyA2.handshake()[0]));
      DiscoveryResponse[] bHandshake = envoyB.handshake();
      assertEquals(List.of("cluster-b1", "cluster-b2"), clusterNames(bHandshake[0]));
      assertEquals(List.of("listener-b1", "listener-b2"), listenerNames(bHandshake[1]));
      String bVersion = bHandshake[0].getVersionInfo();
      String aBefore =
          agent.awaitVersionInfo(
              "node-a", admin(devApi).node(a.id()).orElseThrow().configVersion());

      admin(devApi).updateRoute(aRoute.id(), RouteSpec.active("a1", 10011, "a-new.example", 8080));
      String aVersion =
          agent.awaitVersionInfo(
              "node-a", admin(devApi).node(a.id()).orElseThrow().configVersion());
      assertTrue(Long.parseLong(aVersion) > Long.parseLong(aBefore), aBefore + " then " + aVersion);

      for (AdsTestClient envoy : List.of(envoyA, envoyA2)) {
        DiscoveryResponse clusters = envoy.next(TypeUrls.CLUSTER);
        assertEquals(aVersion, clusters.getVersionInfo(), "Clusters first");
        assertEquals(
            "a-new.example",
            unpack(clusters, Cluster.class)
                .get(0)
                .getLoadAssignment()
                .getEndpoints(0)
                .getLbEndpoints(0)
                .getEndpoint()
                .getAddress()
                .getSocketAddress()
                .getAddress());
        envoy.ack(clusters);
        DiscoveryResponse listeners = envoy.next(TypeUrls.LISTENER);
        assertEquals(aVersion, listeners.getVersionInfo());
        assertEquals(
            10011,
            unpack(listeners, Listener.class)
                .get(0)
                .getAddress()
                .getSocketAddress()
                .getPortValue());
        envoy.ack(listeners);
      }

      agent.awaitNextPoll();
      NodeStatus nodeB = agent.awaitNode("node-b", n -> n.streams().size() == 1);
      assertEquals(
          admin(devApi).node(b.id()).orElseThrow().configVersion(), nodeB.snapshotVersion());
      assertEquals(bVersion, nodeB.versionInfo());
      assertEquals(1, type(nodeB, TypeUrls.CLUSTER).responses(), "node-b's stream got nothing new");
      assertEquals(1, type(nodeB, TypeUrls.LISTENER).responses());
      assertEquals(bVersion, type(nodeB, TypeUrls.LISTENER).ackedVersion());
    }
  }

  @Test
  void aFailedRoutesFetchKeepsThatNodesSnapshotWhileTheOtherNodeUpdates() throws Exception {
    EnvoyNode a = admin(devApi).addNode(vpsId, "node-a");
    EnvoyNode b = admin(devApi).addNode(vpsId, "node-b");
    EnvoyRoute aRoute =
        admin(devApi).addRoute(a.id(), RouteSpec.active("a1", 10001, "a.example", 80));
    EnvoyRoute bRoute =
        admin(devApi).addRoute(b.id(), RouteSpec.active("b1", 11001, "b.example", 80));
    long aBefore = admin(devApi).node(a.id()).orElseThrow().configVersion();
    long bBefore = admin(devApi).node(b.id()).orElseThrow().configVersion();
    try (PolledControlPlane agent =
            PolledControlPlane.start(testKit, api, stateDir, NO_TIMED_POLLS);
        AdsTestClient envoyA = start(agent).connect("node-a");
        AdsTestClient envoyB = agent.connect("node-b")) {
      envoyA.handshake();
      envoyB.handshake();
      agent.awaitPoller(s -> s.lastResult() == PollResult.SUCCESS);

      // new listen ports and backends: both Clusters and Listeners change
      admin(devApi).updateRoute(aRoute.id(), RouteSpec.active("a1", 10002, "a.example", 81));
      admin(devApi).updateRoute(bRoute.id(), RouteSpec.active("b1", 11002, "b.example", 81));
      devApi.faults().failNext(EndpointKind.ENVOY_ROUTES, 1, Fault.status(500));
      agent.pollNow();

      PollerStatus partial = agent.awaitPoller(s -> s.lastResult() == PollResult.PARTIAL);
      PollerStatus.Node failedNode =
          partial.node("node-a").lastFetchError() != null
              ? partial.node("node-a")
              : partial.node("node-b");
      PollerStatus.Node updatedNode =
          failedNode.nodeId().equals("node-a") ? partial.node("node-b") : partial.node("node-a");
      assertTrue(failedNode.lastFetchError().contains("500"), failedNode.lastFetchError());
      assertNull(updatedNode.lastFetchError());
      long failedBefore = failedNode.nodeId().equals("node-a") ? aBefore : bBefore;
      assertEquals(failedBefore, failedNode.servedVersion(), "the failed node keeps its snapshot");
      assertEquals(failedBefore + 1, failedNode.apiConfigVersion());
      assertEquals(
          updatedNode.apiConfigVersion(), updatedNode.servedVersion(), "the other node moved on");

      AdsTestClient updatedEnvoy = updatedNode.nodeId().equals("node-a") ? envoyA : envoyB;
      AdsTestClient failedEnvoy = updatedEnvoy == envoyA ? envoyB : envoyA;
      updatedEnvoy.readAndAckUntil(
          agent.awaitVersionInfo(updatedNode.nodeId(), updatedNode.servedVersion()));
      NodeStatus kept = agent.status().node(failedNode.nodeId());
      assertEquals(failedBefore, kept.snapshotVersion());
      assertEquals(
          1, type(kept, TypeUrls.CLUSTER).responses(), "no push to the failed node's Envoy");

      agent.pollNow();
      DiscoveryResponse[] retried =
          failedEnvoy.readAndAckUntil(
              agent.awaitVersionInfo(failedNode.nodeId(), failedBefore + 1));
      assertEquals(1, retried[0].getResourcesCount());
      assertNull(
          agent
              .awaitPoller(s -> s.lastResult() == PollResult.SUCCESS)
              .node(failedNode.nodeId())
              .lastFetchError());
    }
  }

  @Test
  void apiDownPushesNothingAndStreamsKeepTheirConfigUntilItIsBack() throws Exception {
    EnvoyNode node = admin(devApi).addNode(vpsId, "steady");
    EnvoyRoute route =
        admin(devApi).addRoute(node.id(), RouteSpec.active("s1", 10001, "s.example", 80));
    String before = String.valueOf(admin(devApi).node(node.id()).orElseThrow().configVersion());
    try (PolledControlPlane agent = PolledControlPlane.start(testKit, api, stateDir, POLL);
        AdsTestClient envoy = start(agent).connect("steady")) {
      envoy.handshake();

      devApi.down().toCompletableFuture().get(10, TimeUnit.SECONDS);
      admin(devApi).updateRoute(route.id(), RouteSpec.active("s1", 10002, "s.example", 81));
      PollerStatus failing = agent.awaitPoller(s -> s.consecutiveFailures() >= 3);

      assertEquals(PollResult.FAILURE, failing.lastResult());
      assertNotNull(failing.lastError());
      NodeStatus status = agent.awaitNode("steady", n -> n.streams().size() == 1);
      assertEquals(Long.valueOf(before), status.snapshotVersion(), "still served");
      assertEquals(1, status.routeCount());
      assertEquals(
          1,
          type(status, TypeUrls.CLUSTER).responses(),
          "nothing was pushed while the API was down");
      assertEquals(1, type(status, TypeUrls.LISTENER).responses());

      devApi.up().toCompletableFuture().get(10, TimeUnit.SECONDS);
      String after =
          agent.awaitVersionInfo(
              "steady", admin(devApi).node(node.id()).orElseThrow().configVersion());
      DiscoveryResponse[] updated = envoy.readAndAckUntil(after);
      assertEquals(List.of("cluster-s1"), clusterNames(updated[0]));
      assertEquals(
          0, agent.awaitPoller(s -> s.lastResult() == PollResult.SUCCESS).consecutiveFailures());
    }
  }

  @Test
  void aRestartWithTheApiDownServesTheSavedConfigAtOnce() throws Exception {
    EnvoyNode seeded = admin(devApi).seed(vpsId, DevSeed.standard());
    long version = seeded.configVersion();
    String firstVersionInfo;
    try (PolledControlPlane first = PolledControlPlane.start(testKit, api, stateDir, POLL);
        AdsTestClient envoy = start(first).connect(DevSeed.DEFAULT_NODE_ID)) {
      firstVersionInfo = envoy.handshake()[0].getVersionInfo();
      assertEquals(first.awaitVersionInfo(DevSeed.DEFAULT_NODE_ID, version), firstVersionInfo);
    }
    assertTrue(Files.exists(stateDir.resolve(DevSeed.DEFAULT_NODE_ID + ".json")));

    devApi.down().toCompletableFuture().get(10, TimeUnit.SECONDS);
    try (PolledControlPlane restarted = PolledControlPlane.start(testKit, api, stateDir, POLL);
        AdsTestClient envoy = restarted.connect(DevSeed.DEFAULT_NODE_ID)) {
      restarted.identify(vpsId);
      DiscoveryResponse[] handshake = envoy.handshake();

      assertTrue(
          Long.parseLong(handshake[0].getVersionInfo()) > Long.parseLong(firstVersionInfo),
          "a restart numbers above what the first agent served: "
              + firstVersionInfo
              + " then "
              + handshake[0].getVersionInfo());
      assertEquals(handshake[0].getVersionInfo(), handshake[1].getVersionInfo());
      assertEquals(
          List.of("cluster-dev-logical-dns", "cluster-dev-static", "cluster-dev-strict-dns"),
          clusterNames(handshake[0]));
      assertEquals(
          List.of("listener-dev-logical-dns", "listener-dev-static", "listener-dev-strict-dns"),
          listenerNames(handshake[1]));
      PollerStatus failing = restarted.awaitPoller(s -> s.consecutiveFailures() >= 2);
      assertEquals(Long.valueOf(version), failing.node(DevSeed.DEFAULT_NODE_ID).servedVersion());
      NodeStatus kept = restarted.awaitNode(DevSeed.DEFAULT_NODE_ID, n -> true);
      assertEquals(Long.valueOf(version), kept.snapshotVersion(), "not cleared by failures");
      assertEquals(handshake[0].getVersionInfo(), kept.versionInfo());
    }
  }

  @Test
  void aRestartWithoutTheApiAndWithoutRegistrationStillServesTheSavedConfig() throws Exception {
    EnvoyNode node = admin(devApi).addNode(vpsId, "saved");
    admin(devApi).addRoute(node.id(), RouteSpec.active("x", 10001, "x.example", 80));
    try (PolledControlPlane first = PolledControlPlane.start(testKit, api, stateDir, POLL)) {
      first.identify(vpsId);
      first.awaitVersion("saved", admin(devApi).node(node.id()).orElseThrow().configVersion());
    }
    devApi.stop().toCompletableFuture().get(10, TimeUnit.SECONDS);

    try (PolledControlPlane restarted = PolledControlPlane.start(testKit, api, stateDir, POLL);
        AdsTestClient envoy = restarted.connect("saved")) {
      assertEquals(List.of("cluster-x"), clusterNames(envoy.handshake()[0]));
    }
  }

  @Test
  void aCorruptSavedFileIsIgnoredAndTheNodeIsServedOnceTheApiAnswers() throws Exception {
    EnvoyNode node = admin(devApi).addNode(vpsId, "corrupt");
    admin(devApi).addRoute(node.id(), RouteSpec.active("c", 10001, "c.example", 80));
    Files.writeString(stateDir.resolve("corrupt.json"), "{\"format\": 1, \"node\": {\"node_id\": ");
    try (PolledControlPlane agent = PolledControlPlane.start(testKit, api, stateDir, POLL);
        AdsTestClient envoy = start(agent).connect("corrupt")) {
      assertEquals(List.of("cluster-c"), clusterNames(envoy.handshake()[0]));
    }
    assertTrue(
        Files.readString(stateDir.resolve("corrupt.json")).contains("\"routes\""),
        "rewritten whole");
  }

  @Test
  void anUnknownNodeIdIsRegisteredOnceAndServedOnceItIsListed() throws Exception {
    try (PolledControlPlane agent = PolledControlPlane.start(testKit, api, stateDir, POLL);
        AdsTestClient envoy = start(agent).connect("newcomer")) {
      envoy.subscribe(TypeUrls.CLUSTER);

      EnvoyNode created = awaitApiNode("newcomer");
      assertEquals(ConfigPoller.AUTO_REGISTERED_DESCRIPTION, created.description());
      assertNull(created.adminPort());
      assertEquals("active", created.status());
      DiscoveryResponse first = envoy.next(TypeUrls.CLUSTER);
      assertEquals(
          agent.awaitVersionInfo("newcomer", created.configVersion()), first.getVersionInfo());
      assertEquals(0, first.getResourcesCount(), "a new node has no routes yet");
      envoy.ack(first);

      admin(devApi).addRoute(created.id(), RouteSpec.active("n1", 10001, "n.example", 80));
      DiscoveryResponse clusters = envoy.next(TypeUrls.CLUSTER);
      assertEquals(List.of("cluster-n1"), clusterNames(clusters));

      try (AdsTestClient second = agent.connect("newcomer")) {
        second.subscribe(TypeUrls.CLUSTER);
        second.next(TypeUrls.CLUSTER);
        agent.awaitNextPoll();
        agent.awaitNextPoll();
      }
      assertEquals(1, devApi.stats().total(EndpointKind.CREATE_NODE), "registered once");
    }
  }

  @Test
  void aNodeIdThatExistsButIsNotActiveIsTriedOnceAndTheRefusalTolerated() throws Exception {
    EnvoyNode disabled = admin(devApi).addNode(vpsId, "disabled-node");
    admin(devApi).setNodeStatus(disabled.id(), "disabled");
    try (PolledControlPlane agent = PolledControlPlane.start(testKit, api, stateDir, POLL);
        AdsTestClient envoy = start(agent).connect("disabled-node")) {
      envoy.subscribe(TypeUrls.CLUSTER);
      agent.awaitNode("disabled-node", n -> n.streams().size() == 1);
      PollerStatus status = agent.awaitPoller(s -> s.lastResult() == PollResult.SUCCESS);
      agent.awaitNextPoll();
      agent.awaitNextPoll();

      assertEquals(
          1,
          devApi.stats().total(EndpointKind.CREATE_NODE),
          "one attempt, answered 409, not retried");
      assertNull(status.node("disabled-node"), "not listed, not served");
      assertNull(agent.status().node("disabled-node").snapshotVersion(), "its Envoy keeps waiting");
    }
  }

  @Test
  void aNodeDeletedInTheApiGetsAnEmptyConfigAndIsForgottenOnDisk() throws Exception {
    EnvoyNode node = admin(devApi).addNode(vpsId, "doomed");
    admin(devApi).addRoute(node.id(), RouteSpec.active("d", 10001, "d.example", 80));
    long version = admin(devApi).node(node.id()).orElseThrow().configVersion();
    try (PolledControlPlane agent = PolledControlPlane.start(testKit, api, stateDir, POLL);
        AdsTestClient envoy = start(agent).connect("doomed")) {
      String served = envoy.handshake()[0].getVersionInfo();
      assertEquals(agent.awaitVersionInfo("doomed", version), served);
      awaitFile(stateDir.resolve("doomed.json"), true);

      admin(devApi).deleteNode(node.id());

      // Make before break: the Listeners go first, their Clusters once that is ACKed; the empty
      // config gets a new version_info.
      DiscoveryResponse listeners = envoy.next(TypeUrls.LISTENER);
      assertTrue(
          Long.parseLong(listeners.getVersionInfo()) > Long.parseLong(served),
          "the empty config gets a new version_info: "
              + served
              + " then "
              + listeners.getVersionInfo());
      assertEquals(0, listeners.getResourcesCount());
      envoy.ack(listeners);
      assertEquals(0, envoy.next(TypeUrls.CLUSTER).getResourcesCount());
      awaitFile(stateDir.resolve("doomed.json"), false);
      agent.awaitNextPoll();
      assertEquals(
          0, devApi.stats().total(EndpointKind.CREATE_NODE), "a deleted node is not re-registered");
    }
  }

  @Test
  void aNewVpsIdIsFollowed() throws Exception {
    admin(devApi)
        .addRoute(
            admin(devApi).addNode(vpsId, "old-node").id(),
            RouteSpec.active("o", 10001, "o.example", 80));
    String otherVps = registerVps();
    admin(devApi)
        .addRoute(
            admin(devApi).addNode(otherVps, "new-node").id(),
            RouteSpec.active("n", 10002, "n.example", 80));
    try (PolledControlPlane agent = PolledControlPlane.start(testKit, api, stateDir, POLL)) {
      start(agent);
      agent.awaitNode("old-node", n -> n.snapshotVersion() != null);

      agent.identify(otherVps);

      agent.awaitNode("new-node", n -> n.snapshotVersion() != null);
      PollerStatus status = agent.awaitPoller(s -> s.node("old-node") == null);
      assertEquals(otherVps, status.vpsId());
      assertNull(agent.status().node("old-node"), "no longer served");
    }
  }

  @Test
  void theSecondPollMayFallAnywhereInAWholeIntervalAndLaterOnesKeepTheInterval() throws Exception {
    List<Instant> listingsSent = new CopyOnWriteArrayList<>();
    List<Instant> listingsAnswered = new CopyOnWriteArrayList<>();
    SigmaApi timed =
        new DelegatingSigmaApi(api) {
          @Override
          public CompletionStage<Page<EnvoyNode>> envoyNodes(String vps, int page, int perPage) {
            listingsSent.add(Instant.now());
            return super.envoyNodes(vps, page, perPage)
                .whenComplete((p, e) -> listingsAnswered.add(Instant.now()));
          }
        };
    try (PolledControlPlane agent =
        PolledControlPlane.start(testKit, timed, stateDir, POLL, new HighestDraw())) {
      start(agent);
      testKit
          .createTestProbe()
          .awaitAssert(
              AWAIT,
              () -> {
                assertTrue(listingsSent.size() >= 4, "listings so far: " + listingsSent.size());
                return null;
              });
    }
    // The highest draw puts the second poll 1.5 intervals after the first one ended (beyond a
    // regular poll's +10%), so polls of agents that registered together spread over an interval.
    long second = Duration.between(listingsAnswered.get(0), listingsSent.get(1)).toMillis();
    assertTrue(second >= POLL.toMillis() * 3 / 2 - 10, "second poll after " + second + " ms");
    for (int i = 2; i < 4; i++) {
      long gap = Duration.between(listingsAnswered.get(i - 1), listingsSent.get(i)).toMillis();
      assertTrue(gap >= POLL.toMillis() * 9 / 10 - 10, "poll " + i + " after " + gap + " ms");
    }
  }

  @Test
  void aNewIntervalFromSighupReplacesThePendingPoll() throws Exception {
    try (PolledControlPlane agent =
        PolledControlPlane.start(testKit, api, stateDir, NO_TIMED_POLLS)) {
      start(agent);
      agent.awaitPoller(s -> !s.pollInFlight() && s.lastResult() != null);
      long listings = devApi.stats().total(EndpointKind.ENVOY_NODES);

      // The next poll was an hour away; the new interval re-arms it.
      agent.poller.tell(new ConfigPoller.IntervalChanged(POLL));

      testKit
          .createTestProbe()
          .awaitAssert(
              AWAIT,
              () -> {
                assertTrue(
                    devApi.stats().total(EndpointKind.ENVOY_NODES) >= listings + 2,
                    "listings: " + devApi.stats().total(EndpointKind.ENVOY_NODES));
                return null;
              });
      assertEquals(POLL, agent.pollerStatus().pollInterval(), "the status shows the new interval");
    }
  }

  @Test
  void onePollAtATimeAndPollNowRequestsDuringItCoalesce() throws Exception {
    admin(devApi).addNode(vpsId, "slow");
    devApi.faults().failNext(EndpointKind.ENVOY_NODES, 1, Fault.delay(Duration.ofMillis(1500)));
    try (PolledControlPlane agent =
        PolledControlPlane.start(testKit, api, stateDir, NO_TIMED_POLLS)) {
      start(agent);
      agent.awaitPoller(PollerStatus::pollInFlight);
      for (int i = 0; i < 5; i++) {
        agent.pollNow();
      }

      // A poll asked for during another runs right after it, inside the same message: the poller
      // is seen idle only once every asked-for poll is done.
      agent.awaitPoller(s -> !s.pollInFlight() && s.lastResult() != null);

      assertEquals(
          3,
          devApi.stats().total(EndpointKind.ENVOY_NODES),
          "the slow listing and the re-check of node slow's config_version after reading its routes, then "
              + "one more listing for the five requests made while it ran");
    }
  }

  @Test
  void rejectedRoutesAreLoggedOncePerNodeVersionAndCounted() throws Exception {
    EnvoyNode node = admin(devApi).addNode(vpsId, "picky");
    admin(devApi).addRoute(node.id(), RouteSpec.active("ok", 10001, "ok.example", 80));
    admin(devApi)
        .addRoute(
            node.id(),
            RouteSpec.active("bad-static", 10002, "not-an-ip.example", 80)
                .withClusterType(RouteSpec.STATIC));
    admin(devApi)
        .addRoute(
            node.id(), RouteSpec.placeholder("later", 10003).withStatus(RouteSpec.STATUS_ACTIVE));
    EnvoyNode many = admin(devApi).addNode(vpsId, "many-placeholders");
    for (int i = 0; i < 60; i++) {
      admin(devApi)
          .addRoute(
              many.id(),
              RouteSpec.placeholder("p" + i, 20000 + i).withStatus(RouteSpec.STATUS_ACTIVE));
    }
    try (LogCapture logs = new LogCapture(ConfigPoller.class);
        PolledControlPlane agent = PolledControlPlane.start(testKit, api, stateDir, POLL)) {
      start(agent);
      agent.awaitNode("picky", n -> n.snapshotVersion() != null);
      agent.awaitNode("many-placeholders", n -> n.snapshotVersion() != null);

      PollerStatus.Node picky = agent.pollerStatus().node("picky");
      assertEquals(2, picky.rejectedRouteCount());
      assertEquals(
          List.of("bad-static", "later"),
          picky.rejectedRoutes().stream().map(PollerStatus.Rejected::name).toList());
      PollerStatus.Rejected badStatic = picky.rejectedRoutes().get(0);
      assertEquals(10002, badStatic.listenPort());
      assertEquals("STATIC_CLUSTER_NEEDS_IP", badStatic.reason());
      assertTrue(
          badStatic.message().contains("bad-static")
              && badStatic.message().contains("STATIC_CLUSTER_NEEDS_IP"),
          badStatic.message());
      assertEquals("PLACEHOLDER", picky.rejectedRoutes().get(1).reason());
      PollerStatus.Node crowded = agent.pollerStatus().node("many-placeholders");
      assertEquals(60, crowded.rejectedRouteCount(), "all counted");
      assertEquals(
          ConfigPoller.MAX_REJECTED_IN_STATUS,
          crowded.rejectedRoutes().size(),
          "the first ones listed");
      assertEquals("p0", crowded.rejectedRoutes().get(0).name());
      agent.awaitNextPoll();
      agent.awaitNextPoll();

      List<String> warnings =
          logs.messages(Level.WARN).stream().filter(m -> m.contains("bad-static")).toList();
      assertEquals(1, warnings.size(), warnings.toString());
      assertTrue(warnings.get(0).contains("STATIC_CLUSTER_NEEDS_IP"), warnings.get(0));
      assertEquals(
          1,
          logs.messages(Level.INFO).stream().filter(m -> m.contains("'later'")).count(),
          logs.messages(Level.INFO).toString());
      String scrape = MetricsText.scrape(agent.metrics);
      assertTrue(
          scrape.contains(
              "sigma_xds_rejected_routes{node=\"picky\","
                  + "reason=\"STATIC_CLUSTER_NEEDS_IP\"} 1.0"),
          scrape);
      assertTrue(
          scrape.contains(
              "sigma_xds_rejected_routes{node=\"picky\"," + "reason=\"PLACEHOLDER\"} 1.0"),
          scrape);
      assertEquals(1, agent.status().node("picky").routeCount());
    }
  }

  @Test
  void aRoutesAnswerThatIsNotTheContractsJsonIsAFailureOfThatNodeAndItsLastConfigStays()
      throws Exception {
    EnvoyNode node = admin(devApi).addNode(vpsId, "garbled");
    EnvoyRoute route =
        admin(devApi).addRoute(node.id(), RouteSpec.active("g", 10001, "g.example", 80));
    long before = admin(devApi).node(node.id()).orElseThrow().configVersion();
    try (PolledControlPlane agent =
            PolledControlPlane.start(testKit, api, stateDir, NO_TIMED_POLLS);
        AdsTestClient envoy = start(agent).connect("garbled")) {
      String served = envoy.handshake()[0].getVersionInfo();
      agent.awaitPoller(s -> s.lastResult() == PollResult.SUCCESS);
      admin(devApi).updateRoute(route.id(), RouteSpec.active("g", 10002, "g.example", 81));

      for (Fault garbage :
          List.of(Fault.nonJson(), Fault.wrongTypes(), Fault.missingFields(), Fault.html(502))) {
        devApi.faults().failAlways(EndpointKind.ENVOY_ROUTES, garbage);
        Instant asked = Instant.now();
        agent.pollNow();
        PollerStatus partial =
            agent.awaitPoller(s -> s.lastPollAt() != null && s.lastPollAt().isAfter(asked));
        devApi.faults().clear(EndpointKind.ENVOY_ROUTES);

        assertEquals(PollResult.PARTIAL, partial.lastResult(), garbage.toString());
        assertNotNull(partial.node("garbled").lastFetchError(), garbage.toString());
        assertEquals(
            before,
            partial.node("garbled").servedVersion(),
            "the last good config stays: " + garbage);
        NodeStatus kept = agent.status().node("garbled");
        assertEquals(served, kept.versionInfo());
        assertEquals(1, type(kept, TypeUrls.CLUSTER).responses(), "nothing pushed: " + garbage);
      }

      agent.pollNow();
      DiscoveryResponse[] updated =
          envoy.readAndAckUntil(
              agent.awaitVersionInfo(
                  "garbled", admin(devApi).node(node.id()).orElseThrow().configVersion()));
      assertEquals(
          10002,
          unpack(updated[1], Listener.class).get(0).getAddress().getSocketAddress().getPortValue());
    }
  }

  // --- helpers -------------------------------------------------------------------------------

  /** Tells the control plane its VPS id; returns it for chaining. */
  private PolledControlPlane start(PolledControlPlane agent) {
    agent.identify(vpsId);
    return agent;
  }

  private String registerVps() throws Exception {
    return DevApiWithVps.registerVps(api, "xds-it-");
  }

  private EnvoyNode awaitApiNode(String nodeId) {
    return testKit
        .createTestProbe()
        .awaitAssert(
            AWAIT,
            () -> {
              Optional<EnvoyNode> node =
                  admin(devApi).nodes(vpsId).stream()
                      .filter(n -> n.nodeId().equals(nodeId))
                      .findFirst();
              assertTrue(node.isPresent(), nodeId + " not registered yet");
              return node.get();
            });
  }

  private static void awaitFile(Path file, boolean exists) {
    testKit
        .createTestProbe()
        .awaitAssert(
            AWAIT,
            () -> {
              assertEquals(exists, Files.exists(file), file + (exists ? " saved" : " deleted"));
              return null;
            });
  }

  private static ProxyProtocolConfig.Version proxyProtocol(Cluster cluster) throws Exception {
    return cluster
        .getTransportSocket()
        .getTypedConfig()
        .unpack(ProxyProtocolUpstreamTransport.class)
        .getConfig()
        .getVersion();
  }
}
