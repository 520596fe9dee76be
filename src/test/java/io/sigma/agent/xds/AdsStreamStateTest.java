package io.sigma.agent.xds;

import static io.sigma.agent.xds.Routes.route;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.rpc.Status;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.core.v3.Node;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryRequest;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryResponse;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

class AdsStreamStateTest {

  private static final String NODE = "layer4-01";
  private static final String ROUTES_TYPE = "type.googleapis.com/envoy.config.route.v3.RouteConfiguration";
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
    assertEquals(List.of(TypeUrls.CLUSTER, TypeUrls.LISTENER),
        status.types().stream().map(ResourceTypeStatus::typeUrl).toList());
    for (ResourceTypeStatus type : status.types()) {
      assertEquals("1", type.sentVersion());
      assertEquals("1", type.ackedVersion());
      assertFalse(type.awaitingReply());
      assertEquals(1, type.responses());
      assertEquals(1, type.acks());
      assertEquals(0, type.nacks());
    }
    assertEquals(List.of("sent Cluster 1 2", "ack Cluster 1", "sent Listener 1 2", "ack Listener 1"), events.log);
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

    XdsSnapshot listenerMoved = mapper.map(List.of(route("a", 20001, "a.example", 80))).toSnapshot(NODE, 3);
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
    assertEquals("3", out.get(0).getVersionInfo());
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
    assertEquals(List.of("2", "2"), versions(v2));

    for (int version = 3; version <= 9; version++) {
      assertEquals(List.of(), state.onSnapshot(snapshot(version, "r" + version)));
    }

    List<DiscoveryResponse> afterClusterAck = state.onRequest(ack(v2.get(0)));
    assertEquals(List.of(TypeUrls.CLUSTER), types(afterClusterAck));
    assertEquals("9", afterClusterAck.get(0).getVersionInfo());
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
    assertEquals(List.of("3", "3"), versions(out));
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
    DiscoveryRequest other = subscribe(TypeUrls.CLUSTER).toBuilder()
        .setNode(Node.newBuilder().setId("someone-else")).build();

    DiscoveryResponse clusters = only(state.onRequest(other));

    assertEquals(NODE, state.nodeId());
    assertEquals(1, clusters.getResourcesCount());
  }

  @Test
  void snapshotOfAnotherNodeIsIgnored() {
    state.onRequest(subscribe(TypeUrls.CLUSTER));

    assertEquals(List.of(), state.onSnapshot(XdsSnapshot.empty("other-node", 5)));

    assertNull(state.status().snapshotVersion());
  }

  @Test
  void removedNodeGetsAnEmptyState() {
    handshake(snapshot(1, "a", "b"));

    List<DiscoveryResponse> out = state.onSnapshot(XdsSnapshot.empty(NODE, 2));

    assertEquals(List.of(TypeUrls.CLUSTER, TypeUrls.LISTENER), types(out));
    assertEquals(0, out.get(0).getResourcesCount());
    assertEquals(0, out.get(1).getResourcesCount());
    assertEquals(List.of("2", "2"), versions(out));
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

  private static DiscoveryRequest nack(DiscoveryResponse response, String previousVersion, String message) {
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
