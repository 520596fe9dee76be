package io.sigma.agent.xds;

import static io.sigma.agent.xds.Routes.route;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import com.google.rpc.Status;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.core.v3.Node;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryRequest;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryResponse;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

class AdsStreamStateTest {

  private static final String NODE = "layer4-01";
  private static final String ROUTES_TYPE =
      "type.googleapis.com/envoy.config.route.v3.RouteConfiguration";
  private static final Instant NOW = Instant.parse("2026-11-26T10:00:00Z");

  private final RecordingEvents events = new RecordingEvents();
  private final AdsStreamState state =
      new AdsStreamState(7, NODE, events, Clock.fixed(NOW, ZoneOffset.UTC));
  private final RouteResourceMapper mapper = new RouteResourceMapper();

  @Test
  void nothingIsSentBeforeTheNodeHasASnapshot() {
    assertEquals(List.of(), state.onRequest(subscribe(TypeUrls.CLUSTER)));
    assertEquals(List.of(), state.onRequest(subscribe(TypeUrls.LISTENER)));

    List<DiscoveryResponse> out = state.onSnapshot(snapshot(3, "a", "b"));

    assertEquals(List.of(TypeUrls.CLUSTER, TypeUrls.LISTENER), types(out));
    assertEquals(List.of("3", "3"), versions(out));
    assertEquals(2, out.get(0).getResourcesCount());
    assertEquals(2, out.get(1).getResourcesCount());
  }

  @Test
  void envoyHandshakeClustersThenListenersWithAcks() throws Exception {
    state.onSnapshot(snapshot(1, "a", "b"));

    DiscoveryResponse clusters = only(state.onRequest(subscribe(TypeUrls.CLUSTER)));
    assertEquals(TypeUrls.CLUSTER, clusters.getTypeUrl());
    assertEquals("1", clusters.getVersionInfo());
    assertFalse(clusters.getNonce().isEmpty());
    assertEquals("cluster-a", clusters.getResources(0).unpack(Cluster.class).getName());
    assertEquals("cluster-b", clusters.getResources(1).unpack(Cluster.class).getName());

    assertEquals(List.of(), state.onRequest(ack(clusters)));
    DiscoveryResponse listeners = only(state.onRequest(subscribe(TypeUrls.LISTENER)));
    assertEquals(TypeUrls.LISTENER, listeners.getTypeUrl());
    assertEquals("1", listeners.getVersionInfo());
    assertEquals("listener-a", listeners.getResources(0).unpack(Listener.class).getName());
    assertNotEquals(clusters.getNonce(), listeners.getNonce());
    assertEquals(List.of(), state.onRequest(ack(listeners)));

    StreamStatus status = state.status();
    assertEquals(7, status.streamId());
    assertEquals(NODE, status.nodeId());
    assertEquals(NOW, status.openedAt());
    assertEquals("1", status.snapshotVersion());
    assertEquals(
        List.of(TypeUrls.CLUSTER, TypeUrls.LISTENER),
        status.types().stream().map(ResourceTypeStatus::typeUrl).toList());
    for (ResourceTypeStatus type : status.types()) {
      assertEquals("1", type.sentVersion());
      assertEquals("1", type.ackedVersion());
      assertFalse(type.awaitingReply());
      assertEquals(1, type.responses());
      assertEquals(1, type.acks());
      assertEquals(0, type.nacks());
    }
    assertEquals(
        List.of("sent Cluster 1 2", "ack Cluster 1", "sent Listener 1 2", "ack Listener 1"),
        events.log);
  }

  @Test
  void newSnapshotPushesClustersBeforeListeners() {
    handshake(snapshot(1, "a"));

    List<DiscoveryResponse> out = state.onSnapshot(snapshot(2, "a", "b"));

    assertEquals(List.of(TypeUrls.CLUSTER, TypeUrls.LISTENER), types(out));
    assertEquals(List.of("2", "2"), versions(out));
    assertEquals(2, out.get(0).getResourcesCount());
  }

  @Test
  void onlyTypesWhoseResourcesChangedAreSentAgain() {
    handshake(snapshot(1, "a"));

    assertEquals(List.of(), state.onSnapshot(snapshot(2, "a")));

    XdsSnapshot listenerMoved =
        mapper.map(List.of(route("a", 20001, "a.example", 80))).toSnapshot(NODE, 3);
    List<DiscoveryResponse> out = state.onSnapshot(listenerMoved);
    assertEquals(List.of(TypeUrls.LISTENER), types(out));
    assertEquals("3", out.get(0).getVersionInfo());
    assertEquals("1", state.status().type(TypeUrls.CLUSTER).sentVersion());
  }

  @Test
  void typesNobodyAskedForAreNotPushed() {
    state.onSnapshot(snapshot(1, "a"));
    DiscoveryResponse clusters = only(state.onRequest(subscribe(TypeUrls.CLUSTER)));
    state.onRequest(ack(clusters));

    List<DiscoveryResponse> out = state.onSnapshot(snapshot(2, "a", "b"));

    assertEquals(List.of(TypeUrls.CLUSTER), types(out));
  }

  @Test
  void listenerRequestIsAnsweredEvenWhenNothingChanged() {
    DiscoveryResponse[] first = handshake(snapshot(1, "a"));

    DiscoveryResponse again = only(state.onRequest(request(TypeUrls.LISTENER, "1", "")));

    assertEquals("1", again.getVersionInfo());
    assertEquals(first[1].getResourcesList(), again.getResourcesList());
    assertNotEquals(first[1].getNonce(), again.getNonce());
  }

  @Test
  void reconnectingEnvoyWithItsCurrentVersionGetsTheCurrentState() {
    state.onSnapshot(snapshot(4, "a"));

    DiscoveryResponse clusters = only(state.onRequest(request(TypeUrls.CLUSTER, "4", "")));
    state.onRequest(ack(clusters));
    DiscoveryResponse listeners = only(state.onRequest(request(TypeUrls.LISTENER, "4", "")));

    assertEquals("4", clusters.getVersionInfo());
    assertEquals(1, clusters.getResourcesCount());
    assertEquals("4", listeners.getVersionInfo());
  }

  @Test
  void firstRequestWithANonceFromAnotherStreamIsStillASubscription() {
    state.onSnapshot(snapshot(2, "a"));

    DiscoveryResponse clusters = only(state.onRequest(request(TypeUrls.CLUSTER, "1", "99-3")));

    assertEquals("2", clusters.getVersionInfo());
  }

  @Test
  void nackIsRecordedAndTheRejectedVersionIsNotSentAgain() {
    handshake(snapshot(1, "a"));
    List<DiscoveryResponse> pushed = state.onSnapshot(snapshot(2, "a", "b"));
    DiscoveryResponse clusters2 = pushed.get(0);
    assertEquals(List.of(TypeUrls.CLUSTER, TypeUrls.LISTENER), types(pushed));

    assertEquals(List.of(), state.onRequest(nack(clusters2, "1", "cluster-b: bad address")));
    assertEquals(List.of(), state.onSnapshot(snapshot(2, "a", "b")));
    assertEquals(List.of(), state.onRequest(request(TypeUrls.CLUSTER, "1", clusters2.getNonce())));

    ResourceTypeStatus status = state.status().type(TypeUrls.CLUSTER);
    assertEquals(1, status.nacks());
    assertEquals("2", status.lastNackVersion());
    assertEquals("cluster-b: bad address", status.lastNackMessage());
    assertEquals(NOW, status.lastNackAt());
    assertEquals("1", status.ackedVersion());
    assertEquals("2", status.sentVersion());
    assertFalse(status.awaitingReply());
    assertTrue(events.log.contains("nack Cluster 2 cluster-b: bad address"));

    List<DiscoveryResponse> out = state.onSnapshot(snapshot(3, "a", "c"));
    assertEquals(TypeUrls.CLUSTER, out.get(0).getTypeUrl());
    assertEquals("3", baseVersion(out.get(0)), "the NACKed version 2 must not come back");
    // Listeners {a, b} of version 2 are unanswered, so Envoy may hold listener-b: cluster-b stays.
    assertEquals(List.of("cluster-a", "cluster-c", "cluster-b"), clusterNames(out.get(0)));
  }

  @Test
  void longNackMessagesAreTruncated() {
    handshake(snapshot(1, "a"));
    DiscoveryResponse clusters2 = state.onSnapshot(snapshot(2, "a", "b")).get(0);

    state.onRequest(nack(clusters2, "1", "x".repeat(5000)));

    String kept = state.status().type(TypeUrls.CLUSTER).lastNackMessage();
    assertEquals(AdsStreamState.MAX_NACK_MESSAGE_CHARS + 1, kept.length());
    assertTrue(kept.endsWith("…"));
  }

  @Test
  void staleNonceIsIgnored() {
    DiscoveryResponse[] first = handshake(snapshot(1, "a"));
    List<DiscoveryResponse> pushed = state.onSnapshot(snapshot(2, "a", "b"));

    assertEquals(List.of(), state.onRequest(nack(first[0], "1", "late complaint")));
    assertEquals(List.of(), state.onRequest(request(TypeUrls.CLUSTER, "1", "bogus")));

    ResourceTypeStatus clusters = state.status().type(TypeUrls.CLUSTER);
    assertEquals(0, clusters.nacks());
    assertEquals("1", clusters.ackedVersion());
    assertTrue(clusters.awaitingReply());
    assertEquals(List.of(), state.onRequest(ack(pushed.get(0))));
    assertEquals("2", state.status().type(TypeUrls.CLUSTER).ackedVersion());
  }

  @Test
  void repeatedAckOfTheSameNonceChangesNothing() {
    DiscoveryResponse[] first = handshake(snapshot(1, "a"));

    assertEquals(List.of(), state.onRequest(ack(first[0])));

    assertEquals(1, state.status().type(TypeUrls.CLUSTER).acks());
  }

  @Test
  void aLaggingEnvoyGetsOnlyTheNewestSnapshotWhenItReplies() {
    handshake(snapshot(1, "a"));
    List<DiscoveryResponse> v2 = state.onSnapshot(snapshot(2, "b"));
    assertEquals(List.of("2", "2"), baseVersions(v2));

    for (int version = 3; version <= 9; version++) {
      assertEquals(List.of(), state.onSnapshot(snapshot(version, "r" + version)));
    }

    List<DiscoveryResponse> afterClusterAck = state.onRequest(ack(v2.get(0)));
    assertEquals(List.of(TypeUrls.CLUSTER), types(afterClusterAck));
    assertEquals("9", baseVersion(afterClusterAck.get(0)));
    List<DiscoveryResponse> afterListenerAck = state.onRequest(ack(v2.get(1)));
    assertEquals(List.of(TypeUrls.LISTENER), types(afterListenerAck));
    assertEquals("9", afterListenerAck.get(0).getVersionInfo());
  }

  @Test
  void listenersWaitUntilTheSnapshotsClustersHaveBeenSent() {
    DiscoveryResponse[] first = handshake(snapshot(1, "a"));
    List<DiscoveryResponse> v2 = state.onSnapshot(snapshot(2, "b"));
    state.onRequest(ack(v2.get(1)));

    assertEquals(List.of(), state.onSnapshot(snapshot(3, "c")));

    List<DiscoveryResponse> out = state.onRequest(ack(v2.get(0)));
    assertEquals(List.of(TypeUrls.CLUSTER, TypeUrls.LISTENER), types(out));
    assertEquals(List.of("3", "3"), baseVersions(out));
    assertEquals(
        List.of("cluster-c", "cluster-b"), clusterNames(out.get(0)), "listener-b is still held");
    assertEquals("1", first[1].getVersionInfo());
  }

  @Test
  void listenerSubscriptionWaitsForPendingClustersToo() {
    state.onSnapshot(snapshot(1, "a"));
    DiscoveryResponse clusters1 = only(state.onRequest(subscribe(TypeUrls.CLUSTER)));
    state.onSnapshot(snapshot(2, "b"));

    assertEquals(List.of(), state.onRequest(subscribe(TypeUrls.LISTENER)));

    List<DiscoveryResponse> out = state.onRequest(ack(clusters1));
    assertEquals(List.of(TypeUrls.CLUSTER, TypeUrls.LISTENER), types(out));
    assertEquals(List.of("2", "2"), versions(out));
  }

  @Test
  void listenersAloneAreServedWhenTheStreamNeverAsksForClusters() {
    state.onSnapshot(snapshot(1, "a"));

    DiscoveryResponse listeners = only(state.onRequest(subscribe(TypeUrls.LISTENER)));

    assertEquals(TypeUrls.LISTENER, listeners.getTypeUrl());
  }

  @Test
  void unknownTypeGetsAnEmptyResponseOnceAndItsAckIsQuiet() {
    state.onSnapshot(snapshot(1, "a"));

    DiscoveryResponse routes = only(state.onRequest(subscribe(ROUTES_TYPE)));
    assertEquals(ROUTES_TYPE, routes.getTypeUrl());
    assertEquals(0, routes.getResourcesCount());
    assertEquals("1", routes.getVersionInfo());

    assertEquals(List.of(), state.onRequest(ack(routes)));
    assertEquals(List.of(), state.onSnapshot(snapshot(2, "b")));
    assertEquals("1", state.status().type(ROUTES_TYPE).ackedVersion());
  }

  @Test
  void requestWithoutTypeUrlIsIgnored() {
    state.onSnapshot(snapshot(1, "a"));

    assertEquals(List.of(), state.onRequest(request("", "", "")));

    assertEquals(List.of(), state.status().types());
  }

  @Test
  void laterRequestNamingAnotherNodeDoesNotMoveTheStream() {
    state.onSnapshot(snapshot(1, "a"));
    DiscoveryRequest other =
        subscribe(TypeUrls.CLUSTER).toBuilder()
            .setNode(Node.newBuilder().setId("someone-else"))
            .build();

    DiscoveryResponse clusters = only(state.onRequest(other));

    assertEquals(NODE, state.nodeId());
    assertEquals(1, clusters.getResourcesCount());
  }

  @Test
  void snapshotOfAnotherNodeIsIgnored() {
    state.onRequest(subscribe(TypeUrls.CLUSTER));

    assertEquals(List.of(), state.onSnapshot(XdsSnapshot.empty("other-node", 5, 5)));

    assertNull(state.status().snapshotVersion());
  }

  @Test
  void removedNodeGetsAnEmptyState() {
    handshake(snapshot(1, "a", "b"));

    List<DiscoveryResponse> out = state.onSnapshot(XdsSnapshot.empty(NODE, 2, 2));

    assertEquals(
        List.of(TypeUrls.LISTENER), types(out), "Clusters stay until the Listeners are gone");
    assertEquals(0, out.get(0).getResourcesCount());
    assertEquals("2", out.get(0).getVersionInfo());
    DiscoveryResponse clusters = only(state.onRequest(ack(out.get(0))));
    assertEquals(TypeUrls.CLUSTER, clusters.getTypeUrl());
    assertEquals(0, clusters.getResourcesCount());
    assertEquals("2", clusters.getVersionInfo());
  }

  @Test
  void noncesAreUniqueAndCarryTheStreamId() {
    state.onSnapshot(snapshot(1, "a"));
    Set<String> nonces = new HashSet<>();
    DiscoveryResponse last = only(state.onRequest(subscribe(TypeUrls.CLUSTER)));
    nonces.add(last.getNonce());
    for (int version = 2; version <= 20; version++) {
      state.onSnapshot(snapshot(version, "r" + version));
      last = only(state.onRequest(ack(last)));
      nonces.add(last.getNonce());
    }

    assertEquals(20, nonces.size());
    assertTrue(nonces.stream().allMatch(n -> n.startsWith("7-")));
  }

  @Test
  void statusChangesAreReportedOnce() {
    assertTrue(state.pollStatusChange().isPresent());
    assertTrue(state.pollStatusChange().isEmpty());

    state.onRequest(subscribe(TypeUrls.CLUSTER));
    StreamStatus waiting = state.pollStatusChange().orElseThrow();
    assertNull(waiting.snapshotVersion());
    assertFalse(waiting.type(TypeUrls.CLUSTER).awaitingReply());
    assertNull(waiting.type(TypeUrls.LISTENER));

    state.onSnapshot(snapshot(1, "a"));
    StreamStatus sent = state.pollStatusChange().orElseThrow();
    assertEquals("1", sent.snapshotVersion());
    assertTrue(sent.type(TypeUrls.CLUSTER).awaitingReply());
    assertTrue(state.pollStatusChange().isEmpty());
  }

  // --- make before break ---------------------------------------------------------------------

  @Test
  void removedRouteKeepsItsClusterUntilTheListenersWithoutItAreAcked() {
    handshake(snapshot(1, "a", "b"));

    List<DiscoveryResponse> out = state.onSnapshot(snapshot(2, "a"));

    assertEquals(
        List.of(TypeUrls.LISTENER), types(out), "Listeners go first; Clusters {a, b} stay");
    assertEquals(List.of("listener-a"), listenerNames(out.get(0)));
    assertEquals(Set.of("cluster-b"), state.retainedClusters());
    assertEquals(List.of("cluster-b"), state.status().retainedClusters(), "shown on /xds/status");
    DiscoveryResponse clusters = only(state.onRequest(ack(out.get(0))));
    assertEquals(TypeUrls.CLUSTER, clusters.getTypeUrl());
    assertEquals(List.of("cluster-a"), clusterNames(clusters));
    assertEquals("2", clusters.getVersionInfo());
    assertEquals(Set.of(), state.retainedClusters());
    assertEquals(List.of(), state.status().retainedClusters());
  }

  @Test
  void renameKeepsOldAndNewClustersUntilTheNewListenersAreAcked() {
    handshake(snapshot(1, "r"));

    List<DiscoveryResponse> out = state.onSnapshot(snapshot(2, "s"));

    assertEquals(List.of(TypeUrls.CLUSTER, TypeUrls.LISTENER), types(out));
    assertEquals(List.of("cluster-s", "cluster-r"), clusterNames(out.get(0)));
    assertTrue(out.get(0).getVersionInfo().matches("2\\+[0-9a-f]{8}"), out.get(0).getVersionInfo());
    assertEquals(List.of("listener-s"), listenerNames(out.get(1)));
    assertEquals("2", out.get(1).getVersionInfo());

    assertEquals(
        List.of(), state.onRequest(ack(out.get(0))), "the old listener may still be in Envoy");
    DiscoveryResponse clusters = only(state.onRequest(ack(out.get(1))));
    assertEquals(List.of("cluster-s"), clusterNames(clusters));
    assertEquals("2", clusters.getVersionInfo());
  }

  @Test
  void renameWhoseListenersAreAckedBeforeTheClustersDropsTheOldClusterOnTheClusterAck() {
    handshake(snapshot(1, "r"));
    List<DiscoveryResponse> out = state.onSnapshot(snapshot(2, "s"));

    assertEquals(
        List.of(), state.onRequest(ack(out.get(1))), "one unanswered Cluster response at a time");
    DiscoveryResponse clusters = only(state.onRequest(ack(out.get(0))));

    assertEquals(List.of("cluster-s"), clusterNames(clusters));
  }

  @Test
  void nackedListenersKeepTheClustersOfBothTheOldAndTheRejectedListeners() {
    handshake(snapshot(1, "r"));
    List<DiscoveryResponse> out = state.onSnapshot(snapshot(2, "s"));
    state.onRequest(ack(out.get(0)));

    assertEquals(List.of(), state.onRequest(nack(out.get(1), "1", "listener-s: address in use")));
    assertEquals(Set.of("cluster-r"), state.retainedClusters());

    XdsSnapshot moved = mapper.map(List.of(route("s", 20001, "s.example", 80))).toSnapshot(NODE, 3);
    DiscoveryResponse listeners = only(state.onSnapshot(moved));
    assertEquals(TypeUrls.LISTENER, listeners.getTypeUrl());
    DiscoveryResponse clusters = only(state.onRequest(ack(listeners)));
    assertEquals(List.of("cluster-s"), clusterNames(clusters));
    assertEquals("3", clusters.getVersionInfo());
  }

  @Test
  void streamWithoutListenersDropsClustersAtOnce() {
    state.onSnapshot(snapshot(1, "r"));
    state.onRequest(ack(only(state.onRequest(subscribe(TypeUrls.CLUSTER)))));

    DiscoveryResponse clusters = only(state.onSnapshot(snapshot(2, "s")));

    assertEquals(List.of("cluster-s"), clusterNames(clusters));
    assertEquals("2", clusters.getVersionInfo());
  }

  @Test
  void versionNamesExactlyOneClusterSet() {
    XdsSnapshot two = snapshot(2, "a", "b");
    XdsSnapshot oneOfThem = snapshot(2, "a");

    assertEquals(
        digest(two.clusters()),
        digest(List.of(two.clusters().get(1), two.clusters().get(0))),
        "order does not matter");
    assertNotEquals(digest(two.clusters()), digest(oneOfThem.clusters()));
    XdsSnapshot otherBackend =
        mapper
            .map(
                List.of(
                    route("a", 10001, "elsewhere.example", 80), route("b", 10002, "b.example", 80)))
            .toSnapshot(NODE, 2);
    assertNotEquals(
        digest(two.clusters()), digest(otherBackend.clusters()), "same names, other bytes");
  }

  @Test
  void streamsOfANodeDecodeEachSnapshotOnce() {
    SnapshotIndex.Shared shared = new SnapshotIndex.Shared();
    XdsSnapshot first = snapshot(1, "a", "b");
    XdsSnapshot second = snapshot(2, "a");

    SnapshotIndex index = shared.apply(first);

    assertSame(index, shared.apply(first));
    assertEquals(List.of("cluster-a", "cluster-b"), List.copyOf(index.clustersByName().keySet()));
    assertEquals(Set.of("cluster-a", "cluster-b"), index.listenerClusters());
    SnapshotIndex next = shared.apply(second);
    assertNotSame(index, next);
    assertEquals(Set.of("cluster-a"), next.listenerClusters());
  }

  /**
   * Random snapshots against an Envoy model that applies each response when it reads it, reads and
   * replies at random moments, and on a Listener NACK keeps any mix of its old and the rejected
   * Listeners (Envoy applies the valid ones). After every response it applies, each Listener it
   * holds must have its Cluster; every version_info must name one resource set; once quiet, Envoy
   * holds exactly the last snapshot.
   */
  @Test
  void envoyNeverHoldsAListenerWithoutItsClusterUnderRandomSnapshots() {
    SplittableRandom random = new SplittableRandom(8);
    for (int run = 0; run < 40; run++) {
      AdsStreamState stream =
          new AdsStreamState(run, NODE, new XdsEvents() {}, Clock.fixed(NOW, ZoneOffset.UTC));
      EnvoyModel envoy = new EnvoyModel(random);
      long version = 1;
      XdsSnapshot last = randomSnapshot(random, version);
      envoy.receive(stream.onSnapshot(last));
      envoy.receive(stream.onRequest(subscribe(TypeUrls.CLUSTER)));
      envoy.receive(stream.onRequest(subscribe(TypeUrls.LISTENER)));
      for (int step = 0; step < 60; step++) {
        if (random.nextInt(3) == 0) {
          last = randomSnapshot(random, ++version);
          envoy.receive(stream.onSnapshot(last));
        } else if (!envoy.inbox.isEmpty()) {
          envoy.receive(stream.onRequest(envoy.applyNext()));
        }
      }
      envoy.nackListeners = false;
      while (!envoy.inbox.isEmpty()) {
        envoy.receive(stream.onRequest(envoy.applyNext()));
      }
      // After a Listener NACK the union of old and rejected Listeners' Clusters is kept until a
      // Listener response is ACKed: a last snapshot with a new route (so new Listeners), ACKed.
      List<io.sigma.agent.api.EnvoyRoute> lastRoutes =
          new ArrayList<>(List.of(route("z", 10009, "z.example", 80)));
      last = mapper.map(lastRoutes).toSnapshot(NODE, ++version);
      envoy.receive(stream.onSnapshot(last));
      while (!envoy.inbox.isEmpty()) {
        envoy.receive(stream.onRequest(envoy.applyNext()));
      }
      assertEquals(Set.of(), stream.retainedClusters());
      assertEquals(
          names(last.clusters(), Cluster.class),
          envoy.clusters,
          "run " + run + ": no Cluster left over");
    }
  }

  private static String digest(List<com.google.protobuf.Any> clusters) {
    return AdsStreamState.digest(ClusterReferences.byName(clusters));
  }

  private XdsSnapshot randomSnapshot(SplittableRandom random, long version) {
    List<io.sigma.agent.api.EnvoyRoute> routes = new ArrayList<>();
    for (String name : List.of("a", "b", "c", "d", "e")) {
      if (random.nextBoolean()) {
        routes.add(
            route(name, 10000 + random.nextInt(3), name + random.nextInt(2) + ".example", 80));
      }
    }
    return mapper.map(routes).toSnapshot(NODE, version);
  }

  private static Set<String> names(
      List<com.google.protobuf.Any> resources, Class<? extends Message> type) {
    Set<String> names = new TreeSet<>();
    for (com.google.protobuf.Any any : resources) {
      try {
        names.add(
            type == Cluster.class
                ? any.unpack(Cluster.class).getName()
                : any.unpack(Listener.class).getName());
      } catch (InvalidProtocolBufferException e) {
        throw new AssertionError(e);
      }
    }
    return names;
  }

  /** What an Envoy holds, applying responses in order, with the checks of the random test. */
  private static final class EnvoyModel {
    final SplittableRandom random;
    final Deque<DiscoveryResponse> inbox = new ArrayDeque<>();
    final Map<String, Set<String>> setByVersion = new HashMap<>();
    Set<String> clusters = new TreeSet<>();

    /** Listener name to the Clusters it uses. */
    Map<String, Set<String>> listeners = new HashMap<>();

    boolean nackListeners = true;

    EnvoyModel(SplittableRandom random) {
      this.random = random;
    }

    void receive(List<DiscoveryResponse> responses) {
      inbox.addAll(responses);
    }

    /** Applies the oldest response; returns the ACK or NACK for it. */
    DiscoveryRequest applyNext() {
      DiscoveryResponse response = inbox.removeFirst();
      Set<String> content = new TreeSet<>();
      response
          .getResourcesList()
          .forEach(any -> content.add(any.getTypeUrl() + any.getValue().toStringUtf8()));
      Set<String> earlier =
          setByVersion.putIfAbsent(
              response.getTypeUrl() + " " + response.getVersionInfo(), content);
      assertTrue(
          earlier == null || earlier.equals(content),
          "version " + response.getVersionInfo() + " names two sets");
      if (TypeUrls.CLUSTER.equals(response.getTypeUrl())) {
        clusters = names(response.getResourcesList(), Cluster.class);
        checkEveryListenerHasItsCluster();
        return ack(response);
      }
      Map<String, Set<String>> sent = new HashMap<>();
      for (com.google.protobuf.Any any : response.getResourcesList()) {
        sent.put(
            names(List.of(any), Listener.class).iterator().next(),
            ClusterReferences.usedBy(List.of(any)));
      }
      if (nackListeners && random.nextInt(4) == 0) {
        Map<String, Set<String>> mix = new HashMap<>();
        listeners.forEach(
            (name, used) -> {
              if (random.nextBoolean()) mix.put(name, used);
            });
        sent.forEach(
            (name, used) -> {
              if (random.nextBoolean()) mix.put(name, used);
            });
        listeners = mix;
        checkEveryListenerHasItsCluster();
        return nack(response, "", "some listener rejected");
      }
      listeners = sent;
      checkEveryListenerHasItsCluster();
      return ack(response);
    }

    void checkEveryListenerHasItsCluster() {
      listeners.forEach(
          (name, used) ->
              assertTrue(
                  clusters.containsAll(used),
                  name + " uses " + used + " but Envoy has only " + clusters));
    }
  }

  // --- hostile and confused clients ---------------------------------------------------------

  @Test
  void anAckBeforeAnyResponseIsIgnoredAndTheSubscriptionStillAnswered() {
    state.onRequest(subscribe(TypeUrls.CLUSTER));

    assertEquals(List.of(), state.onRequest(request(TypeUrls.CLUSTER, "3", "7-1")));
    assertEquals(0, state.status().type(TypeUrls.CLUSTER).acks());

    DiscoveryResponse clusters = only(state.onSnapshot(snapshot(1, "a")));
    assertEquals("1", clusters.getVersionInfo());
  }

  @Test
  void aTypeUrlThatIsNoXdsTypeGetsAnEmptyAnswer() {
    state.onSnapshot(snapshot(1, "a"));

    DiscoveryResponse answer = only(state.onRequest(subscribe("not a type url \n at all")));

    assertEquals(0, answer.getResourcesCount());
    assertEquals("not a type url \n at all", answer.getTypeUrl());
  }

  @Test
  void moreThanSixteenTypesOnOneStreamAreRefused() {
    state.onSnapshot(snapshot(1, "a"));
    for (int i = 0; i < AdsStreamState.MAX_TYPE_URLS; i++) {
      assertEquals(1, state.onRequest(subscribe("type.googleapis.com/test.T" + i)).size());
    }

    AdsStreamState.Refused refused =
        assertThrows(
            AdsStreamState.Refused.class,
            () -> state.onRequest(subscribe("type.googleapis.com/test.T16")));

    assertEquals(io.grpc.Status.Code.RESOURCE_EXHAUSTED, refused.status().getCode());
    assertEquals(AdsStreamState.MAX_TYPE_URLS, state.status().types().size());
    assertEquals(
        1,
        state.onRequest(subscribe("type.googleapis.com/test.T3")).size(),
        "known types still work");
  }

  @Test
  void overlongTypeUrlIsRefused() {
    AdsStreamState.Refused refused =
        assertThrows(
            AdsStreamState.Refused.class,
            () ->
                state.onRequest(
                    subscribe(
                        "type.googleapis.com/" + "x".repeat(AdsStreamState.MAX_TYPE_URL_CHARS))));

    assertEquals(io.grpc.Status.Code.INVALID_ARGUMENT, refused.status().getCode());
    assertEquals(List.of(), state.status().types());
  }

  @Test
  void halfClosedStreamIsFinishedOnlyOnceEveryTypeWaitsForAReplyThatCannotCome() {
    state.onRequest(subscribe(TypeUrls.CLUSTER));
    state.onRequestsEnded();
    assertFalse(state.finished(), "the Cluster answer is still owed");

    only(state.onSnapshot(snapshot(1, "a")));

    assertTrue(state.finished());
  }

  @Test
  void halfClosedStreamWithAckedTypesStillTakesOnePush() {
    handshake(snapshot(1, "a"));
    state.onRequestsEnded();
    assertFalse(state.finished(), "a new snapshot can still be pushed");

    assertEquals(
        List.of(TypeUrls.CLUSTER, TypeUrls.LISTENER),
        types(state.onSnapshot(snapshot(2, "a", "b"))));

    assertTrue(state.finished());
  }

  @Test
  void clientStringsAreCappedForLogLines() {
    assertEquals("short", AdsStreamState.capped("short"));
    String capped = AdsStreamState.capped("n".repeat(5000));
    assertTrue(capped.length() < AdsStreamState.MAX_LOGGED_CHARS + 20, capped);
    assertTrue(capped.endsWith("(5000 chars)"), capped);
  }

  // --- helpers -------------------------------------------------------------------------------

  /** Envoy's start-up: Clusters asked, answered, ACKed; then Listeners the same. */
  private DiscoveryResponse[] handshake(XdsSnapshot snapshot) {
    state.onSnapshot(snapshot);
    DiscoveryResponse clusters = only(state.onRequest(subscribe(TypeUrls.CLUSTER)));
    assertEquals(List.of(), state.onRequest(ack(clusters)));
    DiscoveryResponse listeners = only(state.onRequest(subscribe(TypeUrls.LISTENER)));
    assertEquals(List.of(), state.onRequest(ack(listeners)));
    return new DiscoveryResponse[] {clusters, listeners};
  }

  private XdsSnapshot snapshot(long version, String... routeNames) {
    List<io.sigma.agent.api.EnvoyRoute> routes = new ArrayList<>();
    int port = 10001;
    for (String name : routeNames) {
      routes.add(route(name, port++, name + ".example", 80));
    }
    return mapper.map(routes).toSnapshot(NODE, version);
  }

  private static DiscoveryRequest subscribe(String typeUrl) {
    return request(typeUrl, "", "");
  }

  private static DiscoveryRequest request(String typeUrl, String version, String nonce) {
    return DiscoveryRequest.newBuilder()
        .setNode(Node.newBuilder().setId(NODE))
        .setTypeUrl(typeUrl)
        .setVersionInfo(version)
        .setResponseNonce(nonce)
        .build();
  }

  private static DiscoveryRequest ack(DiscoveryResponse response) {
    return request(response.getTypeUrl(), response.getVersionInfo(), response.getNonce());
  }

  private static DiscoveryRequest nack(
      DiscoveryResponse response, String previousVersion, String message) {
    return request(response.getTypeUrl(), previousVersion, response.getNonce()).toBuilder()
        .setErrorDetail(Status.newBuilder().setCode(3).setMessage(message))
        .build();
  }

  private static DiscoveryResponse only(List<DiscoveryResponse> responses) {
    assertEquals(1, responses.size(), "expected exactly one response, got " + types(responses));
    return responses.get(0);
  }

  private static List<String> types(List<DiscoveryResponse> responses) {
    return responses.stream().map(DiscoveryResponse::getTypeUrl).toList();
  }

  private static List<String> versions(List<DiscoveryResponse> responses) {
    return responses.stream().map(DiscoveryResponse::getVersionInfo).toList();
  }

  /** The snapshot version a response was built from (without the "+digest" of a retained set). */
  private static String baseVersion(DiscoveryResponse response) {
    String version = response.getVersionInfo();
    int plus = version.indexOf('+');
    return plus < 0 ? version : version.substring(0, plus);
  }

  private static List<String> baseVersions(List<DiscoveryResponse> responses) {
    return responses.stream().map(AdsStreamStateTest::baseVersion).toList();
  }

  private static List<String> clusterNames(DiscoveryResponse response) {
    return AdsTestClient.clusterNames(response);
  }

  private static List<String> listenerNames(DiscoveryResponse response) {
    return AdsTestClient.listenerNames(response);
  }

  /** Records hook calls as short strings. */
  private static final class RecordingEvents implements XdsEvents {
    final List<String> log = new ArrayList<>();

    @Override
    public void onResponseSent(String nodeId, String typeUrl, String version, int resourceCount) {
      log.add("sent " + TypeUrls.shortName(typeUrl) + " " + version + " " + resourceCount);
    }

    @Override
    public void onAck(String nodeId, String typeUrl, String version) {
      log.add("ack " + TypeUrls.shortName(typeUrl) + " " + version);
    }

    @Override
    public void onNack(String nodeId, String typeUrl, String version, String message) {
      log.add("nack " + TypeUrls.shortName(typeUrl) + " " + version + " " + message);
    }
  }
}
