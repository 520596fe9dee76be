package io.sigma.agent.xds;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.grpc.GrpcServiceException;
import org.slf4j.Logger;

/**
 * The one step both ADS pipelines (SotW in {@link AdsService}, Delta in {@link DeltaAdsStream})
 * take for each input: feed the protocol, report a status change to the registry, and end the
 * stream (an empty element) once it is finished; a refused request closes the stream with its gRPC
 * status.
 */
final class AdsStreamSteps {
  private AdsStreamSteps() {}

  /** What a stream's state machine consumes: Envoy's requests and the node's snapshots. */
  sealed interface Input<Q> permits RequestArrived, SnapshotArrived, RequestsEnded {}

  record RequestArrived<Q>(Q request) implements Input<Q> {}

  record SnapshotArrived<Q>(XdsSnapshot snapshot) implements Input<Q> {}

  /** The client half-closed its request side. */
  record RequestsEnded<Q>() implements Input<Q> {}

  /**
   * The responses to send for {@code input}, followed by an empty element when the stream is done.
   *
   * @param kind how log lines name the stream ("xDS stream", "xDS delta stream")
   */
  static <Q, R> List<Optional<R>> step(
      AdsProtocol<Q, R> state,
      Input<Q> input,
      ActorRef<SnapshotRegistry.Command> registry,
      Logger log,
      String kind) {
    List<R> responses;
    try {
      if (input instanceof RequestArrived<Q> request) {
        responses = state.onRequest(request.request());
      } else if (input instanceof SnapshotArrived<Q> snapshot) {
        responses = state.onSnapshot(snapshot.snapshot());
      } else {
        state.onRequestsEnded();
        responses = List.of();
      }
    } catch (AdsStreamState.Refused refused) {
      log.warn(
          "{} {} of node {} refused: {}; closing it with {}",
          kind,
          state.streamId(),
          state.nodeId(),
          refused.getMessage(),
          refused.status().getCode());
      throw new GrpcServiceException(refused.status());
    }
    state
        .pollStatusChange()
        .ifPresent(status -> registry.tell(new SnapshotRegistry.StreamUpdated(status)));
    List<Optional<R>> out = new ArrayList<>(responses.size() + 1);
    responses.forEach(response -> out.add(Optional.of(response)));
    if (state.finished()) {
      log.debug(
          "{} {} of node {}: half-closed and every answer sent; ending it",
          kind,
          state.streamId(),
          state.nodeId());
      out.add(Optional.empty());
    }
    return out;
  }
}
