package io.sigma.agent.xds;

import static io.sigma.agent.xds.AdsTestClient.clusterNames;
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
import io.envoyproxy.envoy.service.discovery.v3.AggregatedDiscoveryServiceGrpc;
import io.envoyproxy.envoy.service.discovery.v3.DeltaDiscoveryRequest;
import io.envoyproxy.envoy.service.discovery.v3.DeltaDiscoveryResponse;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryResponse;
import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import io.sigma.agent.api.EnvoyRoute;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
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

  private static final String ROUTES_TYPE = "type.googleapis.com/envoy.config.route.v3.RouteConfiguration";

  private static ActorTestKit testKit;
  private static ActorRef<SnapshotRegistry.Command> registry;
  private static XdsServer server;
  private static ManagedChannel channel;
  private static final RouteResourceMapper mapper = new RouteResourceMapper();

  @BeforeAll
  static void start() throws Exception {
    testKit = ActorTestKit.create(ConfigFactory.parseString("pekko.http.server.enable-http2 = on"));
    registry = testKit.spawn(SnapshotRegistry.create(), "xds-registry");
    AdsService service = new AdsService(registry, XdsEvents.NO_OP, Clock.systemUTC());
    server = XdsServer.start(testKit.system(), service, "127.0.0.1", 0)
        .toCompletableFuture().get(10, TimeUnit.SECONDS);
    channel = Grpc.newChannelBuilderForAddress("127.0.0.1", server.port(), InsecureChannelCredentials.create())
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
    setSnapshot(node, 5, List.of(
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
      assertEquals(List.of("cluster-db", "cluster-web", "cluster-mail"), decoded.stream().map(Cluster::getName).toList());
      assertEquals(List.of(Cluster.DiscoveryType.STATIC, Cluster.DiscoveryType.STRICT_DNS, Cluster.DiscoveryType.LOGICAL_DNS),
          decoded.stream().map(Cluster::getType).toList());
      assertEquals(List.of(3L, 4L, 5L), decoded.stream().map(c -> c.getConnectTimeout().getSeconds()).toList());
      assertEquals("10.0.0.7", decoded.get(0).getLoadAssignment().getEndpoints(0).getLbEndpoints(0)
          .getEndpoint().getAddress().getSocketAddress().getAddress());
      assertEquals(5432, decoded.get(0).getLoadAssignment().getEndpoints(0).getLbEndpoints(0)
          .getEndpoint().getAddress().getSocketAddress().getPortValue());
      assertFalse(decoded.get(0).hasTransportSocket());
      assertEquals(ProxyProtocolConfig.Version.V1, decoded.get(1).getTransportSocket().getTypedConfig()
          .unpack(ProxyProtocolUpstreamTransport.class).getConfig().getVersion());
      assertEquals(ProxyProtocolConfig.Version.V2, decoded.get(2).getTransportSocket().getTypedConfig()
          .unpack(ProxyProtocolUpstreamTransport.class).getConfig().getVersion());
      envoy.ack(clusters);

      envoy.subscribe(TypeUrls.LISTENER);
      DiscoveryResponse listeners = envoy.next(TypeUrls.LISTENER);
      assertEquals("5", listeners.getVersionInfo());
      List<Listener> decodedListeners = unpack(listeners, Listener.class);
      assertEquals(List.of("listener-db", "listener-web", "listener-mail"),
          decodedListeners.stream().map(Listener::getName).toList());
      assertEquals(List.of(10001, 10002, 10003),
          decodedListeners.stream().map(l -> l.getAddress().getSocketAddress().getPortValue()).toList());
      TcpProxy web = decodedListeners.get(1).getFilterChains(0).getFilters(0).getTypedConfig().unpack(TcpProxy.class);
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

      setSnapshot(node, 2, List.of(route("a", 10001, "a.example", 80), route("b", 10002, "b.example", 81)));

      DiscoveryResponse clusters = envoy.next(TypeUrls.CLUSTER);
      assertEquals("2", clusters.getVersionInfo());
      assertEquals(List.of("cluster-a", "cluster-b"),
          unpack(clusters, Cluster.class).stream().map(Cluster::getName).toList());
      envoy.ack(clusters);
      DiscoveryResponse listeners = envoy.next(TypeUrls.LISTENER);
      assertEquals("2", listeners.getVersionInfo());
      assertEquals(List.of("listener-a", "listener-b"),
          unpack(listeners, Listener.class).stream().map(Listener::getName).toList());
      envoy.ack(listeners);

      awaitStream(node, s -> "2".equals(acked(s, TypeUrls.CLUSTER)) && "2".equals(acked(s, TypeUrls.LISTENER)));
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
      assertEquals("2", clusters2.getVersionInfo());

      envoy.nack(clusters2, "1", "cluster-b: no healthy upstream resolver");
      envoy.ack(listeners2);
      StreamStatus stream = awaitStream(node, s -> s.type(TypeUrls.CLUSTER).nacks() == 1
          && "2".equals(acked(s, TypeUrls.LISTENER)));
      ResourceTypeStatus clusterStatus = stream.type(TypeUrls.CLUSTER);
      assertEquals("1", clusterStatus.ackedVersion());
      assertEquals("2", clusterStatus.lastNackVersion());
      assertEquals("cluster-b: no healthy upstream resolver", clusterStatus.lastNackMessage());
      assertTrue(clusterStatus.lastNackAt() != null);

      setSnapshot(node, 3, List.of(route("c", 10003, "c.example", 80)));
      DiscoveryResponse next = envoy.next(TypeUrls.CLUSTER);
      assertEquals("3", next.getVersionInfo(), "the NACKed version 2 must not come back");
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
      setSnapshot(node, 2, List.of(route("b", 10002, "b.example", 80)));
      DiscoveryResponse clusters2 = envoy.next(TypeUrls.CLUSTER);
      DiscoveryResponse listeners2 = envoy.next(TypeUrls.LISTENER);

      envoy.nack(first[0], "0", "complaint about an old response");
      envoy.send(envoy.request(TypeUrls.CLUSTER, "1", "not-a-nonce-we-sent"));
      envoy.ack(clusters2);
      envoy.ack(listeners2);

      StreamStatus stream = awaitStream(node, s -> "2".equals(acked(s, TypeUrls.CLUSTER))
          && "2".equals(acked(s, TypeUrls.LISTENER)));
      assertEquals(0, stream.type(TypeUrls.CLUSTER).nacks());
      assertEquals(2, stream.type(TypeUrls.CLUSTER).acks());
      assertEquals(2, stream.type(TypeUrls.CLUSTER).responses());
      setSnapshot(node, 3, List.of(route("c", 10003, "c.example", 80)));
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
    setSnapshot("node-y", 7, List.of(route("y1", 12001, "y.example", 80), route("y2", 12002, "y.example", 81)));
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

      setSnapshot(node, 2, List.of(route("b", 10002, "b.example", 80)));
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
      awaitNode(node, n -> n.streams().size() == 2 && n.streams().stream()
          .allMatch(s -> "1".equals(acked(s, TypeUrls.CLUSTER)) && "1".equals(acked(s, TypeUrls.LISTENER))));

      int last = 30;
      for (int version = 2; version <= last; version++) {
        setSnapshot(node, version, manyRoutes(version, 50));
        fast.readAndAckUntil(String.valueOf(version));
      }

      NodeStatus whileSlowSleeps = awaitNode(node, n -> n.streams().size() == 2);
      long slowAcks = whileSlowSleeps.streams().stream()
          .filter(s -> "1".equals(acked(s, TypeUrls.CLUSTER))).count();
      assertEquals(1, slowAcks, "the slow stream is still at version 1 while the fast one moved on");

      List<String> clusterVersions = new ArrayList<>();
      List<String> listenerVersions = new ArrayList<>();
      while (!(clusterVersions.contains(String.valueOf(last)) && listenerVersions.contains(String.valueOf(last)))) {
        DiscoveryResponse response = slow.next();
        (TypeUrls.CLUSTER.equals(response.getTypeUrl()) ? clusterVersions : listenerVersions)
            .add(response.getVersionInfo());
        slow.ack(response);
      }
      assertEquals(List.of("2", "30"), clusterVersions, "versions 3..29 are skipped, not queued");
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
      assertEquals("9", clusters.getVersionInfo(), "the first response is the first snapshot, not an empty config");
      assertEquals(1, clusters.getResourcesCount());
    }
  }

  @Test
  void removedNodeStreamsGetAnEmptyState() throws Exception {
    String node = "removed";
    setSnapshot(node, 6, List.of(route("a", 10001, "a.example", 80)));
    try (AdsTestClient envoy = AdsTestClient.connect(channel, node)) {
      handshake(envoy, "6");

      registry.tell(new SnapshotRegistry.RemoveNode(node));

      DiscoveryResponse clusters = envoy.next(TypeUrls.CLUSTER);
      assertEquals("7", clusters.getVersionInfo());
      assertEquals(0, clusters.getResourcesCount());
      envoy.ack(clusters);
      DiscoveryResponse listeners = envoy.next(TypeUrls.LISTENER);
      assertEquals("7", listeners.getVersionInfo());
      assertEquals(0, listeners.getResourcesCount());
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
  void deltaAdsIsUnimplemented() throws Exception {
    CompletableFuture<Status> closed = new CompletableFuture<>();
    StreamObserver<DeltaDiscoveryRequest> requests = AggregatedDiscoveryServiceGrpc.newStub(channel)
        .deltaAggregatedResources(new StreamObserver<>() {
          @Override
          public void onNext(DeltaDiscoveryResponse value) {
            closed.completeExceptionally(new AssertionError("unexpected delta response " + value));
          }

          @Override
          public void onError(Throwable t) {
            closed.complete(Status.fromThrowable(t));
          }

          @Override
          public void onCompleted() {
            closed.complete(Status.OK);
          }
        });
    requests.onNext(DeltaDiscoveryRequest.newBuilder().setTypeUrl(TypeUrls.CLUSTER).build());

    Status status = closed.get(AdsTestClient.TIMEOUT_SECONDS, TimeUnit.SECONDS);

    assertEquals(Status.Code.UNIMPLEMENTED, status.getCode());
    assertTrue(status.getDescription().contains("StreamAggregatedResources"), status.getDescription());
  }

  // --- helpers -------------------------------------------------------------------------------

  private static void setSnapshot(String node, long version, List<EnvoyRoute> routes) {
    registry.tell(new SnapshotRegistry.SetSnapshot(mapper.map(routes).toSnapshot(node, version)));
  }

  /** Envoy's start-up on one stream (Clusters then Listeners, each ACKed) at {@code version}. */
  private static DiscoveryResponse[] handshake(AdsTestClient envoy, String version) throws Exception {
    DiscoveryResponse[] responses = envoy.handshake();
    assertEquals(version, responses[0].getVersionInfo());
    assertEquals(version, responses[1].getVersionInfo());
    return responses;
  }

  private static List<EnvoyRoute> manyRoutes(int version, int count) {
    List<EnvoyRoute> routes = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      routes.add(route("v" + version + "-r" + i, 20000 + i, "backend-" + i + ".example", 30000 + version));
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
    return probe.awaitAssert(Duration.ofSeconds(AdsTestClient.TIMEOUT_SECONDS), () -> {
      registry.tell(new SnapshotRegistry.GetStatus(probe.ref()));
      NodeStatus status = probe.receiveMessage().node(node);
      assertTrue(status != null && condition.test(status), "node " + node + " status: " + status);
      return status;
    });
  }

  /** Polls the registry until the node's only stream satisfies {@code condition}. */
  private static StreamStatus awaitStream(String node, Predicate<StreamStatus> condition) {
    return awaitNode(node, n -> n.streams().size() == 1 && condition.test(n.streams().get(0)))
        .streams().get(0);
  }
}
