package io.sigma.agent.xds;

import java.util.List;
import java.util.Optional;

/**
 * One ADS stream's protocol state machine as the stream pipeline drives it: state of the world
 * ({@link AdsStreamState}) or Delta ({@link DeltaStreamState}). Pure; see {@link AdsStreamSteps}.
 *
 * @param <Q> the request type Envoy sends
 * @param <R> the response type it gets
 */
interface AdsProtocol<Q, R> {

  long streamId();

  String nodeId();

  /** The responses to send for Envoy's request. */
  List<R> onRequest(Q request);

  /** The responses to send for a new snapshot of the node. */
  List<R> onSnapshot(XdsSnapshot snapshot);

  /** Envoy half-closed its request side. */
  void onRequestsEnded();

  /** The stream's status when it changed since the last call (for /xds/status and metrics). */
  Optional<StreamStatus> pollStatusChange();

  /** Half-closed and every answer it can ever send sent: the stream may end. */
  boolean finished();
}
