package io.sigma.agent.xds;

import static io.sigma.agent.xds.Routes.route;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.Any;
import com.google.rpc.Status;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.core.v3.Node;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy;
import io.envoyproxy.envoy.service.discovery.v3.DeltaDiscoveryRequest;
import io.envoyproxy.envoy.service.discovery.v3.DeltaDiscoveryResponse;
import io.envoyproxy.envoy.service.discovery.v3.Resource;
import io.sigma.agent.api.EnvoyRoute;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

class DeltaStreamStateTest {

  private static final String NODE = "layer4-01";
  private static final String ROUTES_TYPE =
      "type.googleapis.com/envoy.config.route.v3.RouteConfiguration";
  private static final Instant NOW = Instant.parse("2026-12-01T06:00:00Z");

  private final RecordingEvents events = new RecordingEvents();
  private final DeltaStreamState state =
      new DeltaStreamState(7, NODE, events, Clock.fixed(NOW, ZoneOffset.UTC));
  private final RouteResourceMapper mapper = new RouteResourceMapper();

  // --- subscriptions and the handshake --------------------------------------------------------

  @Test
  void nothingIsSentBeforeTheNodeHasASnapshot() {
    assertEquals(List.of(), state.onRequest(wildcard(TypeUrls.CLUSTER)));
    assertEquals(List.of(), state.onRequest(wildcard(TypeUrls.LISTENER)));

    List<DeltaDiscoveryResponse> out = state.onSnapshot(snapshot(3, "a", "b"));

    assertEquals(List.of(TypeUrls.CLUSTER, TypeUrls.LISTENER), types(out));
    assertEquals(List.of("cluster-a", "cluster-b"), names(out.get(0)));
    assertEquals(List.of("listener-a", "listener-b"), names(out.get(1)));
    assertEquals("3", out.get(0).getSystemVersionInfo());
  }

  @Test
  void wildcardHandshakeSendsEveryResourceWithItsVersionThenOnlyChanges() throws Exception {
    XdsSnapshot first = snapshot(1, "a", "b");
    state.onSnapshot(first);

    DeltaDiscoveryResponse clusters = only(state.onRequest(wildcard(TypeUrls.CLUSTER)));
    assertEquals(TypeUrls.CLUSTER, clusters.getTypeUrl());
    assertEquals("1", clusters.getSystemVersionInfo());
    assertFalse(clusters.getNonce().isEmpty());
    assertEquals(0, clusters.getRemovedResourcesCount());
    Resource a = clusters.getResources(0);
    assertEquals("cluster-a", a.getName());
    assertEquals("cluster-a", a.getResource().unpack(Cluster.class).getName());
    assertEquals(first.clusters().get(0), a.getResource());
    assertTrue(a.getVersion().matches("[0-9a-f]{16}"), a.getVersion());
    assertNotEquals(a.getVersion(), clusters.getResources(1).getVersion());
    assertEquals(List.of(), state.onRequest(ack(clusters)));

    DeltaDiscoveryResponse listeners = only(state.onRequest(wildcard(TypeUrls.LISTENER)));
    assertEquals(
        "listener-a", listeners.getResources(0).getResource().unpack(Listener.class).getName());
    assertNotEquals(clusters.getNonce(), listeners.getNonce());
    assertEquals(List.of(), state.onRequest(ack(listeners)));

    StreamStatus status = state.status();
    assertEquals(7, status.streamId());
    assertEquals(NODE, status.nodeId());
    assertEquals(NOW, status.openedAt());
    assertEquals("1", status.snapshotVersion());
    for (ResourceTypeStatus type : status.types()) {
      assertEquals("1", type.sentVersion());
      assertEquals("1", type.ackedVersion());
      assertFalse(type.awaitingReply());
      assertEquals(1, type.responses());
      assertEquals(1, type.acks());
    }
    assertEquals(
        List.of("sent Cluster 1 2", "ack Cluster 1", "sent Listener 1 2", "ack Listener 1"),
        events.log);

    // b's backend changes, c is new: only those two of each type go out.
    XdsSnapshot second =
        mapper
            .map(
                List.of(
                    route("a", 10001, "a.example", 80),
                    route("b", 10002, "elsewhere.example", 80),
                    route("c", 10003, "c.example", 80)))
            .toSnapshot(NODE, 2);
    List<DeltaDiscoveryResponse> out = state.onSnapshot(second);
    assertEquals(List.of(TypeUrls.CLUSTER, TypeUrls.LISTENER), types(out));
    assertEquals(List.of("cluster-b", "cluster-c"), names(out.get(0)));
    assertEquals(List.of("listener-c"), names(out.get(1)), "listener-b did not change");
  }

  @Test
  void anExplicitStarIsAWildcardToo() {
    state.onSnapshot(snapshot(1, "a"));

    DeltaDiscoveryResponse clusters =
        only(
            state.onRequest(
                request(TypeUrls.CLUSTER, "").toBuilder().addResourceNamesSubscribe("*").build()));

    assertEquals(List.of("cluster-a"), names(clusters));
  }

  @Test
  void aStreamInSyncKeepsNothingOfItsOwnBeyondTheSharedIndex() {
    handshake(snapshot(1, "a", "b"));
    assertEquals(0, state.differences());

    List<DeltaDiscoveryResponse> out = state.onSnapshot(snapshot(2, "s", "b"));
    assertTrue(state.differences() > 0, "cluster-a retained, listener-a may be held");
    state.onRequest(ack(out.get(0)));
    DeltaDiscoveryResponse removal = only(state.onRequest(ack(out.get(1))));
    state.onRequest(ack(removal));

    assertEquals(List.of("cluster-a"), removal.getRemovedResourcesList());
    assertEquals(0, state.differences());
  }

  @Test
  void aSnapshotThatChangesNothingSendsNothing() {
    handshake(snapshot(1, "a", "b"));

    assertEquals(List.of(), state.onSnapshot(snapshot(2, "a", "b")));
  }

  @Test
  void explicitNamesGetOnlyThoseResourcesAndUnsubscribingDropsThemWithoutARemoval() {
    state.onSnapshot(snapshot(1, "a", "b", "c"));

    DeltaDiscoveryResponse clusters =
        only(
            state.onRequest(
                request(TypeUrls.CLUSTER, "").toBuilder()
                    .addResourceNamesSubscribe("cluster-b")
                    .addResourceNamesSubscribe("cluster-nope")
                    .build()));
    assertEquals(List.of("cluster-b"), names(clusters));
    assertEquals(List.of(), state.onRequest(ack(clusters)));

    DeltaDiscoveryResponse more =
        only(
            state.onRequest(
                request(TypeUrls.CLUSTER, clusters.getNonce()).toBuilder()
                    .addResourceNamesSubscribe("cluster-c")
                    .addResourceNamesUnsubscribe("cluster-b")
                    .build()));
    assertEquals(List.of("cluster-c"), names(more));
    assertEquals(0, more.getRemovedResourcesCount(), "Envoy dropped b itself");
    state.onRequest(ack(more));

    DeltaDiscoveryResponse bChanged =
        only(
            state.onSnapshot(
                mapper
                    .map(
                        List.of(
                            route("a", 10001, "a2.example", 80),
                            route("b", 10002, "b2.example", 80),
                            route("c", 10003, "c2.example", 80)))
                    .toSnapshot(NODE, 2)));
    assertEquals(List.of("cluster-c"), names(bChanged), "only what is subscribed");
  }

  @Test
  void typesNobodyAskedForAreNotPushed() {
    state.onSnapshot(snapshot(1, "a"));
    DeltaDiscoveryResponse clusters = only(state.onRequest(wildcard(TypeUrls.CLUSTER)));
    state.onRequest(ack(clusters));

    List<DeltaDiscoveryResponse> out = state.onSnapshot(snapshot(2, "a", "b"));

    assertEquals(List.of(TypeUrls.CLUSTER), types(out));
  }

  // --- replies --------------------------------------------------------------------------------

  @Test
  void nackIsRecordedAndTheRejectedResourceIsNotSentAgainUntilItChanges() {
    handshake(snapshot(1, "a"));
    List<DeltaDiscoveryResponse> out = state.onSnapshot(snapshot(2, "a", "b"));
    state.onRequest(ack(out.get(0)));

    assertEquals(List.of(), state.onRequest(nack(out.get(1), "listener-b: port in use\n")));

    ResourceTypeStatus listeners = state.status().type(TypeUrls.LISTENER);
    assertEquals(1, listeners.nacks());
    assertEquals("2", listeners.lastNackVersion());
    assertEquals("listener-b: port in use\n", listeners.lastNackMessage());
    assertEquals(NOW, listeners.lastNackAt());
    assertEquals("1", listeners.ackedVersion());
    assertFalse(listeners.awaitingReply());
    assertTrue(
        events.log.contains("nack Listener 2 listener-b: port in use\n"), events.log.toString());
    assertEquals(List.of(), state.onSnapshot(snapshot(3, "a", "b")), "nothing changed");
    XdsSnapshot moved =
        mapper
            .map(List.of(route("a", 10001, "a.example", 80), route("b", 20002, "b.example", 80)))
            .toSnapshot(NODE, 4);
    DeltaDiscoveryResponse again = only(state.onSnapshot(moved));
    assertEquals(List.of("listener-b"), names(again), "b changed: sent again");
  }

  @Test
  void longNackMessagesAreTruncated() {
    handshake(snapshot(1, "a"));
    DeltaDiscoveryResponse clusters = state.onSnapshot(snapshot(2, "a", "b")).get(0);

    state.onRequest(nack(clusters, "x".repeat(10_000)));

    String kept = state.status().type(TypeUrls.CLUSTER).lastNackMessage();
    assertEquals(AdsStreamState.MAX_NACK_MESSAGE_CHARS + 1, kept.length());
  }

  @Test
  void staleNonceIsNoReplyButItsSubscriptionChangesCount() {
    state.onSnapshot(snapshot(1, "a", "b"));
    DeltaDiscoveryResponse clusters =
        only(
            state.onRequest(
                request(TypeUrls.CLUSTER, "").toBuilder()
                    .addResourceNamesSubscribe("cluster-a")
                    .build()));

    assertEquals(List.of(), state.onRequest(request(TypeUrls.CLUSTER, "7-999")));
    ResourceTypeStatus type = state.status().type(TypeUrls.CLUSTER);
    assertTrue(type.awaitingReply());
    assertEquals(0, type.acks());

    assertEquals(
        List.of(),
        state.onRequest(
            request(TypeUrls.CLUSTER, "7-999").toBuilder()
                .addResourceNamesSubscribe("cluster-b")
                .build()),
        "b waits for the reply to the response in flight");
    DeltaDiscoveryResponse b = only(state.onRequest(ack(clusters)));
    assertEquals(List.of("cluster-b"), names(b));
  }

  @Test
  void repeatedAckOfTheSameNonceChangesNothing() {
    DeltaDiscoveryResponse[] sent = handshake(snapshot(1, "a"));

    assertEquals(List.of(), state.onRequest(ack(sent[0])));

    assertEquals(1, state.status().type(TypeUrls.CLUSTER).acks());
  }

  @Test
  void aLaggingEnvoyGetsOnlyTheNewestStateWhenItReplies() {
    handshake(snapshot(1, "a"));
    List<DeltaDiscoveryResponse> two = state.onSnapshot(snapshot(2, "a", "b"));
    assertEquals(List.of(), state.onSnapshot(snapshot(3, "a", "b", "c")));
    assertEquals(List.of(), state.onSnapshot(snapshot(4, "a", "c")));

    DeltaDiscoveryResponse clusters = only(state.onRequest(ack(two.get(0))));
    assertEquals("4", clusters.getSystemVersionInfo());
    assertEquals(List.of("cluster-c"), names(clusters));
    assertEquals(List.of(), clusters.getRemovedResourcesList(), "b: listener-b may be held");
    DeltaDiscoveryResponse listeners = only(state.onRequest(ack(two.get(1))));
    assertEquals(List.of("listener-c"), names(listeners));
    assertEquals(List.of("listener-b"), listeners.getRemovedResourcesList());
    assertEquals(List.of(), state.onRequest(ack(clusters)));
    DeltaDiscoveryResponse removal = only(state.onRequest(ack(listeners)));
    assertEquals(List.of("cluster-b"), removal.getRemovedResourcesList());
  }

  @Test
  void listenersWaitUntilTheSnapshotsClustersHaveBeenSent() {
    handshake(snapshot(1, "a"));
    List<DeltaDiscoveryResponse> two = state.onSnapshot(snapshot(2, "a", "b"));
    state.onRequest(ack(two.get(1)));

    assertEquals(List.of(), state.onSnapshot(snapshot(3, "a", "b", "c")), "Clusters in flight");

    List<DeltaDiscoveryResponse> out = state.onRequest(ack(two.get(0)));
    assertEquals(List.of(TypeUrls.CLUSTER, TypeUrls.LISTENER), types(out));
    assertEquals(List.of("listener-c"), names(out.get(1)));
  }

  @Test
  void listenersAloneAreServedWhenTheStreamNeverAsksForClusters() {
    state.onSnapshot(snapshot(1, "a"));

    assertEquals(List.of("listener-a"), names(only(state.onRequest(wildcard(TypeUrls.LISTENER)))));
  }

  // --- make before break ------------------------------------------------------------------------

  @Test
  void renameSendsNewClusterThenListenersAndRemovesTheOldClusterAfterTheirAck() {
    handshake(snapshot(1, "r"));

    List<DeltaDiscoveryResponse> out = state.onSnapshot(snapshot(2, "s"));

    assertEquals(List.of(TypeUrls.CLUSTER, TypeUrls.LISTENER), types(out));
    assertEquals(List.of("cluster-s"), names(out.get(0)));
    assertEquals(List.of(), out.get(0).getRemovedResourcesList(), "listener-r still uses r");
    assertEquals(List.of("listener-s"), names(out.get(1)));
    assertEquals(List.of("listener-r"), out.get(1).getRemovedResourcesList());
    assertEquals(Set.of("cluster-r"), state.retainedClusters());
    assertEquals(List.of("cluster-r"), state.status().retainedClusters());

    assertEquals(List.of(), state.onRequest(ack(out.get(0))), "listener-r may still be in Envoy");
    DeltaDiscoveryResponse removal = only(state.onRequest(ack(out.get(1))));
    assertEquals(TypeUrls.CLUSTER, removal.getTypeUrl());
    assertEquals(0, removal.getResourcesCount());
    assertEquals(List.of("cluster-r"), removal.getRemovedResourcesList());
    assertEquals(Set.of(), state.retainedClusters());
  }

  @Test
  void renameWhoseListenersAreAckedBeforeTheClustersRemovesTheOldClusterOnTheClusterAck() {
    handshake(snapshot(1, "r"));
    List<DeltaDiscoveryResponse> out = state.onSnapshot(snapshot(2, "s"));

    assertEquals(
        List.of(), state.onRequest(ack(out.get(1))), "one unanswered Cluster response at a time");
    DeltaDiscoveryResponse removal = only(state.onRequest(ack(out.get(0))));

    assertEquals(List.of("cluster-r"), removal.getRemovedResourcesList());
  }

  @Test
  void nackedListenersKeepTheClustersOfBothTheOldAndTheRejectedListeners() {
    handshake(snapshot(1, "r"));
    List<DeltaDiscoveryResponse> out = state.onSnapshot(snapshot(2, "s"));
    state.onRequest(ack(out.get(0)));

    assertEquals(List.of(), state.onRequest(nack(out.get(1), "listener-s: address in use")));
    assertEquals(Set.of("cluster-r"), state.retainedClusters());

    XdsSnapshot moved = mapper.map(List.of(route("s", 20001, "s.example", 80))).toSnapshot(NODE, 3);
    DeltaDiscoveryResponse listeners = only(state.onSnapshot(moved));
    assertEquals(List.of("listener-s"), names(listeners));
    assertEquals(
        List.of("listener-r"),
        listeners.getRemovedResourcesList(),
        "the removal Envoy may not have applied is sent again");
    DeltaDiscoveryResponse removal = only(state.onRequest(ack(listeners)));
    assertEquals(List.of("cluster-r"), removal.getRemovedResourcesList());
    assertEquals("3", removal.getSystemVersionInfo());
  }

  @Test
  void aListenerMovedToAnotherClusterKeepsItsOldClusterUntilTheMoveIsAcked() throws Exception {
    XdsSnapshot first = snapshot(1, "a", "b");
    handshake(first);
    // listener-a moves from cluster-a to cluster-b: cluster-a goes only after an ACKed move.
    XdsSnapshot moved =
        new XdsSnapshot(
            NODE,
            2,
            List.of(first.clusters().get(1)),
            List.of(
                retarget(first.listeners().get(0), 10001, "cluster-b"), first.listeners().get(1)),
            2);

    DeltaDiscoveryResponse listeners = only(state.onSnapshot(moved));

    assertEquals(TypeUrls.LISTENER, listeners.getTypeUrl(), "no Cluster is added or removed yet");
    assertEquals(List.of("listener-a"), names(listeners));
    assertEquals(List.of(), state.onRequest(nack(listeners, "listener-a rejected")));
    assertEquals(Set.of("cluster-a"), state.retainedClusters(), "Envoy may hold the old one");

    XdsSnapshot movedAgain =
        new XdsSnapshot(
            NODE,
            3,
            List.of(first.clusters().get(1)),
            List.of(
                retarget(first.listeners().get(0), 20001, "cluster-b"), first.listeners().get(1)),
            2);
    DeltaDiscoveryResponse again = only(state.onSnapshot(movedAgain));
    assertEquals(List.of("listener-a"), names(again));
    DeltaDiscoveryResponse removal = only(state.onRequest(ack(again)));
    assertEquals(List.of("cluster-a"), removal.getRemovedResourcesList());
  }

  @Test
  void removedNodeLosesItsListenersFirstAndItsClustersAfterTheAck() {
    handshake(snapshot(1, "a", "b"));

    DeltaDiscoveryResponse listeners = only(state.onSnapshot(XdsSnapshot.empty(NODE, 2, 2)));

    assertEquals(TypeUrls.LISTENER, listeners.getTypeUrl());
    assertEquals(List.of("listener-a", "listener-b"), listeners.getRemovedResourcesList());
    assertEquals(Set.of("cluster-a", "cluster-b"), state.retainedClusters());
    DeltaDiscoveryResponse clusters = only(state.onRequest(ack(listeners)));
    assertEquals(List.of("cluster-a", "cluster-b"), clusters.getRemovedResourcesList());
    assertEquals("2", clusters.getSystemVersionInfo());
  }

  @Test
  void streamWithoutListenersRemovesClustersAtOnce() {
    state.onSnapshot(snapshot(1, "r"));
    state.onRequest(ack(only(state.onRequest(wildcard(TypeUrls.CLUSTER)))));

    DeltaDiscoveryResponse clusters = only(state.onSnapshot(snapshot(2, "s")));

    assertEquals(List.of("cluster-s"), names(clusters));
    assertEquals(List.of("cluster-r"), clusters.getRemovedResourcesList());
  }

  // --- reconnects -------------------------------------------------------------------------------

  @Test
  void reconnectingEnvoyIsSentOnlyWhatItLacksAndAnEmptyAnswerWhenItHasEverything() {
    XdsSnapshot snapshot = snapshot(5, "a", "b");
    DeltaSnapshotIndex index = DeltaSnapshotIndex.of(snapshot);
    state.onSnapshot(snapshot);

    DeltaDiscoveryResponse clusters =
        only(
            state.onRequest(
                wildcard(TypeUrls.CLUSTER).toBuilder()
                    .putInitialResourceVersions(
                        "cluster-a", index.clusters().get("cluster-a").getVersion())
                    .putInitialResourceVersions("cluster-b", "an-old-version")
                    .build()));
    assertEquals(List.of("cluster-b"), names(clusters));
    state.onRequest(ack(clusters));

    Map<String, String> held = new LinkedHashMap<>();
    index.listeners().forEach((name, resource) -> held.put(name, resource.getVersion()));
    DeltaDiscoveryResponse listeners =
        only(
            state.onRequest(
                wildcard(TypeUrls.LISTENER).toBuilder()
                    .putAllInitialResourceVersions(held)
                    .build()));
    assertEquals(0, listeners.getResourcesCount(), "Envoy has them all: an empty answer");
    assertEquals(0, listeners.getRemovedResourcesCount());
    assertEquals("5", listeners.getSystemVersionInfo());
  }

  @Test
  void reconnectingEnvoyKeepsTheClustersOfTheListenersItStillHolds() {
    XdsSnapshot renamed = snapshot(2, "s");
    state.onSnapshot(renamed);

    DeltaDiscoveryResponse clusters =
        only(
            state.onRequest(
                wildcard(TypeUrls.CLUSTER).toBuilder()
                    .putInitialResourceVersions("cluster-r", "v-old")
                    .build()));
    assertEquals(List.of("cluster-s"), names(clusters));
    assertEquals(
        List.of("cluster-r"),
        clusters.getRemovedResourcesList(),
        "no Listener subscription yet: nothing is known to use r");
    state.onRequest(ack(clusters));

    DeltaDiscoveryResponse fresh =
        new DeltaStreamState(8, NODE, new XdsEvents() {}, Clock.fixed(NOW, ZoneOffset.UTC))
            .onSnapshot(renamed).stream().findFirst().orElse(null);
    assertEquals(null, fresh, "no subscription, no answer");

    DeltaStreamState reconnect =
        new DeltaStreamState(9, NODE, new XdsEvents() {}, Clock.fixed(NOW, ZoneOffset.UTC));
    reconnect.onSnapshot(renamed);
    reconnect.onRequest(
        wildcard(TypeUrls.LISTENER).toBuilder()
            .putInitialResourceVersions("listener-r", "v-old")
            .build());
    DeltaDiscoveryResponse withR =
        only(
            reconnect.onRequest(
                wildcard(TypeUrls.CLUSTER).toBuilder()
                    .putInitialResourceVersions("cluster-r", "v-old")
                    .build()));
    assertEquals(List.of("cluster-s"), names(withR));
    assertEquals(List.of(), withR.getRemovedResourcesList(), "listener-r (held) uses cluster-r");
    assertEquals(Set.of("cluster-r"), reconnect.retainedClusters());
  }

  // --- hostile and confused clients -------------------------------------------------------------

  @Test
  void unknownTypesAreNeverAnsweredButCountTowardsTheLimit() {
    state.onSnapshot(snapshot(1, "a"));

    assertEquals(List.of(), state.onRequest(wildcard(ROUTES_TYPE)));
    assertEquals(List.of(), state.onRequest(wildcard("not a type url \n at all")));
    for (int i = 2; i < AdsStreamState.MAX_TYPE_URLS; i++) {
      assertEquals(List.of(), state.onRequest(wildcard("type.googleapis.com/test.T" + i)));
    }
    assertEquals(AdsStreamState.MAX_TYPE_URLS, state.status().types().size());

    AdsStreamState.Refused refused =
        assertThrows(
            AdsStreamState.Refused.class, () -> state.onRequest(wildcard(TypeUrls.CLUSTER)));
    assertEquals(io.grpc.Status.Code.RESOURCE_EXHAUSTED, refused.status().getCode());
    assertEquals(List.of(), state.onRequest(wildcard(ROUTES_TYPE)), "known types still quiet");
  }

  @Test
  void overlongTypeUrlIsRefused() {
    AdsStreamState.Refused refused =
        assertThrows(
            AdsStreamState.Refused.class,
            () ->
                state.onRequest(
                    wildcard(
                        "type.googleapis.com/" + "x".repeat(AdsStreamState.MAX_TYPE_URL_CHARS))));

    assertEquals(io.grpc.Status.Code.INVALID_ARGUMENT, refused.status().getCode());
    assertEquals(List.of(), state.status().types());
  }

  @Test
  void requestWithoutTypeUrlIsIgnored() {
    state.onSnapshot(snapshot(1, "a"));

    assertEquals(List.of(), state.onRequest(wildcard("")));

    assertEquals(List.of(), state.status().types());
  }

  @Test
  void tooManySubscribedNamesCloseTheStreamAndOverlongNamesAreIgnored() {
    state.onSnapshot(snapshot(1, "a"));
    DeltaDiscoveryRequest.Builder garbage = request(TypeUrls.CLUSTER, "").toBuilder();
    garbage.addResourceNamesSubscribe("n".repeat(DeltaStreamState.MAX_RESOURCE_NAME_CHARS + 1));
    garbage.addResourceNamesSubscribe("cluster-a");
    for (int i = 0; i < 100; i++) {
      garbage.addResourceNamesSubscribe("x".repeat(100_000));
    }
    assertEquals(List.of("cluster-a"), names(only(state.onRequest(garbage.build()))));

    DeltaDiscoveryRequest.Builder huge = request(TypeUrls.LISTENER, "").toBuilder();
    for (int i = 0; i <= DeltaStreamState.MAX_NAMES_PER_TYPE; i++) {
      huge.addResourceNamesSubscribe("listener-" + i);
    }
    AdsStreamState.Refused refused =
        assertThrows(AdsStreamState.Refused.class, () -> state.onRequest(huge.build()));
    assertEquals(io.grpc.Status.Code.RESOURCE_EXHAUSTED, refused.status().getCode());
    assertTrue(refused.getMessage().contains("resource names"), refused.getMessage());
  }

  @Test
  void initialVersionsBeyondTheLimitAreIgnored() {
    DeltaDiscoveryRequest.Builder reconnect = wildcard(TypeUrls.CLUSTER).toBuilder();
    for (int i = 0; i < DeltaStreamState.MAX_NAMES_PER_TYPE + 500; i++) {
      reconnect.putInitialResourceVersions("cluster-old-" + i, "v");
    }
    reconnect.putInitialResourceVersions("y".repeat(1000), "v");
    state.onRequest(reconnect.build());

    DeltaDiscoveryResponse clusters = only(state.onSnapshot(snapshot(1, "a")));

    assertEquals(List.of("cluster-a"), names(clusters));
    assertEquals(DeltaStreamState.MAX_NAMES_PER_TYPE, clusters.getRemovedResourcesCount());
  }

  @Test
  void laterRequestNamingAnotherNodeDoesNotMoveTheStream() {
    state.onSnapshot(snapshot(1, "a"));

    DeltaDiscoveryResponse clusters =
        only(
            state.onRequest(
                wildcard(TypeUrls.CLUSTER).toBuilder()
                    .setNode(Node.newBuilder().setId("other\n".repeat(1000)))
                    .build()));

    assertEquals(List.of("cluster-a"), names(clusters));
    assertEquals(NODE, state.status().nodeId());
  }

  @Test
  void snapshotOfAnotherNodeIsIgnored() {
    state.onRequest(wildcard(TypeUrls.CLUSTER));

    assertEquals(
        List.of(),
        state.onSnapshot(
            mapper.map(List.of(route("a", 10001, "a.example", 80))).toSnapshot("x", 1)));

    assertEquals(null, state.status().snapshotVersion());
  }

  @Test
  void noncesAreUniqueAndCarryTheStreamId() {
    DeltaDiscoveryResponse[] first = handshake(snapshot(1, "a"));
    List<DeltaDiscoveryResponse> second = state.onSnapshot(snapshot(2, "a", "b"));

    Set<String> nonces = new TreeSet<>();
    for (DeltaDiscoveryResponse response :
        List.of(first[0], first[1], second.get(0), second.get(1))) {
      assertTrue(response.getNonce().startsWith("7-"), response.getNonce());
      nonces.add(response.getNonce());
    }
    assertEquals(4, nonces.size());
  }

  @Test
  void statusChangesAreReportedOnce() {
    assertTrue(state.pollStatusChange().isPresent(), "the initial status");
    assertTrue(state.pollStatusChange().isEmpty());
    state.onRequest(wildcard(TypeUrls.CLUSTER));
    state.onSnapshot(snapshot(1, "a"));

    StreamStatus sent = state.pollStatusChange().orElseThrow();

    assertEquals("1", sent.snapshotVersion());
    assertTrue(sent.type(TypeUrls.CLUSTER).awaitingReply());
    assertTrue(state.pollStatusChange().isEmpty());
  }

  @Test
  void halfClosedStreamIsFinishedOnceEveryServedTypeWaitsForAReply() {
    state.onRequest(wildcard(TypeUrls.CLUSTER));
    state.onRequest(wildcard(ROUTES_TYPE));
    state.onRequestsEnded();
    assertFalse(state.finished(), "the Cluster answer is still owed");

    only(state.onSnapshot(snapshot(1, "a")));

    assertTrue(state.finished(), "the unserved type is never answered: not waited for");
  }

  @Test
  void halfClosedStreamWithNothingSubscribedIsFinished() {
    assertFalse(state.finished());
    state.onRequestsEnded();
    assertTrue(state.finished());
  }

  @Test
  void streamsOfANodeIndexEachSnapshotOnce() {
    DeltaSnapshotIndex.Shared shared = new DeltaSnapshotIndex.Shared();
    XdsSnapshot first = snapshot(1, "a", "b");

    DeltaSnapshotIndex index = shared.apply(first);

    assertSame(index, shared.apply(first));
    assertEquals(List.of("cluster-a", "cluster-b"), List.copyOf(index.clusters().keySet()));
    assertEquals(Set.of("cluster-a"), index.listenerClusters().get("listener-a"));
    assertNotSame(index, shared.apply(snapshot(2, "a")));
    assertEquals(
        DeltaSnapshotIndex.version(first.clusters().get(0)),
        DeltaSnapshotIndex.version(snapshot(9, "a").clusters().get(0)),
        "the same bytes, the same version, whatever the snapshot");
  }

  @Test
  void resourceNamesAreReadWithoutDecodingAndUndecodableOnesStillGetAName() throws Exception {
    XdsSnapshot snapshot = snapshot(1, "a");
    assertEquals("cluster-a", DeltaSnapshotIndex.name(snapshot.clusters().get(0)));
    assertEquals("listener-a", DeltaSnapshotIndex.name(snapshot.listeners().get(0)));
    Any nameNotFirst =
        Any.newBuilder()
            .setTypeUrl(TypeUrls.CLUSTER)
            .setValue(
                com.google.protobuf.ByteString.copyFrom(new byte[] {0x18, 0x01, 0x0a, 0x01, 'x'}))
            .build();
    assertEquals(null, DeltaSnapshotIndex.name(nameNotFirst));
    Any garbage =
        Any.newBuilder()
            .setTypeUrl(TypeUrls.LISTENER)
            .setValue(com.google.protobuf.ByteString.copyFrom(new byte[] {0x0a, 0x7f, 'x'}))
            .build();
    assertEquals(null, DeltaSnapshotIndex.name(garbage));

    DeltaSnapshotIndex index =
        DeltaSnapshotIndex.of(new XdsSnapshot(NODE, 1, List.of(nameNotFirst), List.of(garbage), 1));

    assertEquals(Set.of("x"), index.clusters().keySet(), "decoded the slow way");
    assertTrue(
        index.listeners().keySet().iterator().next().startsWith("undecodable-"),
        index.listeners().toString());
  }

  // --- the random Envoy -------------------------------------------------------------------------

  /**
   * Random snapshots against a delta Envoy model that applies each response when it reads it, reads
   * and replies at random moments, and on a Listener NACK applies any part of the response (Envoy
   * applies the valid Listeners and keeps the old version of rejected ones). After every response
   * it applies, each Listener it holds must have its Clusters; once quiet and after a last ACKed
   * snapshot, Envoy holds exactly that snapshot.
   */
  @Test
  void envoyNeverHoldsAListenerWithoutItsClusterUnderRandomSnapshots() {
    SplittableRandom random = new SplittableRandom(11);
    for (int run = 0; run < 60; run++) {
      DeltaStreamState stream =
          new DeltaStreamState(run, NODE, new XdsEvents() {}, Clock.fixed(NOW, ZoneOffset.UTC));
      DeltaEnvoyModel envoy = new DeltaEnvoyModel(random);
      long version = 1;
      envoy.receive(stream.onSnapshot(randomSnapshot(random, version)));
      envoy.receive(stream.onRequest(wildcard(TypeUrls.CLUSTER)));
      envoy.receive(stream.onRequest(wildcard(TypeUrls.LISTENER)));
      for (int step = 0; step < 80; step++) {
        if (random.nextInt(3) == 0) {
          envoy.receive(stream.onSnapshot(randomSnapshot(random, ++version)));
        } else if (!envoy.inbox.isEmpty()) {
          envoy.receive(stream.onRequest(envoy.applyNext()));
        }
      }
      envoy.nackListeners = false;
      XdsSnapshot last =
          mapper.map(List.of(route("z", 10009, "z.example", 80))).toSnapshot(NODE, ++version);
      envoy.receive(stream.onSnapshot(last));
      while (!envoy.inbox.isEmpty()) {
        envoy.receive(stream.onRequest(envoy.applyNext()));
      }
      assertEquals(Set.of(), stream.retainedClusters(), "run " + run);
      assertEquals(Set.of("cluster-z"), envoy.clusters.keySet(), "run " + run + ": no leftover");
      assertEquals(Set.of("listener-z"), envoy.listeners.keySet(), "run " + run);
    }
  }

  private XdsSnapshot randomSnapshot(SplittableRandom random, long version) {
    List<EnvoyRoute> routes = new ArrayList<>();
    for (String name : List.of("a", "b", "c", "d", "e")) {
      if (random.nextBoolean()) {
        routes.add(
            route(name, 10000 + random.nextInt(3), name + random.nextInt(2) + ".example", 80));
      }
    }
    return mapper.map(routes).toSnapshot(NODE, version);
  }

  /** What a delta Envoy holds, applying responses in order, with the random test's checks. */
  private static final class DeltaEnvoyModel {
    final SplittableRandom random;
    final Deque<DeltaDiscoveryResponse> inbox = new ArrayDeque<>();
    final Map<String, String> clusters = new TreeMap<>();

    /** Listener name to the Clusters it uses. */
    final Map<String, Set<String>> listeners = new HashMap<>();

    boolean nackListeners = true;

    DeltaEnvoyModel(SplittableRandom random) {
      this.random = random;
    }

    void receive(List<DeltaDiscoveryResponse> responses) {
      inbox.addAll(responses);
    }

    DeltaDiscoveryRequest applyNext() {
      DeltaDiscoveryResponse response = inbox.removeFirst();
      if (TypeUrls.CLUSTER.equals(response.getTypeUrl())) {
        response.getResourcesList().forEach(r -> clusters.put(r.getName(), r.getVersion()));
        response.getRemovedResourcesList().forEach(clusters::remove);
        check();
        return ack(response);
      }
      boolean nack = nackListeners && random.nextInt(4) == 0;
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
      check();
      return nack ? nack(response, "some listener rejected") : ack(response);
    }

    void check() {
      listeners.forEach(
          (name, used) ->
              assertTrue(
                  clusters.keySet().containsAll(used),
                  name + " uses " + used + " but Envoy has only " + clusters.keySet()));
    }
  }

  // --- helpers ----------------------------------------------------------------------------------

  /** Envoy's start-up: Clusters subscribed, answered, ACKed; then Listeners the same. */
  private DeltaDiscoveryResponse[] handshake(XdsSnapshot snapshot) {
    state.onSnapshot(snapshot);
    DeltaDiscoveryResponse clusters = only(state.onRequest(wildcard(TypeUrls.CLUSTER)));
    assertEquals(List.of(), state.onRequest(ack(clusters)));
    DeltaDiscoveryResponse listeners = only(state.onRequest(wildcard(TypeUrls.LISTENER)));
    assertEquals(List.of(), state.onRequest(ack(listeners)));
    return new DeltaDiscoveryResponse[] {clusters, listeners};
  }

  private XdsSnapshot snapshot(long version, String... routeNames) {
    List<EnvoyRoute> routes = new ArrayList<>();
    int port = 10001;
    for (String name : routeNames) {
      routes.add(route(name, port++, name + ".example", 80));
    }
    return mapper.map(routes).toSnapshot(NODE, version);
  }

  /** {@code listener} on {@code port} with its tcp_proxy routed to {@code cluster}. */
  private static Any retarget(Any listener, int port, String cluster) throws Exception {
    Listener.Builder builder = listener.unpack(Listener.class).toBuilder();
    builder.getAddressBuilder().getSocketAddressBuilder().setPortValue(port);
    var filter = builder.getFilterChainsBuilder(0).getFiltersBuilder(0);
    TcpProxy proxy =
        filter.getTypedConfig().unpack(TcpProxy.class).toBuilder().setCluster(cluster).build();
    filter.setTypedConfig(Any.pack(proxy));
    return Any.pack(builder.build());
  }

  private static DeltaDiscoveryRequest wildcard(String typeUrl) {
    return request(typeUrl, "");
  }

  private static DeltaDiscoveryRequest request(String typeUrl, String nonce) {
    return DeltaDiscoveryRequest.newBuilder()
        .setNode(Node.newBuilder().setId(NODE))
        .setTypeUrl(typeUrl)
        .setResponseNonce(nonce)
        .build();
  }

  private static DeltaDiscoveryRequest ack(DeltaDiscoveryResponse response) {
    return request(response.getTypeUrl(), response.getNonce());
  }

  private static DeltaDiscoveryRequest nack(DeltaDiscoveryResponse response, String message) {
    return request(response.getTypeUrl(), response.getNonce()).toBuilder()
        .setErrorDetail(Status.newBuilder().setCode(3).setMessage(message))
        .build();
  }

  private static DeltaDiscoveryResponse only(List<DeltaDiscoveryResponse> responses) {
    assertEquals(1, responses.size(), "expected exactly one response, got " + types(responses));
    return responses.get(0);
  }

  private static List<String> types(List<DeltaDiscoveryResponse> responses) {
    return responses.stream().map(DeltaDiscoveryResponse::getTypeUrl).toList();
  }

  private static List<String> names(DeltaDiscoveryResponse response) {
    return response.getResourcesList().stream().map(Resource::getName).toList();
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
