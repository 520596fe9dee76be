package io.sigma.agent.xds;

import io.envoyproxy.envoy.service.discovery.v3.DeltaDiscoveryRequest;
import io.envoyproxy.envoy.service.discovery.v3.DeltaDiscoveryResponse;
import io.grpc.Status;
import java.time.Clock;
import java.util.List;
import java.util.Optional;
import org.apache.pekko.NotUsed;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.grpc.GrpcServiceException;
import org.apache.pekko.http.scaladsl.model.http2.PeerClosedStreamException;
import org.apache.pekko.stream.javadsl.Source;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Envoy's Delta Aggregated Discovery Service streams (incremental xDS v3, {@code ads_config
 * api_type: DELTA_GRPC}) for Clusters and Listeners, served from the {@link SnapshotRegistry} like
 * the state-of-the-world streams of {@link AdsService}, which hands its delta calls here.
 *
 * <p>The same pipeline as a state-of-the-world stream: Envoy's requests merged with the node's
 * snapshots (an actor-backed inlet keeping only the newest unconsumed one) through a {@link
 * DeltaStreamState}, at most one unanswered response per type; so a stream that cannot write to its
 * Envoy holds at most one snapshot and two responses. A delta stream registers with the registry
 * like any other ({@link SnapshotRegistry.Subscribe}, {@link SnapshotRegistry.StreamUpdated},
 * {@link SnapshotRegistry.StreamClosed}), so it is on {@code /xds/status} and in the xDS metrics.
 * The same limits: node.id at most {@link AdsService#MAX_NODE_ID_CHARS} characters, the per-stream
 * type and name limits of {@link DeltaStreamState}; a half-closed stream ends once nothing more can
 * be sent.
 */
final class DeltaAdsStream {

  private static final Logger log = LoggerFactory.getLogger(DeltaAdsStream.class);

  private final ActorRef<SnapshotRegistry.Command> registry;
  private final XdsEvents events;
  private final Clock clock;

  /** Each node's newest snapshot indexed once for all its delta streams. */
  private final DeltaSnapshotIndex.Shared indexes = new DeltaSnapshotIndex.Shared();

  DeltaAdsStream(ActorRef<SnapshotRegistry.Command> registry, XdsEvents events, Clock clock) {
    this.registry = registry;
    this.events = events;
    this.clock = clock;
  }

  /** The responses of delta stream {@code streamId} (unique among all the service's streams). */
  Source<DeltaDiscoveryResponse, NotUsed> serve(
      long streamId, Source<DeltaDiscoveryRequest, NotUsed> in) {
    return in.prefixAndTail(1)
        .flatMapConcat(firstAndRest -> open(streamId, firstAndRest.first(), firstAndRest.second()));
  }

  private Source<DeltaDiscoveryResponse, NotUsed> open(
      long streamId,
      List<DeltaDiscoveryRequest> first,
      Source<DeltaDiscoveryRequest, NotUsed> rest) {
    if (first.isEmpty()) {
      log.debug("xDS delta stream {} ended before its first request", streamId);
      return Source.empty();
    }
    DeltaDiscoveryRequest firstRequest = first.get(0);
    String nodeId = firstRequest.getNode().getId();
    if (nodeId.isBlank()) {
      log.warn(
          "xDS delta stream {} refused: its first request ({}) has no node.id; set node.id in the "
              + "Envoy bootstrap. Closing it with INVALID_ARGUMENT",
          streamId,
          AdsStreamState.capped(firstRequest.getTypeUrl()));
      return Source.failed(
          new GrpcServiceException(
              Status.INVALID_ARGUMENT.withDescription(
                  "the first DeltaDiscoveryRequest of a Delta ADS stream must carry node.id")));
    }
    if (nodeId.length() > AdsService.MAX_NODE_ID_CHARS) {
      log.warn(
          "xDS delta stream {} refused: its node.id is {} characters long (at most {}): {}; "
              + "closing it with INVALID_ARGUMENT",
          streamId,
          nodeId.length(),
          AdsService.MAX_NODE_ID_CHARS,
          AdsStreamState.capped(nodeId));
      return Source.failed(
          new GrpcServiceException(
              Status.INVALID_ARGUMENT.withDescription(
                  "node.id longer than " + AdsService.MAX_NODE_ID_CHARS + " characters")));
    }
    DeltaStreamState state = new DeltaStreamState(streamId, nodeId, events, clock, indexes);
    StreamStatus initialStatus = state.status();

    Source<AdsStreamSteps.Input<DeltaDiscoveryRequest>, NotUsed> requests =
        Source.single(firstRequest)
            .concat(rest)
            .<AdsStreamSteps.Input<DeltaDiscoveryRequest>>map(AdsStreamSteps.RequestArrived::new)
            .concat(Source.single(new AdsStreamSteps.RequestsEnded<>()));
    Source<AdsStreamSteps.Input<DeltaDiscoveryRequest>, NotUsed> snapshots =
        AdsService.snapshotInlet()
            .mapMaterializedValue(
                inlet -> {
                  registry.tell(new SnapshotRegistry.Subscribe(initialStatus, inlet));
                  return NotUsed.getInstance();
                })
            .map(AdsStreamSteps.SnapshotArrived::new);

    log.info("xDS delta stream {} opened for node {}", streamId, nodeId);
    events.onStreamOpened(streamId, nodeId);
    return requests
        .merge(snapshots, false)
        .statefulMapConcat(
            () -> input -> AdsStreamSteps.step(state, input, registry, log, "xDS delta stream"))
        .takeWhile(Optional::isPresent)
        .map(Optional::get)
        .watchTermination(
            (notUsed, done) -> {
              done.whenComplete(
                  (ok, failure) -> {
                    registry.tell(new SnapshotRegistry.StreamClosed(streamId));
                    events.onStreamClosed(streamId, nodeId);
                    if (failure == null) {
                      log.info("xDS delta stream {} of node {} closed", streamId, nodeId);
                    } else if (failure instanceof PeerClosedStreamException) {
                      log.info(
                          "xDS delta stream {} of node {} closed by the client", streamId, nodeId);
                    } else {
                      log.info(
                          "xDS delta stream {} of node {} closed: {}",
                          streamId,
                          nodeId,
                          failure.toString());
                    }
                  });
              return NotUsed.getInstance();
            });
  }
}
