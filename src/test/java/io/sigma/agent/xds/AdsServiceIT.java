package io.sigma.agent.xds;

import static io.sigma.agent.xds.AdsTestClient.clusterNames;
import static io.sigma.agent.xds.AdsTestClient.listenerNames;
import static io.sigma.agent.xds.AdsTestClient.unpack;
import static io.sigma.agent.xds.Routes.route;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.ConfigFactory;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.core.v3.ProxyProtocolConfig;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy;
import io.envoyproxy.envoy.extensions.transport_sockets.proxy_protocol.v3.ProxyProtocolUpstreamTransport;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryResponse;
import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.sigma.agent.api.EnvoyRoute;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The ADS service over real gRPC on 127.0.0.1, driven by an Envoy-like grpc-java client. */
class AdsServiceIT {

  private static final String ROUTES_TYPE =
      "type.googleapis.com/envoy.config.route.v3.RouteConfiguration";

  private static ActorTestKit testKit;
  private static ActorRef<SnapshotRegistry.Command> registry;
  private static XdsServer server;
  private static ManagedChannel channel;
  private static final RouteResourceMapper mapper = new RouteResourceMapper();

  @BeforeAll
  static void start() throws Exception {
    testKit = ActorTestKit.create(ConfigFactory.parseString("pekko.http.server.enable-http2 = on"));
    registry = testKit.spawn(SnapshotRegistry.create(), "xds-registry");
    AdsService service = new AdsService(registry, new XdsEvents() {}, Clock.systemUTC());
    server =
        XdsServer.start(testKit.system(), service, "127.0.0.1", 0)
            .toCompletableFuture()
            .get(10, TimeUnit.SECONDS);
    channel =
        Grpc.newChannelBuilderForAddress(
                "127.0.0.1", server.port(), InsecureChannelCredentials.create())
            .build();
  }

  @AfterAll
  static void stop() throws Exception {
    channel.shutdownNow().awaitTermination(10, TimeUnit.SECONDS);
    server.stop(Duration.ofSeconds(2)).toCompletableFuture().get(10, TimeUnit.SECONDS);
    testKit.shutdownTestKit();
  }

  @Test
  void fullHandshakeServesDecodedResourcesForSeveralRoutes() throws Exception {
    String node = "handshake";
    setSnapshot(
        node,
        5,
        List.of(
            route("db", 10001, "10.0.0.7", 5432, "static", 3, 0),
            route("web", 10002, "web.example", 443, "strict_dns", 4, 1),
            route("mail", 10003, "mail.example", 25, "logical_dns", null, 2),
            route("todo", 10004, null, null)));

    try (AdsTestClient envoy = AdsTestClient.connect(channel, node)) {
      envoy.subscribe(TypeUrls.CLUSTER);
      DiscoveryResponse clusters = envoy.next(TypeUrls.CLUSTER);
      assertEquals("5", clusters.getVersionInfo());
      assertFalse(clusters.getNonce().isEmpty());
      List<Cluster> decoded = unpack(clusters, Cluster.class);
      assertEquals(
          List.of("cluster-db", "cluster-web", "cluster-mail"),
          decoded.stream().map(Cluster::getName).toList());
      assertEquals(
          List.of(
              Cluster.DiscoveryType.STATIC,
              Cluster.DiscoveryType.STRICT_DNS,
              Cluster.DiscoveryType.LOGICAL_DNS),
          decoded.stream().map(Cluster::getType).toList());
      assertEquals(
          List.of(3L, 4L, 5L),
          decoded.stream().map(c -> c.getConnectTimeout().getSeconds()).toList());
      assertEquals(
          "10.0.0.7",
          decoded
              .get(0)
              .getLoadAssignment()
              .getEndpoints(0)
              .getLbEndpoints(0)
              .getEndpoint()
              .getAddress()
              .getSocketAddress()
              .getAddress());
      assertEquals(
          5432,
          decoded
              .get(0)
              .getLoadAssignment()
              .getEndpoints(0)
              .getLbEndpoints(0)
              .getEndpoint()
              .getAddress()
              .getSocketAddress()
              .getPortValue());
      assertFalse(decoded.get(0).hasTransportSocket());
      assertEquals(
          ProxyProtocolConfig.Version.V1,
          decoded
              .get(1)
              .getTransportSocket()
              .getTypedConfig()
              .unpack(ProxyProtocolUpstreamTransport.class)
              .getConfig()
              .getVersion());
      assertEquals(
          ProxyProtocolConfig.Version.V2,
          decoded
              .get(2)
              .getTransportSocket()
              .getTypedConfig()
              .unpack(ProxyProtocolUpstreamTransport.class)
              .getConfig()
              .getVersion());
      envoy.ack(clusters);

      envoy.subscribe(TypeUrls.LISTENER);
      DiscoveryResponse listeners = envoy.next(TypeUrls.LISTENER);
      assertEquals("5", listeners.getVersionInfo());
      List<Listener> decodedListeners = unpack(listeners, Listener.class);
      assertEquals(
          List.of("listener-db", "listener-web", "listener-mail"),
          decodedListeners.stream().map(Listener::getName).toList());
      assertEquals(
          List.of(10001, 10002, 10003),
          decodedListeners.stream()
              .map(l -> l.getAddress().getSocketAddress().getPortValue())
              .toList());
      TcpProxy web =
          decodedListeners
              .get(1)
              .getFilterChains(0)
              .getFilters(0)
              .getTypedConfig()
              .unpack(TcpProxy.class);
      assertEquals("tcp-web", web.getStatPrefix());
      assertEquals("cluster-web", web.getCluster());
      envoy.ack(listeners);

      StreamStatus stream = awaitStream(node, s -> "5".equals(acked(s, TypeUrls.LISTENER)));
      assertEquals("5", acked(stream, TypeUrls.CLUSTER));
      assertEquals("5", stream.snapshotVersion());
      NodeStatus status = awaitNode(node, n -> true);
      assertEquals(5L, status.snapshotVersion());
      assertEquals(3, status.routeCount());
    }
  }

  @Test
  void newSnapshotIsPushedClustersFirstThenListeners() throws Exception {
    String node = "push";
    setSnapshot(node, 1, List.of(route("a", 10001, "a.example", 80)));
    try (AdsTestClient envoy = AdsTestClient.connect(channel, node)) {
      handshake(envoy, "1");

      setSnapshot(
          node, 2, List.of(route("a", 10001, "a.example", 80), route("b", 10002, "b.example", 81)));

      DiscoveryResponse clusters = envoy.next(TypeUrls.CLUSTER);
      assertEquals("2", clusters.getVersionInfo());
      assertEquals(
          List.of("cluster-a", "cluster-b"),
          unpack(clusters, Cluster.class).stream().map(Cluster::getName).toList());
      envoy.ack(clusters);
      DiscoveryResponse listeners = envoy.next(TypeUrls.LISTENER);
      assertEquals("2", listeners.getVersionInfo());
      assertEquals(
          List.of("listener-a", "listener-b"),
          unpack(listeners, Listener.class).stream().map(Listener::getName).toList());
      envoy.ack(listeners);

      awaitStream(
          node,
          s -> "2".equals(acked(s, TypeUrls.CLUSTER)) && "2".equals(acked(s, TypeUrls.LISTENER)));
    }
  }

  @Test
  void nackIsRecordedAndTheRejectedVersionIsNotResent() throws Exception {
    String node = "nack";
    setSnapshot(node, 1, List.of(route("a", 10001, "a.example", 80)));
    try (AdsTestClient envoy = AdsTestClient.connect(channel, node)) {
      handshake(envoy, "1");
      setSnapshot(node, 2, List.of(route("b", 10002, "b.example", 80)));
      DiscoveryResponse clusters2 = envoy.next(TypeUrls.CLUSTER);
      DiscoveryResponse listeners2 = envoy.next(TypeUrls.LISTENER);
      assertTrue(
          clusters2.getVersionInfo().startsWith("2+"),
          "cluster-a kept for listener-a: " + clusters2.getVersionInfo());
      assertEquals(List.of("cluster-b", "cluster-a"), clusterNames(clusters2));

      envoy.nack(clusters2, "1", "cluster-b: no healthy upstream resolver");
      envoy.ack(listeners2);
      StreamStatus stream =
          awaitStream(
              node,
              s ->
                  s.type(TypeUrls.CLUSTER).nacks() == 1 && "2".equals(acked(s, TypeUrls.LISTENER)));
      ResourceTypeStatus clusterStatus = stream.type(TypeUrls.CLUSTER);
      assertEquals("1", clusterStatus.ackedVersion());
      assertEquals(clusters2.getVersionInfo(), clusterStatus.lastNackVersion());
      assertEquals("cluster-b: no healthy upstream resolver", clusterStatus.lastNackMessage());
      assertTrue(clusterStatus.lastNackAt() != null);

      // listener-a is gone (listeners 2 ACKed), so cluster-a goes: a new set, not the NACKed one.
      DiscoveryResponse withoutA = envoy.next(TypeUrls.CLUSTER);
      assertEquals("2", withoutA.getVersionInfo());
      assertEquals(List.of("cluster-b"), clusterNames(withoutA));
      envoy.ack(withoutA);

      setSnapshot(node, 3, List.of(route("c", 10003, "c.example", 80)));
      DiscoveryResponse next = envoy.next(TypeUrls.CLUSTER);
      assertTrue(next.getVersionInfo().startsWith("3+"), next.getVersionInfo());
      assertEquals(
          List.of("cluster-c", "cluster-b"),
          clusterNames(next),
          "listener-b (ACKed) still uses cluster-b");
      envoy.ack(next);
      assertEquals("3", envoy.next(TypeUrls.LISTENER).getVersionInfo());
    }
  }

  @Test
  void staleNonceIsIgnored() throws Exception {
    String node = "stale";
    setSnapshot(node, 1, List.of(route("a", 10001, "a.example", 80)));
    try (AdsTestClient envoy = AdsTestClient.connect(channel, node)) {
      DiscoveryResponse[] first = handshake(envoy, "1");
      setSnapshot(
          node, 2, List.of(route("a", 10001, "a.example", 80), route("b", 10002, "b.example", 80)));
      DiscoveryResponse clusters2 = envoy.next(TypeUrls.CLUSTER);
      DiscoveryResponse listeners2 = envoy.next(TypeUrls.LISTENER);

      envoy.nack(first[0], "0", "complaint about an old response");
      envoy.send(envoy.request(TypeUrls.CLUSTER, "1", "not-a-nonce-we-sent"));
      envoy.ack(clusters2);
      envoy.ack(listeners2);

      StreamStatus stream =
          awaitStream(
              node,
              s ->
                  "2".equals(acked(s, TypeUrls.CLUSTER))
                      && "2".equals(acked(s, TypeUrls.LISTENER)));
      assertEquals(0, stream.type(TypeUrls.CLUSTER).nacks());
      assertEquals(2, stream.type(TypeUrls.CLUSTER).acks());
      assertEquals(2, stream.type(TypeUrls.CLUSTER).responses());
      setSnapshot(
          node,
          3,
          List.of(
              route("a", 10001, "a.example", 80),
              route("b", 10002, "b.example", 80),
              route("c", 10003, "c.example", 80)));
      assertEquals("3", envoy.next(TypeUrls.CLUSTER).getVersionInfo());
    }
  }

  @Test
  void missingNodeIdEndsTheStreamWithInvalidArgument() throws Exception {
    try (AdsTestClient envoy = AdsTestClient.connect(channel, "")) {
      envoy.subscribe(TypeUrls.CLUSTER);

      Status status = envoy.awaitClosed();

      assertEquals(Status.Code.INVALID_ARGUMENT, status.getCode());
      assertTrue(status.getDescription().contains("node.id"), status.getDescription());
    }
  }

  @Test
  void twoNodesAtOnceEachGetTheirOwnConfig() throws Exception {
    setSnapshot("node-x", 1, List.of(route("x", 11001, "x.example", 80)));
    setSnapshot(
        "node-y",
        7,
        List.of(route("y1", 12001, "y.example", 80), route("y2", 12002, "y.example", 81)));
    try (AdsTestClient x = AdsTestClient.connect(channel, "node-x");
        AdsTestClient y = AdsTestClient.connect(channel, "node-y")) {
      x.subscribe(TypeUrls.CLUSTER);
      y.subscribe(TypeUrls.CLUSTER);
      DiscoveryResponse xClusters = x.next(TypeUrls.CLUSTER);
      DiscoveryResponse yClusters = y.next(TypeUrls.CLUSTER);
      assertEquals("1", xClusters.getVersionInfo());
      assertEquals(List.of("cluster-x"), clusterNames(xClusters));
      assertEquals("7", yClusters.getVersionInfo());
      assertEquals(List.of("cluster-y1", "cluster-y2"), clusterNames(yClusters));
      x.ack(xClusters);
      y.ack(yClusters);
      awaitStream("node-x", s -> "1".equals(acked(s, TypeUrls.CLUSTER)));
      awaitStream("node-y", s -> "7".equals(acked(s, TypeUrls.CLUSTER)));

      setSnapshot("node-x", 2, List.of(route("x2", 11002, "x.example", 80)));
      setSnapshot("node-y", 8, List.of(route("y3", 12003, "y.example", 80)));

      DiscoveryResponse xPushed = x.next(TypeUrls.CLUSTER);
      DiscoveryResponse yPushed = y.next(TypeUrls.CLUSTER);
      assertEquals("2", xPushed.getVersionInfo());
      assertEquals(List.of("cluster-x2"), clusterNames(xPushed));
      assertEquals("8", yPushed.getVersionInfo(), "node-y's first push is its own, not node-x's");
      assertEquals(List.of("cluster-y3"), clusterNames(yPushed));
    }
  }

  @Test
  void unknownTypeGetsAnEmptyResponseAndTheStreamStays() throws Exception {
    String node = "unknown-type";
    setSnapshot(node, 1, List.of(route("a", 10001, "a.example", 80)));
    try (AdsTestClient envoy = AdsTestClient.connect(channel, node)) {
      handshake(envoy, "1");

      envoy.subscribe(ROUTES_TYPE);
      DiscoveryResponse routes = envoy.next(ROUTES_TYPE);
      assertEquals(0, routes.getResourcesCount());
      assertFalse(routes.getNonce().isEmpty());
      envoy.ack(routes);

      setSnapshot(
          node, 2, List.of(route("a", 10001, "a.example", 80), route("b", 10002, "b.example", 80)));
      DiscoveryResponse clusters = envoy.next(TypeUrls.CLUSTER);
      assertEquals("2", clusters.getVersionInfo());
      envoy.ack(clusters);
      assertEquals("2", envoy.next(TypeUrls.LISTENER).getVersionInfo());
    }
  }

  @Test
  void slowClientDoesNotBlockAFastOneAndLaterSkipsToTheNewestVersion() throws Exception {
    String node = "slow-and-fast";
    setSnapshot(node, 1, manyRoutes(1, 50));
    try (AdsTestClient slow = AdsTestClient.connect(channel, node);
        AdsTestClient fast = AdsTestClient.connect(channel, node)) {
      handshake(slow, "1");
      handshake(fast, "1");
      awaitNode(
          node,
          n ->
              n.streams().size() == 2
                  && n.streams().stream()
                      .allMatch(
                          s ->
                              "1".equals(acked(s, TypeUrls.CLUSTER))
                                  && "1".equals(acked(s, TypeUrls.LISTENER))));

      int last = 30;
      for (int version = 2; version <= last; version++) {
        setSnapshot(node, version, manyRoutes(version, 50));
        fast.readAndAckUntil(String.valueOf(version));
      }

      NodeStatus whileSlowSleeps = awaitNode(node, n -> n.streams().size() == 2);
      long slowAcks =
          whileSlowSleeps.streams().stream()
              .filter(s -> "1".equals(acked(s, TypeUrls.CLUSTER)))
              .count();
      assertEquals(
          1, slowAcks, "the slow stream is still at version 1 while the fast one moved on");

      List<String> clusterVersions = new ArrayList<>();
      List<String> listenerVersions = new ArrayList<>();
      while (!(clusterVersions.contains(String.valueOf(last))
          && listenerVersions.contains(String.valueOf(last)))) {
        DiscoveryResponse response = slow.next();
        (TypeUrls.CLUSTER.equals(response.getTypeUrl()) ? clusterVersions : listenerVersions)
            .add(response.getVersionInfo());
        slow.ack(response);
      }
      // Each version's Cluster push may come in steps (old Clusters retained until the Listeners
      // that use them are replaced): "2+…", "30+…", "30".
      assertEquals(
          List.of("2", "30"),
          clusterVersions.stream().map(v -> v.split("\\+")[0]).distinct().toList(),
          "versions 3..29 are skipped, not queued: " + clusterVersions);
      assertEquals(String.valueOf(last), clusterVersions.get(clusterVersions.size() - 1));
      assertEquals(List.of("2", "30"), listenerVersions);
      assertEquals(50, currentClusters(node).size());
    }
  }

  @Test
  void reconnectingEnvoyGetsTheCurrentState() throws Exception {
    String node = "reconnect";
    setSnapshot(node, 3, List.of(route("a", 10001, "a.example", 80)));
    try (AdsTestClient before = AdsTestClient.connect(channel, node)) {
      handshake(before, "3");
    }
    awaitNode(node, n -> n.streams().isEmpty());
    setSnapshot(node, 4, List.of(route("b", 10002, "b.example", 80)));

    try (AdsTestClient after = AdsTestClient.connect(channel, node)) {
      after.subscribe(TypeUrls.CLUSTER, "3");
      DiscoveryResponse clusters = after.next(TypeUrls.CLUSTER);
      assertEquals("4", clusters.getVersionInfo());
      assertEquals(List.of("cluster-b"), clusterNames(clusters));
      after.ack(clusters);
      after.subscribe(TypeUrls.LISTENER, "3");
      assertEquals("4", after.next(TypeUrls.LISTENER).getVersionInfo());
    }

    try (AdsTestClient upToDate = AdsTestClient.connect(channel, node)) {
      upToDate.subscribe(TypeUrls.CLUSTER, "4");
      DiscoveryResponse clusters = upToDate.next(TypeUrls.CLUSTER);
      assertEquals("4", clusters.getVersionInfo());
      assertEquals(List.of("cluster-b"), clusterNames(clusters));
    }
  }

  @Test
  void streamWaitsForTheNodesFirstSnapshot() throws Exception {
    String node = "late-config";
    try (AdsTestClient envoy = AdsTestClient.connect(channel, node)) {
      envoy.subscribe(TypeUrls.CLUSTER);
      StreamStatus waiting = awaitStream(node, s -> s.type(TypeUrls.CLUSTER) != null);
      assertEquals(null, waiting.snapshotVersion());
      assertEquals(0, waiting.type(TypeUrls.CLUSTER).responses());

      setSnapshot(node, 9, List.of(route("a", 10001, "a.example", 80)));

      DiscoveryResponse clusters = envoy.next(TypeUrls.CLUSTER);
      assertEquals(
          "9",
          clusters.getVersionInfo(),
          "the first response is the first snapshot, not an empty config");
      assertEquals(1, clusters.getResourcesCount());
    }
  }

  @Test
  void removedNodeStreamsGetAnEmptyState() throws Exception {
    String node = "removed";
    setSnapshot(node, 6, List.of(route("a", 10001, "a.example", 80)));
    try (AdsTestClient envoy = AdsTestClient.connect(channel, node)) {
      handshake(envoy, "6");

      registry.tell(new SnapshotRegistry.RemoveNode(node, 0));

      DiscoveryResponse listeners = envoy.next(TypeUrls.LISTENER);
      assertEquals("7", listeners.getVersionInfo());
      assertEquals(0, listeners.getResourcesCount());
      envoy.ack(listeners);
      DiscoveryResponse clusters = envoy.next(TypeUrls.CLUSTER);
      assertEquals(
          "7", clusters.getVersionInfo(), "Clusters go only after the Listeners using them");
      assertEquals(0, clusters.getResourcesCount());
    }
  }

  @Test
  void closedStreamLeavesTheStatus() throws Exception {
    String node = "closing";
    setSnapshot(node, 1, List.of(route("a", 10001, "a.example", 80)));
    AdsTestClient envoy = AdsTestClient.connect(channel, node);
    handshake(envoy, "1");
    awaitNode(node, n -> n.streams().size() == 1);

    envoy.close();

    NodeStatus after = awaitNode(node, n -> n.streams().isEmpty());
    assertEquals(1L, after.snapshotVersion());
  }

  @Test
  void renameKeepsTheOldClusterUntilTheNewListenersAreAcked() throws Exception {
    String node = "rename";
    setSnapshot(node, 1, List.of(route("r", 10001, "backend.example", 80)));
    try (AdsTestClient envoy = AdsTestClient.connect(channel, node)) {
      handshake(envoy, "1");

      setSnapshot(node, 2, List.of(route("s", 10001, "backend.example", 80)));

      DiscoveryResponse both = envoy.next(TypeUrls.CLUSTER);
      assertEquals(List.of("cluster-s", "cluster-r"), clusterNames(both));
      assertTrue(both.getVersionInfo().startsWith("2+"), both.getVersionInfo());
      envoy.ack(both);
      DiscoveryResponse listeners = envoy.next(TypeUrls.LISTENER);
      assertEquals(List.of("listener-s"), listenerNames(listeners));
      assertEquals("2", listeners.getVersionInfo());
      envoy.ack(listeners);
      DiscoveryResponse onlyNew = envoy.next(TypeUrls.CLUSTER);
      assertEquals(List.of("cluster-s"), clusterNames(onlyNew));
      assertEquals("2", onlyNew.getVersionInfo());
      envoy.ack(onlyNew);

      awaitStream(
          node,
          s -> "2".equals(acked(s, TypeUrls.CLUSTER)) && "2".equals(acked(s, TypeUrls.LISTENER)));
    }
  }

  @Test
  void clientThatHalfClosesAfterItsRequestStillGetsTheAnswer() throws Exception {
    String node = "half-close";
    setSnapshot(node, 4, List.of(route("a", 10001, "a.example", 80)));
    try (AdsTestClient client = AdsTestClient.connect(channel, node)) {
      client.subscribe(TypeUrls.CLUSTER);
      client.halfClose();

      DiscoveryResponse clusters = client.next(TypeUrls.CLUSTER);

      assertEquals("4", clusters.getVersionInfo());
      assertEquals(List.of("cluster-a"), clusterNames(clusters));
      assertEquals(
          Status.Code.OK, client.awaitClosed().getCode(), "then the stream ends: no ACK can come");
      awaitNode(node, n -> n.streams().isEmpty());
    }
  }

  @Test
  void halfClosedClientWaitsForTheNodesFirstSnapshot() throws Exception {
    String node = "half-close-late";
    try (AdsTestClient client = AdsTestClient.connect(channel, node)) {
      client.subscribe(TypeUrls.CLUSTER);
      client.halfClose();
      awaitStream(node, s -> s.type(TypeUrls.CLUSTER) != null);

      setSnapshot(node, 2, List.of(route("a", 10001, "a.example", 80)));

      assertEquals("2", client.next(TypeUrls.CLUSTER).getVersionInfo());
      assertEquals(Status.Code.OK, client.awaitClosed().getCode());
    }
  }

  @Test
  void overlongNodeIdIsRefusedWithInvalidArgument() throws Exception {
    try (AdsTestClient envoy =
        AdsTestClient.connect(channel, "n".repeat(AdsService.MAX_NODE_ID_CHARS + 1))) {
      envoy.subscribe(TypeUrls.CLUSTER);

      Status status = envoy.awaitClosed();

      assertEquals(Status.Code.INVALID_ARGUMENT, status.getCode());
      assertTrue(status.getDescription().contains("node.id"), status.getDescription());
    }
    try (AdsTestClient longest =
        AdsTestClient.connect(channel, "n".repeat(AdsService.MAX_NODE_ID_CHARS))) {
      setSnapshot(
          "n".repeat(AdsService.MAX_NODE_ID_CHARS), 1, List.of(route("a", 10001, "a.example", 80)));
      longest.subscribe(TypeUrls.CLUSTER);
      assertEquals("1", longest.next(TypeUrls.CLUSTER).getVersionInfo(), "256 characters are fine");
    }
  }

  @Test
  void subscribingToTooManyTypesClosesOnlyThatStream() throws Exception {
    String node = "greedy";
    setSnapshot(node, 1, List.of(route("a", 10001, "a.example", 80)));
    try (AdsTestClient greedy = AdsTestClient.connect(channel, node);
        AdsTestClient envoy = AdsTestClient.connect(channel, node)) {
      for (int i = 0; i <= AdsStreamState.MAX_TYPE_URLS; i++) {
        greedy.subscribe("type.googleapis.com/test.Type" + i);
      }

      Status status = greedy.awaitClosed();

      assertEquals(Status.Code.RESOURCE_EXHAUSTED, status.getCode());
      assertTrue(status.getDescription().contains("resource types"), status.getDescription());
      handshake(envoy, "1");
    }
  }

  @Test
  void overlongTypeUrlClosesTheStreamWithInvalidArgument() throws Exception {
    String node = "long-type";
    try (AdsTestClient client = AdsTestClient.connect(channel, node)) {
      client.subscribe("type.googleapis.com/" + "x".repeat(AdsStreamState.MAX_TYPE_URL_CHARS));

      Status status = client.awaitClosed();

      assertEquals(Status.Code.INVALID_ARGUMENT, status.getCode());
      assertTrue(status.getDescription().contains("type_url"), status.getDescription());
    }
  }

  @Test
  void confusedClientIsAnsweredOrIgnoredAndTheStreamKeepsServing() throws Exception {
    String node = "confused";
    try (AdsTestClient client = AdsTestClient.connect(channel, node)) {
      client.subscribe(TypeUrls.CLUSTER);
      client.send(client.request(TypeUrls.CLUSTER, "9", "1-1"));
      client.send(client.request(TypeUrls.LISTENER, "9", "nonce-it-never-got"));
      client.send(client.requestAs("x".repeat(10_000), TypeUrls.CLUSTER));
      awaitStream(node, s -> s.type(TypeUrls.LISTENER) != null);

      setSnapshot(node, 3, List.of(route("a", 10001, "a.example", 80)));

      DiscoveryResponse clusters = client.next(TypeUrls.CLUSTER);
      assertEquals("3", clusters.getVersionInfo());
      client.ack(clusters);
      assertEquals("3", client.next(TypeUrls.LISTENER).getVersionInfo());
      client.subscribe("not-a-type-url");
      DiscoveryResponse nonsense = client.next("not-a-type-url");
      assertEquals(0, nonsense.getResourcesCount());
      StreamStatus stream = awaitStream(node, s -> "3".equals(acked(s, TypeUrls.CLUSTER)));
      assertEquals(node, stream.nodeId(), "the stream stays with the node of its first request");
      assertEquals(0, stream.type(TypeUrls.CLUSTER).nacks());
    }
  }

  // --- helpers -------------------------------------------------------------------------------

  private static void setSnapshot(String node, long version, List<EnvoyRoute> routes) {
    registry.tell(new SnapshotRegistry.SetSnapshot(mapper.map(routes).toSnapshot(node, version)));
  }

  /** Envoy's start-up on one stream (Clusters then Listeners, each ACKed) at {@code version}. */
  private static DiscoveryResponse[] handshake(AdsTestClient envoy, String version)
      throws Exception {
    DiscoveryResponse[] responses = envoy.handshake();
    assertEquals(version, responses[0].getVersionInfo());
    assertEquals(version, responses[1].getVersionInfo());
    return responses;
  }

  private static List<EnvoyRoute> manyRoutes(int version, int count) {
    List<EnvoyRoute> routes = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      routes.add(
          route("v" + version + "-r" + i, 20000 + i, "backend-" + i + ".example", 30000 + version));
    }
    return routes;
  }

  /** Reconnects for a moment to read the node's current Clusters (what a fresh Envoy would get). */
  private static List<Cluster> currentClusters(String node) throws Exception {
    try (AdsTestClient probe = AdsTestClient.connect(channel, node)) {
      probe.subscribe(TypeUrls.CLUSTER);
      return unpack(probe.next(TypeUrls.CLUSTER), Cluster.class);
    }
  }

  private static String acked(StreamStatus stream, String typeUrl) {
    ResourceTypeStatus type = stream.type(typeUrl);
    return type == null ? null : type.ackedVersion();
  }

  /** Polls the registry until {@code node} satisfies {@code condition}; returns that status. */
  private static NodeStatus awaitNode(String node, Predicate<NodeStatus> condition) {
    TestProbe<XdsStatus> probe = testKit.createTestProbe();
    return probe.awaitAssert(
        Duration.ofSeconds(AdsTestClient.TIMEOUT_SECONDS),
        () -> {
          registry.tell(new SnapshotRegistry.GetStatus(probe.ref()));
          NodeStatus status = probe.receiveMessage().node(node);
          assertTrue(
              status != null && condition.test(status), "node " + node + " status: " + status);
          return status;
        });
  }

  /** Polls the registry until the node's only stream satisfies {@code condition}. */
  private static StreamStatus awaitStream(String node, Predicate<StreamStatus> condition) {
    return awaitNode(node, n -> n.streams().size() == 1 && condition.test(n.streams().get(0)))
        .streams()
        .get(0);
  }
}
