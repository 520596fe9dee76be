package io.sigma.agent.xds;

import static io.sigma.agent.xds.Routes.route;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.ConfigFactory;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy;
import io.envoyproxy.envoy.service.discovery.v3.DeltaDiscoveryRequest;
import io.envoyproxy.envoy.service.discovery.v3.DeltaDiscoveryResponse;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryResponse;
import io.envoyproxy.envoy.service.discovery.v3.Resource;
import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.sigma.agent.api.EnvoyRoute;
import io.sigma.agent.metrics.AgentMetrics;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Delta ADS over real gRPC on 127.0.0.1, driven by an Envoy-like grpc-java delta client, served by
 * the same AdsService, registry and metrics as state-of-the-world streams.
 */
class DeltaAdsServiceIT {

  private static final String ROUTES_TYPE =
      "type.googleapis.com/envoy.config.route.v3.RouteConfiguration";

  private static ActorTestKit testKit;
  private static ActorRef<SnapshotRegistry.Command> registry;
  private static AgentMetrics metrics;
  private static XdsServer server;
  private static ManagedChannel channel;
  private static final RouteResourceMapper mapper = new RouteResourceMapper();

  @BeforeAll
  static void start() throws Exception {
    testKit = ActorTestKit.create(ConfigFactory.parseString("pekko.http.server.enable-http2 = on"));
    registry = testKit.spawn(SnapshotRegistry.create(), "xds-registry");
    metrics = new AgentMetrics("vps-delta", false, false);
    AdsService service = new AdsService(registry, new XdsMetrics(metrics), Clock.systemUTC());
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
  void handshakeServesDecodedResourcesAndTheStreamIsOnTheStatusAndInTheMetrics() throws Exception {
    String node = "delta-handshake";
    setSnapshot(
        node,
        5,
        List.of(route("db", 10001, "10.0.0.7", 5432), route("web", 10002, "web.example", 443)));

    try (DeltaAdsTestClient envoy = DeltaAdsTestClient.connect(channel, node)) {
      DeltaDiscoveryResponse[] sent = envoy.handshake();

      assertEquals("5", sent[0].getSystemVersionInfo());
      assertEquals(List.of("cluster-db", "cluster-web"), names(sent[0]));
      Cluster db = sent[0].getResources(0).getResource().unpack(Cluster.class);
      assertEquals(
          5432,
          db.getLoadAssignment()
              .getEndpoints(0)
              .getLbEndpoints(0)
              .getEndpoint()
              .getAddress()
              .getSocketAddress()
              .getPortValue());
      assertEquals(List.of("listener-db", "listener-web"), names(sent[1]));
      Listener web = sent[1].getResources(1).getResource().unpack(Listener.class);
      assertEquals(10002, web.getAddress().getSocketAddress().getPortValue());
      assertEquals(
          "cluster-web",
          web.getFilterChains(0)
              .getFilters(0)
              .getTypedConfig()
              .unpack(TcpProxy.class)
              .getCluster());

      StreamStatus stream =
          awaitStream(
              node,
              s ->
                  "5".equals(acked(s, TypeUrls.CLUSTER))
                      && "5".equals(acked(s, TypeUrls.LISTENER)));
      assertEquals("5", stream.snapshotVersion());
      String text = MetricsText.scrape(metrics);
      assertLine(text, "sigma_xds_connected_streams{node=\"" + node + "\"} 1.0");
      assertLine(text, "sigma_xds_acks_total{node=\"" + node + "\",type=\"Listener\"} 1.0");
    }
    awaitNode(node, n -> n.streams().isEmpty());
  }

  @Test
  void aNewSnapshotSendsOnlyWhatChangedClustersFirst() throws Exception {
    String node = "delta-push";
    setSnapshot(
        node, 1, List.of(route("a", 10001, "a.example", 80), route("b", 10002, "b.example", 80)));
    try (DeltaAdsTestClient envoy = DeltaAdsTestClient.connect(channel, node)) {
      envoy.handshake();

      setSnapshot(
          node,
          2,
          List.of(
              route("a", 10001, "a.example", 80),
              route("b", 10002, "b2.example", 80),
              route("c", 10003, "c.example", 80)));

      DeltaDiscoveryResponse clusters = envoy.next(TypeUrls.CLUSTER);
      assertEquals(List.of("cluster-b", "cluster-c"), names(clusters));
      assertEquals("2", clusters.getSystemVersionInfo());
      envoy.ack(clusters);
      DeltaDiscoveryResponse listeners = envoy.next(TypeUrls.LISTENER);
      assertEquals(List.of("listener-c"), names(listeners));
      envoy.ack(listeners);
      awaitStream(node, s -> "2".equals(acked(s, TypeUrls.LISTENER)));
    }
  }

  @Test
  void renameRemovesTheOldClusterOnlyAfterTheNewListenersAreAcked() throws Exception {
    String node = "delta-rename";
    setSnapshot(node, 1, List.of(route("r", 10001, "backend.example", 80)));
    try (DeltaAdsTestClient envoy = DeltaAdsTestClient.connect(channel, node)) {
      envoy.handshake();

      setSnapshot(node, 2, List.of(route("s", 10001, "backend.example", 80)));

      DeltaDiscoveryResponse clusters = envoy.next(TypeUrls.CLUSTER);
      assertEquals(List.of("cluster-s"), names(clusters));
      assertEquals(List.of(), clusters.getRemovedResourcesList());
      envoy.ack(clusters);
      DeltaDiscoveryResponse listeners = envoy.next(TypeUrls.LISTENER);
      assertEquals(List.of("listener-s"), names(listeners));
      assertEquals(List.of("listener-r"), listeners.getRemovedResourcesList());
      assertEquals(List.of("cluster-r", "cluster-s"), envoy.heldNames(TypeUrls.CLUSTER));
      assertEquals(
          List.of("cluster-r"),
          awaitStream(node, s -> !s.retainedClusters().isEmpty()).retainedClusters(),
          "/xds/status shows the retained Cluster");
      envoy.ack(listeners);
      DeltaDiscoveryResponse removal = envoy.next(TypeUrls.CLUSTER);
      assertEquals(0, removal.getResourcesCount());
      assertEquals(List.of("cluster-r"), removal.getRemovedResourcesList());
      envoy.ack(removal);

      assertEquals(List.of("cluster-s"), envoy.heldNames(TypeUrls.CLUSTER));
      awaitStream(
          node, s -> s.retainedClusters().isEmpty() && !s.type(TypeUrls.CLUSTER).awaitingReply());
    }
  }

  @Test
  void nackIsOnTheStatusAndTheStreamGoesOn() throws Exception {
    String node = "delta-nack";
    setSnapshot(node, 1, List.of(route("a", 10001, "a.example", 80)));
    try (DeltaAdsTestClient envoy = DeltaAdsTestClient.connect(channel, node)) {
      envoy.handshake();
      setSnapshot(
          node, 2, List.of(route("a", 10001, "a.example", 80), route("b", 10002, "b.example", 80)));
      envoy.ack(envoy.next(TypeUrls.CLUSTER));

      envoy.nack(envoy.next(TypeUrls.LISTENER), "listener-b: address already in use");

      StreamStatus nacked = awaitStream(node, s -> s.type(TypeUrls.LISTENER).nacks() == 1);
      ResourceTypeStatus listeners = nacked.type(TypeUrls.LISTENER);
      assertEquals("2", listeners.lastNackVersion());
      assertEquals("listener-b: address already in use", listeners.lastNackMessage());
      assertEquals("1", listeners.ackedVersion());
      setSnapshot(
          node, 3, List.of(route("a", 10001, "a.example", 80), route("b", 10003, "b.example", 80)));
      DeltaDiscoveryResponse moved = envoy.next(TypeUrls.LISTENER);
      assertEquals(List.of("listener-b"), names(moved));
      envoy.ack(moved);
      awaitStream(node, s -> "3".equals(acked(s, TypeUrls.LISTENER)));
    }
  }

  @Test
  void removedNodeLosesItsListenersFirstThenItsClusters() throws Exception {
    String node = "delta-removed";
    setSnapshot(node, 1, List.of(route("a", 10001, "a.example", 80)));
    try (DeltaAdsTestClient envoy = DeltaAdsTestClient.connect(channel, node)) {
      envoy.handshake();

      registry.tell(new SnapshotRegistry.RemoveNode(node, 0));

      DeltaDiscoveryResponse listeners = envoy.next(TypeUrls.LISTENER);
      assertEquals(List.of("listener-a"), listeners.getRemovedResourcesList());
      envoy.ack(listeners);
      DeltaDiscoveryResponse clusters = envoy.next(TypeUrls.CLUSTER);
      assertEquals(List.of("cluster-a"), clusters.getRemovedResourcesList());
      envoy.ack(clusters);
      assertEquals(List.of(), envoy.heldNames(TypeUrls.CLUSTER));
      assertEquals(List.of(), envoy.heldNames(TypeUrls.LISTENER));
    }
  }

  @Test
  void reconnectingEnvoyGetsOnlyWhatItLacksAndKeepsTheClustersItsListenersUse() throws Exception {
    String node = "delta-reconnect";
    setSnapshot(
        node, 1, List.of(route("a", 10001, "a.example", 80), route("r", 10002, "r.example", 80)));
    Map<String, Map<String, String>> held;
    try (DeltaAdsTestClient envoy = DeltaAdsTestClient.connect(channel, node)) {
      envoy.handshake();
      held = envoy.held;
    }
    // While Envoy was away, r was renamed to s.
    setSnapshot(
        node, 2, List.of(route("a", 10001, "a.example", 80), route("s", 10002, "r.example", 80)));

    try (DeltaAdsTestClient envoy = DeltaAdsTestClient.connect(channel, node)) {
      envoy.subscribe(TypeUrls.LISTENER, held.get(TypeUrls.LISTENER));
      envoy.subscribe(TypeUrls.CLUSTER, held.get(TypeUrls.CLUSTER));

      DeltaDiscoveryResponse clusters = envoy.next(TypeUrls.CLUSTER);
      assertEquals(List.of("cluster-s"), names(clusters), "cluster-a is not sent again");
      assertEquals(
          List.of(), clusters.getRemovedResourcesList(), "listener-r still uses cluster-r");
      envoy.ack(clusters);
      DeltaDiscoveryResponse listeners = envoy.next(TypeUrls.LISTENER);
      assertEquals(List.of("listener-s"), names(listeners));
      assertEquals(List.of("listener-r"), listeners.getRemovedResourcesList());
      envoy.ack(listeners);
      assertEquals(List.of("cluster-r"), envoy.next(TypeUrls.CLUSTER).getRemovedResourcesList());
    }
  }

  @Test
  void stateOfTheWorldAndDeltaStreamsOfOneNodeAreServedSideBySide() throws Exception {
    String node = "delta-mixed";
    setSnapshot(node, 4, List.of(route("a", 10001, "a.example", 80)));
    try (DeltaAdsTestClient delta = DeltaAdsTestClient.connect(channel, node);
        AdsTestClient sotw = AdsTestClient.connect(channel, node)) {
      DeltaDiscoveryResponse[] deltaSent = delta.handshake();
      DiscoveryResponse[] sotwSent = sotw.handshake();

      assertEquals(names(deltaSent[0]), AdsTestClient.clusterNames(sotwSent[0]));
      assertEquals(
          deltaSent[1].getResources(0).getResource(), sotwSent[1].getResources(0), "same bytes");
      NodeStatus status =
          awaitNode(
              node,
              n ->
                  n.streams().size() == 2
                      && n.streams().stream()
                          .allMatch(s -> "4".equals(acked(s, TypeUrls.LISTENER))));
      assertTrue(status.streams().get(0).streamId() != status.streams().get(1).streamId());
    }
  }

  @Test
  void unknownTypesAreNotAnsweredAndTheStreamKeepsServing() throws Exception {
    String node = "delta-unknown";
    setSnapshot(node, 1, List.of(route("a", 10001, "a.example", 80)));
    try (DeltaAdsTestClient envoy = DeltaAdsTestClient.connect(channel, node)) {
      envoy.subscribe(ROUTES_TYPE);
      envoy.subscribe("not a type url");

      DeltaDiscoveryResponse[] sent = envoy.handshake();

      assertEquals(List.of("cluster-a"), names(sent[0]), "the first answer is Clusters'");
      StreamStatus stream = awaitStream(node, s -> "1".equals(acked(s, TypeUrls.LISTENER)));
      assertEquals(0, stream.type(ROUTES_TYPE).responses());
    }
  }

  @Test
  void confusedClientIsIgnoredWhereItMakesNoSenseAndStillServed() throws Exception {
    String node = "delta-confused";
    try (DeltaAdsTestClient client = DeltaAdsTestClient.connect(channel, node)) {
      client.subscribe(TypeUrls.CLUSTER);
      client.send(client.request(TypeUrls.CLUSTER, "1-1"));
      client.send(client.request(TypeUrls.CLUSTER, "nonce-it-never-got"));
      client.send(client.request("", ""));
      DeltaDiscoveryRequest.Builder garbage = client.request(TypeUrls.CLUSTER, "").toBuilder();
      for (int i = 0; i < 50; i++) {
        garbage.addResourceNamesSubscribe("x\n".repeat(20_000));
        garbage.addResourceNamesUnsubscribe("never-subscribed-" + i);
      }
      client.send(garbage.build());
      client.send(
          client.request(TypeUrls.LISTENER, "").toBuilder()
              .setNode(
                  io.envoyproxy.envoy.config.core.v3.Node.newBuilder().setId("y".repeat(10_000)))
              .build());
      awaitStream(node, s -> s.type(TypeUrls.LISTENER) != null);

      setSnapshot(node, 3, List.of(route("a", 10001, "a.example", 80)));

      DeltaDiscoveryResponse clusters = client.next(TypeUrls.CLUSTER);
      assertEquals(List.of("cluster-a"), names(clusters));
      client.ack(clusters);
      assertEquals(List.of("listener-a"), names(client.next(TypeUrls.LISTENER)));
      StreamStatus stream = awaitStream(node, s -> "3".equals(acked(s, TypeUrls.CLUSTER)));
      assertEquals(node, stream.nodeId());
      assertEquals(1, stream.type(TypeUrls.CLUSTER).acks());
    }
  }

  @Test
  void missingNodeIdEndsTheStreamWithInvalidArgument() throws Exception {
    try (DeltaAdsTestClient client = DeltaAdsTestClient.connect(channel, "")) {
      client.subscribe(TypeUrls.CLUSTER);

      Status status = client.awaitClosed();

      assertEquals(Status.Code.INVALID_ARGUMENT, status.getCode());
      assertTrue(status.getDescription().contains("node.id"), status.getDescription());
    }
  }

  @Test
  void overlongNodeIdIsRefusedAndTheLongestAllowedIsServed() throws Exception {
    try (DeltaAdsTestClient client =
        DeltaAdsTestClient.connect(channel, "n".repeat(AdsService.MAX_NODE_ID_CHARS + 1))) {
      client.subscribe(TypeUrls.CLUSTER);
      assertEquals(Status.Code.INVALID_ARGUMENT, client.awaitClosed().getCode());
    }
    String longest = "m".repeat(AdsService.MAX_NODE_ID_CHARS);
    setSnapshot(longest, 1, List.of(route("a", 10001, "a.example", 80)));
    try (DeltaAdsTestClient client = DeltaAdsTestClient.connect(channel, longest)) {
      client.subscribe(TypeUrls.CLUSTER);
      assertEquals("1", client.next(TypeUrls.CLUSTER).getSystemVersionInfo());
    }
  }

  @Test
  void tooManyTypesOrNamesOrAnOverlongTypeUrlCloseOnlyThatStream() throws Exception {
    String node = "delta-greedy";
    setSnapshot(node, 1, List.of(route("a", 10001, "a.example", 80)));
    try (DeltaAdsTestClient types = DeltaAdsTestClient.connect(channel, node);
        DeltaAdsTestClient names = DeltaAdsTestClient.connect(channel, node);
        DeltaAdsTestClient longType = DeltaAdsTestClient.connect(channel, node);
        DeltaAdsTestClient envoy = DeltaAdsTestClient.connect(channel, node)) {
      for (int i = 0; i <= AdsStreamState.MAX_TYPE_URLS; i++) {
        types.subscribe("type.googleapis.com/test.Type" + i);
      }
      DeltaDiscoveryRequest.Builder many = names.request(TypeUrls.LISTENER, "").toBuilder();
      for (int i = 0; i <= DeltaStreamState.MAX_NAMES_PER_TYPE; i++) {
        many.addResourceNamesSubscribe("listener-" + i);
      }
      names.send(many.build());
      longType.subscribe("type.googleapis.com/" + "x".repeat(AdsStreamState.MAX_TYPE_URL_CHARS));

      Status typesStatus = types.awaitClosed();
      assertEquals(Status.Code.RESOURCE_EXHAUSTED, typesStatus.getCode());
      assertTrue(
          typesStatus.getDescription().contains("resource types"), typesStatus.getDescription());
      Status namesStatus = names.awaitClosed();
      assertEquals(Status.Code.RESOURCE_EXHAUSTED, namesStatus.getCode());
      assertTrue(
          namesStatus.getDescription().contains("resource names"), namesStatus.getDescription());
      assertEquals(Status.Code.INVALID_ARGUMENT, longType.awaitClosed().getCode());
      assertEquals(List.of("cluster-a"), names(envoy.handshake()[0]));
    }
  }

  @Test
  void clientThatHalfClosesStillGetsItsAnswerThenTheStreamEnds() throws Exception {
    String node = "delta-half-close";
    try (DeltaAdsTestClient client = DeltaAdsTestClient.connect(channel, node)) {
      client.subscribe(TypeUrls.CLUSTER);
      client.halfClose();
      awaitStream(node, s -> s.type(TypeUrls.CLUSTER) != null);

      setSnapshot(node, 2, List.of(route("a", 10001, "a.example", 80)));

      assertEquals(List.of("cluster-a"), names(client.next(TypeUrls.CLUSTER)));
      assertEquals(Status.Code.OK, client.awaitClosed().getCode());
      awaitNode(node, n -> n.streams().isEmpty());
    }
  }

  @Test
  void aStuckEnvoyDoesNotHoldBackAnotherAndLaterGetsTheNewestState() throws Exception {
    String node = "delta-stuck";
    setSnapshot(node, 1, manyRoutes(1, 20));
    try (DeltaAdsTestClient stuck = DeltaAdsTestClient.connect(channel, node);
        DeltaAdsTestClient envoy = DeltaAdsTestClient.connect(channel, node)) {
      stuck.subscribe(TypeUrls.CLUSTER);
      stuck.subscribe(TypeUrls.LISTENER);
      envoy.handshake();
      for (int version = 2; version <= 6; version++) {
        setSnapshot(node, version, manyRoutes(version, 20));
        DeltaDiscoveryResponse clusters = envoy.next(TypeUrls.CLUSTER);
        assertEquals(String.valueOf(version), clusters.getSystemVersionInfo());
        envoy.ack(clusters);
        DeltaDiscoveryResponse listeners = envoy.next(TypeUrls.LISTENER);
        envoy.ack(listeners);
        // The old names' Clusters go once these Listeners are ACKed.
        envoy.ack(envoy.next(TypeUrls.CLUSTER));
      }
      assertEquals(20, envoy.heldNames(TypeUrls.CLUSTER).size());

      DeltaDiscoveryResponse first = stuck.next(TypeUrls.CLUSTER);
      assertEquals("1", first.getSystemVersionInfo());
      assertEquals("1", stuck.next(TypeUrls.LISTENER).getSystemVersionInfo(), "sent before");
      stuck.ack(first);
      DeltaDiscoveryResponse newest = stuck.next(TypeUrls.CLUSTER);
      assertEquals("6", newest.getSystemVersionInfo(), "versions 2-5 are skipped");
      assertEquals(20, newest.getResourcesCount(), "version 6's Clusters, the old ones retained");
    }
  }

  /**
   * Random snapshots over real gRPC against a delta Envoy that reads and replies at random moments
   * and on a Listener NACK applies any part of the response. After every response it applies, each
   * Listener it holds has its Clusters; after a last, ACKed snapshot it holds exactly that one.
   */
  @Test
  void envoyNeverHoldsAListenerWithoutItsClusterUnderRandomSnapshotsAndNacks() throws Exception {
    String node = "delta-random";
    SplittableRandom random = new SplittableRandom(5);
    long version = 1;
    setSnapshot(node, version, randomRoutes(random));
    try (DeltaAdsTestClient client = DeltaAdsTestClient.connect(channel, node)) {
      client.subscribe(TypeUrls.CLUSTER);
      client.subscribe(TypeUrls.LISTENER);
      Map<String, Set<String>> listeners = new HashMap<>();
      Map<String, String> clusters = new TreeMap<>();
      for (int step = 0; step < 150; step++) {
        if (random.nextInt(3) == 0) {
          setSnapshot(node, ++version, randomRoutes(random));
        } else {
          DeltaDiscoveryResponse response = client.poll(Duration.ofMillis(30));
          if (response != null) {
            boolean nack =
                TypeUrls.LISTENER.equals(response.getTypeUrl()) && random.nextInt(4) == 0;
            apply(response, nack, random, clusters, listeners);
            if (nack) {
              client.nack(response, "some listener rejected");
            } else {
              client.ack(response);
            }
          }
        }
      }
      setSnapshot(node, ++version, List.of(route("z", 10009, "z.example", 80)));
      long deadline =
          System.nanoTime() + TimeUnit.SECONDS.toNanos(DeltaAdsTestClient.TIMEOUT_SECONDS);
      while (!(clusters.keySet().equals(Set.of("cluster-z"))
          && listeners.keySet().equals(Set.of("listener-z")))) {
        assertTrue(
            System.nanoTime() < deadline,
            "Envoy never converged: " + clusters.keySet() + " / " + listeners.keySet());
        DeltaDiscoveryResponse response = client.poll(Duration.ofMillis(100));
        if (response != null) {
          apply(response, false, random, clusters, listeners);
          client.ack(response);
        }
      }
    }
  }

  // --- helpers -------------------------------------------------------------------------------

  private static void apply(
      DeltaDiscoveryResponse response,
      boolean nack,
      SplittableRandom random,
      Map<String, String> clusters,
      Map<String, Set<String>> listeners) {
    if (TypeUrls.CLUSTER.equals(response.getTypeUrl())) {
      response.getResourcesList().forEach(r -> clusters.put(r.getName(), r.getVersion()));
      response.getRemovedResourcesList().forEach(clusters::remove);
    } else {
      for (Resource resource : response.getResourcesList()) {
        if (!nack || random.nextBoolean()) {
          listeners.put(
              resource.getName(), ClusterReferences.usedBy(List.of(resource.getResource())));
        }
      }
      for (String removed : response.getRemovedResourcesList()) {
        if (!nack || random.nextBoolean()) {
          listeners.remove(removed);
        }
      }
    }
    listeners.forEach(
        (name, used) ->
            assertTrue(
                clusters.keySet().containsAll(used),
                name + " uses " + used + " but Envoy has only " + clusters.keySet()));
  }

  private static List<EnvoyRoute> randomRoutes(SplittableRandom random) {
    List<EnvoyRoute> routes = new ArrayList<>();
    for (String name : List.of("a", "b", "c", "d", "e")) {
      if (random.nextBoolean()) {
        routes.add(
            route(name, 10000 + random.nextInt(3), name + random.nextInt(2) + ".example", 80));
      }
    }
    return routes;
  }

  private static List<EnvoyRoute> manyRoutes(int version, int count) {
    List<EnvoyRoute> routes = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      routes.add(route("v" + version + "-r" + i, 20000 + i, "backend-" + i + ".example", 30000));
    }
    return routes;
  }

  private static void setSnapshot(String node, long version, List<EnvoyRoute> routes) {
    registry.tell(new SnapshotRegistry.SetSnapshot(mapper.map(routes).toSnapshot(node, version)));
  }

  private static List<String> names(DeltaDiscoveryResponse response) {
    return response.getResourcesList().stream().map(Resource::getName).toList();
  }

  private static void assertLine(String text, String line) {
    assertTrue(text.lines().anyMatch(line::equals), "no line " + line + " in\n" + text);
  }

  private static String acked(StreamStatus stream, String typeUrl) {
    ResourceTypeStatus type = stream.type(typeUrl);
    return type == null ? null : type.ackedVersion();
  }

  private static NodeStatus awaitNode(String node, Predicate<NodeStatus> condition) {
    TestProbe<XdsStatus> probe = testKit.createTestProbe();
    return probe.awaitAssert(
        Duration.ofSeconds(DeltaAdsTestClient.TIMEOUT_SECONDS),
        () -> {
          registry.tell(new SnapshotRegistry.GetStatus(probe.ref()));
          NodeStatus status = probe.receiveMessage().node(node);
          assertTrue(
              status != null && condition.test(status), "node " + node + " status: " + status);
          return status;
        });
  }

  private static StreamStatus awaitStream(String node, Predicate<StreamStatus> condition) {
    return awaitNode(node, n -> n.streams().size() == 1 && condition.test(n.streams().get(0)))
        .streams()
        .get(0);
  }
}
