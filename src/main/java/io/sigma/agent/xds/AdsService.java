package io.sigma.agent.xds;

import io.envoyproxy.envoy.service.discovery.v3.AggregatedDiscoveryService;
import io.envoyproxy.envoy.service.discovery.v3.DeltaDiscoveryRequest;
import io.envoyproxy.envoy.service.discovery.v3.DeltaDiscoveryResponse;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryRequest;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryResponse;
import io.grpc.Status;
import java.time.Clock;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.pekko.NotUsed;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.javadsl.Adapter;
import org.apache.pekko.grpc.GrpcServiceException;
import org.apache.pekko.http.scaladsl.model.http2.PeerClosedStreamException;
import org.apache.pekko.stream.OverflowStrategy;
import org.apache.pekko.stream.javadsl.Source;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Envoy's Aggregated Discovery Service (xDS v3, state of the world), served from the
 * {@link SnapshotRegistry}.
 *
 * <p>Each stream is one Pekko Streams pipeline: Envoy's requests merged with the node's snapshots,
 * run through an {@link AdsStreamState}. Snapshots enter through an actor-backed inlet that keeps
 * only the newest one not yet consumed (buffer of 1, drop the older), and the state machine keeps at
 * most one unanswered response per type, so a stream that cannot write to its Envoy holds at most
 * one snapshot and two responses; it never slows the registry or other streams.
 */
public final class AdsService implements AggregatedDiscoveryService {

  private static final Logger log = LoggerFactory.getLogger(AdsService.class);

  private final ActorRef<SnapshotRegistry.Command> registry;
  private final XdsEvents events;
  private final Clock clock;
  private final AtomicLong streamIds = new AtomicLong();

  /**
   * @param registry where node snapshots come from and stream status goes
   * @param events metric hooks ({@link XdsEvents#NO_OP} until metrics are wired)
   * @param clock for NACK and stream-open times
   */
  public AdsService(ActorRef<SnapshotRegistry.Command> registry, XdsEvents events, Clock clock) {
    this.registry = registry;
    this.events = events;
    this.clock = clock;
  }

  @Override
  public Source<DiscoveryResponse, NotUsed> streamAggregatedResources(Source<DiscoveryRequest, NotUsed> in) {
    long streamId = streamIds.incrementAndGet();
    return in.prefixAndTail(1)
        .flatMapConcat(firstAndRest -> open(streamId, firstAndRest.first(), firstAndRest.second()));
  }

  @Override
  public Source<DeltaDiscoveryResponse, NotUsed> deltaAggregatedResources(Source<DeltaDiscoveryRequest, NotUsed> in) {
    log.warn("xDS: refused a Delta ADS stream (not implemented); configure Envoy's ads_config with "
        + "api_type GRPC (state of the world)");
    return Source.failed(new GrpcServiceException(Status.UNIMPLEMENTED.withDescription(
        "DeltaAggregatedResources is not implemented by sigma-agent; use StreamAggregatedResources "
            + "(ads_config api_type: GRPC)")));
  }

  private Source<DiscoveryResponse, NotUsed> open(
      long streamId, List<DiscoveryRequest> first, Source<DiscoveryRequest, NotUsed> rest) {
    if (first.isEmpty()) {
      log.debug("xDS stream {} ended before its first request", streamId);
      return Source.empty();
    }
    DiscoveryRequest firstRequest = first.get(0);
    String nodeId = firstRequest.getNode().getId();
    if (nodeId.isBlank()) {
      log.warn("xDS stream {} refused: its first request ({}) has no node.id; set node.id in the Envoy "
          + "bootstrap. Closing it with INVALID_ARGUMENT", streamId, firstRequest.getTypeUrl());
      return Source.failed(new GrpcServiceException(Status.INVALID_ARGUMENT.withDescription(
          "the first DiscoveryRequest of an ADS stream must carry node.id")));
    }
    AdsStreamState state = new AdsStreamState(streamId, nodeId, events, clock);
    StreamStatus initialStatus = state.status();

    Source<StreamInput, NotUsed> requests =
        Source.single(firstRequest).concat(rest).map(RequestArrived::new);
    Source<StreamInput, NotUsed> snapshots = Source.<XdsSnapshot>actorRef(
            message -> Optional.empty(), message -> Optional.empty(), 1, OverflowStrategy.dropHead())
        .mapMaterializedValue(inlet -> {
          ActorRef<XdsSnapshot> typedInlet = Adapter.toTyped(inlet);
          registry.tell(new SnapshotRegistry.Subscribe(initialStatus, typedInlet));
          return NotUsed.getInstance();
        })
        .map(SnapshotArrived::new);

    log.info("xDS stream {} opened for node {}", streamId, nodeId);
    events.onStreamOpened(streamId, nodeId);
    return requests
        .merge(snapshots, true)
        .statefulMapConcat(() -> input -> step(state, input))
        .watchTermination((notUsed, done) -> {
          done.whenComplete((ok, failure) -> {
            registry.tell(new SnapshotRegistry.StreamClosed(streamId));
            events.onStreamClosed(streamId, nodeId);
            if (failure == null) {
              log.info("xDS stream {} of node {} closed", streamId, nodeId);
            } else if (failure instanceof PeerClosedStreamException) {
              log.info("xDS stream {} of node {} closed by the client", streamId, nodeId);
            } else {
              log.info("xDS stream {} of node {} closed: {}", streamId, nodeId, failure.toString());
            }
          });
          return NotUsed.getInstance();
        });
  }

  private List<DiscoveryResponse> step(AdsStreamState state, StreamInput input) {
    List<DiscoveryResponse> responses = input instanceof RequestArrived request
        ? state.onRequest(request.request())
        : state.onSnapshot(((SnapshotArrived) input).snapshot());
    state.pollStatusChange().ifPresent(status -> registry.tell(new SnapshotRegistry.StreamUpdated(status)));
    return responses;
  }

  /** What a stream's state machine consumes: Envoy's requests and the node's snapshots. */
  private sealed interface StreamInput permits RequestArrived, SnapshotArrived {}

  private record RequestArrived(DiscoveryRequest request) implements StreamInput {}

  private record SnapshotArrived(XdsSnapshot snapshot) implements StreamInput {}
}
