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
 * Envoy's Aggregated Discovery Service (xDS v3, state of the world; Delta ADS through {@link
 * DeltaAdsStream}), served from the {@link SnapshotRegistry}.
 *
 * <p>Each stream is one Pekko Streams pipeline: Envoy's requests merged with the node's snapshots,
 * run through an {@link AdsStreamState}. Snapshots enter through an actor-backed inlet that keeps
 * only the newest one not yet consumed (buffer of 1, drop the older), and the state machine keeps
 * at most one unanswered response per type, so a stream that cannot write to its Envoy holds at
 * most one snapshot and two responses; it never slows the registry or other streams.
 *
 * <p>A stream lives until the client cancels it (or its connection goes), not until the client
 * half-closes its request side: gRPC lets the server keep streaming after a half-close, and a
 * client that sends its request and half-closes must still get the answer it is owed (the node's
 * snapshot arrives asynchronously, after the request) and, like any subscriber, the later pushes
 * for as long as it could take them: as a half-closed client can no longer ACK, the stream ends
 * (status OK) once every subscribed type waits for a reply ({@link AdsStreamState#finished()}).
 * Memory stays bounded the same way as for a client that never reads.
 *
 * <p>Limits against hostile clients: node.id at most {@link #MAX_NODE_ID_CHARS} characters
 * (INVALID_ARGUMENT), and the per-stream type limits of {@link AdsStreamState} (the stream is
 * closed with the status of its {@link AdsStreamState.Refused}). resource_names are never stored
 * (every subscription is a wildcard), so their size costs nothing beyond gRPC's message size limit.
 */
public final class AdsService implements AggregatedDiscoveryService {

  private static final Logger log = LoggerFactory.getLogger(AdsService.class);

  /** Longest accepted node.id; Envoy node ids are host names or UUIDs. */
  static final int MAX_NODE_ID_CHARS = 256;

  private final ActorRef<SnapshotRegistry.Command> registry;
  private final XdsEvents events;
  private final Clock clock;
  private final AtomicLong streamIds = new AtomicLong();

  /** Each node's newest snapshot decoded once for all its streams. */
  private final SnapshotIndex.Shared snapshotIndexes = new SnapshotIndex.Shared();

  /** The Delta ADS streams; they share {@link #streamIds} with the state-of-the-world ones. */
  private final DeltaAdsStream deltaStreams;

  /**
   * @param registry where node snapshots come from and stream status goes
   * @param events metric hooks
   * @param clock for NACK and stream-open times
   */
  public AdsService(ActorRef<SnapshotRegistry.Command> registry, XdsEvents events, Clock clock) {
    this.registry = registry;
    this.events = events;
    this.clock = clock;
    this.deltaStreams = new DeltaAdsStream(registry, events, clock);
  }

  @Override
  public Source<DiscoveryResponse, NotUsed> streamAggregatedResources(
      Source<DiscoveryRequest, NotUsed> in) {
    long streamId = streamIds.incrementAndGet();
    return in.prefixAndTail(1)
        .flatMapConcat(firstAndRest -> open(streamId, firstAndRest.first(), firstAndRest.second()));
  }

  /** Delta ADS (incremental xDS, Clusters and Listeners): see {@link DeltaAdsStream}. */
  @Override
  public Source<DeltaDiscoveryResponse, NotUsed> deltaAggregatedResources(
      Source<DeltaDiscoveryRequest, NotUsed> in) {
    return deltaStreams.serve(streamIds.incrementAndGet(), in);
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
      log.warn(
          "xDS stream {} refused: its first request ({}) has no node.id; set node.id in the Envoy "
              + "bootstrap. Closing it with INVALID_ARGUMENT",
          streamId,
          firstRequest.getTypeUrl());
      return Source.failed(
          new GrpcServiceException(
              Status.INVALID_ARGUMENT.withDescription(
                  "the first DiscoveryRequest of an ADS stream must carry node.id")));
    }
    if (nodeId.length() > MAX_NODE_ID_CHARS) {
      log.warn(
          "xDS stream {} refused: its node.id is {} characters long (at most {}): {}; closing it with "
              + "INVALID_ARGUMENT",
          streamId,
          nodeId.length(),
          MAX_NODE_ID_CHARS,
          AdsStreamState.capped(nodeId));
      return Source.failed(
          new GrpcServiceException(
              Status.INVALID_ARGUMENT.withDescription(
                  "node.id longer than " + MAX_NODE_ID_CHARS + " characters")));
    }
    AdsStreamState state = new AdsStreamState(streamId, nodeId, events, clock, snapshotIndexes);
    StreamStatus initialStatus = state.status();

    Source<AdsStreamSteps.Input<DiscoveryRequest>, NotUsed> requests =
        Source.single(firstRequest)
            .concat(rest)
            .<AdsStreamSteps.Input<DiscoveryRequest>>map(AdsStreamSteps.RequestArrived::new)
            .concat(Source.single(new AdsStreamSteps.RequestsEnded<>()));
    Source<AdsStreamSteps.Input<DiscoveryRequest>, NotUsed> snapshots =
        snapshotInlet()
            .mapMaterializedValue(
                inlet -> {
                  registry.tell(new SnapshotRegistry.Subscribe(initialStatus, inlet));
                  return NotUsed.getInstance();
                })
            .map(AdsStreamSteps.SnapshotArrived::new);

    log.info("xDS stream {} opened for node {}", streamId, nodeId);
    events.onStreamOpened(streamId, nodeId);
    return requests
        // Not eagerComplete: a half-closed request side must not end the stream (see class doc);
        // the snapshots inlet never completes, so the stream ends when the client cancels, or by
        // takeWhile once a half-closed stream has sent all it ever can.
        .merge(snapshots, false)
        .statefulMapConcat(
            () -> input -> AdsStreamSteps.step(state, input, registry, log, "xDS stream"))
        .takeWhile(Optional::isPresent)
        .map(Optional::get)
        .watchTermination(
            (notUsed, done) -> {
              done.whenComplete(
                  (ok, failure) -> {
                    registry.tell(new SnapshotRegistry.StreamClosed(streamId));
                    events.onStreamClosed(streamId, nodeId);
                    if (failure == null) {
                      log.info("xDS stream {} of node {} closed", streamId, nodeId);
                    } else if (failure instanceof PeerClosedStreamException) {
                      log.info("xDS stream {} of node {} closed by the client", streamId, nodeId);
                    } else {
                      log.info(
                          "xDS stream {} of node {} closed: {}",
                          streamId,
                          nodeId,
                          failure.toString());
                    }
                  });
              return NotUsed.getInstance();
            });
  }

  /**
   * The snapshot inlet of one stream: an actor that the registry tells snapshots, holding only the
   * newest one the stream has not consumed yet (a newer snapshot replaces the one waiting; it never
   * completes).
   */
  static Source<XdsSnapshot, ActorRef<XdsSnapshot>> snapshotInlet() {
    return Source.<XdsSnapshot>actorRef(
            message -> Optional.empty(),
            message -> Optional.empty(),
            1,
            OverflowStrategy.dropHead())
        .mapMaterializedValue(Adapter::toTyped);
  }
}
