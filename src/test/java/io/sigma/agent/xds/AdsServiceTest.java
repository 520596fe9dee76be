package io.sigma.agent.xds;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.envoyproxy.envoy.config.core.v3.Node;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryRequest;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryResponse;
import io.grpc.Status;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.grpc.GrpcServiceException;
import org.apache.pekko.stream.javadsl.Sink;
import org.apache.pekko.stream.javadsl.Source;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The ADS service's streams without the network: each test runs the service's stream on a source of
 * requests (ending like a client that half-closes) and reads what it answers.
 */
class AdsServiceTest {

  private static final ActorTestKit testKit = ActorTestKit.create();
  private static final Duration AWAIT = Duration.ofSeconds(10);

  private final List<String> events = new CopyOnWriteArrayList<>();
  private ActorRef<SnapshotRegistry.Command> registry;
  private AdsService service;

  @AfterAll
  static void stop() {
    testKit.shutdownTestKit();
  }

  @BeforeEach
  void start() {
    registry = testKit.spawn(SnapshotRegistry.create());
    service =
        new AdsService(
            registry,
            new XdsEvents() {
              @Override
              public void onStreamOpened(long streamId, String nodeId) {
                events.add("opened " + streamId + " " + nodeId);
              }

              @Override
              public void onStreamClosed(long streamId, String nodeId) {
                events.add("closed " + streamId + " " + nodeId);
              }
            },
            Clock.systemUTC());
  }

  private static DiscoveryRequest subscribe(String nodeId, String typeUrl) {
    return DiscoveryRequest.newBuilder()
        .setNode(Node.newBuilder().setId(nodeId))
        .setTypeUrl(typeUrl)
        .build();
  }

  private List<DiscoveryResponse> run(DiscoveryRequest... requests) throws Exception {
    return service
        .streamAggregatedResources(Source.from(List.of(requests)))
        .runWith(Sink.seq(), testKit.system())
        .toCompletableFuture()
        .get(AWAIT.toSeconds(), TimeUnit.SECONDS);
  }

  private Status.Code refusal(DiscoveryRequest request) {
    ExecutionException failed = assertThrows(ExecutionException.class, () -> run(request));
    return assertInstanceOf(GrpcServiceException.class, failed.getCause()).getStatus().getCode();
  }

  private XdsStatus status() {
    TestProbe<XdsStatus> probe = testKit.createTestProbe();
    registry.tell(new SnapshotRegistry.GetStatus(probe.ref()));
    return probe.receiveMessage(AWAIT);
  }

  @Test
  void aHalfClosedStreamGetsTheAnswerItIsOwedThenEndsAndLeavesTheRegistry() throws Exception {
    registry.tell(
        new SnapshotRegistry.SetSnapshot(
            new RouteResourceMapper()
                .map(List.of(Routes.route("web", 10001, "web.example", 80)))
                .toSnapshot("edge", 3, 77)));
    List<DiscoveryResponse> responses = run(subscribe("edge", TypeUrls.CLUSTER));
    assertEquals(1, responses.size(), responses.toString());
    assertEquals(TypeUrls.CLUSTER, responses.get(0).getTypeUrl());
    assertEquals("77", responses.get(0).getVersionInfo());
    assertEquals(1, responses.get(0).getResourcesCount());
    testKit
        .createTestProbe()
        .awaitAssert(
            AWAIT,
            () -> {
              assertEquals(List.of("opened 1 edge", "closed 1 edge"), events);
              assertEquals(List.of(), status().node("edge").streams(), "the registry forgot it");
              return null;
            });
  }

  @Test
  void aStreamWithoutRequestsEndsQuietly() throws Exception {
    assertEquals(List.of(), run());
    assertEquals(List.of(), events);
  }

  @Test
  void aFirstRequestWithoutNodeIdIsRefused() {
    assertEquals(Status.Code.INVALID_ARGUMENT, refusal(subscribe("", TypeUrls.CLUSTER)));
    assertEquals(Status.Code.INVALID_ARGUMENT, refusal(subscribe("  ", TypeUrls.CLUSTER)));
    assertEquals(List.of(), events);
  }

  @Test
  void aNodeIdLongerThanTheLimitIsRefusedOneAtTheLimitIsServed() throws Exception {
    String tooLong = "n".repeat(AdsService.MAX_NODE_ID_CHARS + 1);
    assertEquals(Status.Code.INVALID_ARGUMENT, refusal(subscribe(tooLong, TypeUrls.CLUSTER)));
    String longest = "n".repeat(AdsService.MAX_NODE_ID_CHARS);
    registry.tell(new SnapshotRegistry.SetSnapshot(XdsSnapshot.empty(longest, 1, 1)));
    assertEquals(1, run(subscribe(longest, TypeUrls.CLUSTER)).size());
  }

  @Test
  void aStreamTheStateMachineRefusesFailsWithItsStatus() {
    DiscoveryRequest[] manyTypes = new DiscoveryRequest[40];
    for (int i = 0; i < manyTypes.length; i++) {
      manyTypes[i] = subscribe("edge", "type.googleapis.com/made.up.Type" + i);
    }
    ExecutionException failed = assertThrows(ExecutionException.class, () -> run(manyTypes));
    GrpcServiceException refused = assertInstanceOf(GrpcServiceException.class, failed.getCause());
    assertTrue(
        refused.getStatus().getCode() != Status.Code.OK
            && refused.getStatus().getCode() != Status.Code.UNKNOWN,
        refused.getStatus().toString());
  }
}
