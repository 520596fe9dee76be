package io.sigma.agent.xds;

import com.google.protobuf.Any;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryRequest;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryResponse;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The state-of-the-world xDS protocol of one ADS stream, as Envoy expects it: requests and
 * snapshots in, the responses to send out. No I/O, no threads, no actors: the stream stage that
 * owns it calls it one input at a time.
 *
 * <p>Rules, per resource type:
 * <ul>
 *   <li>A request for a type the stream has not subscribed to yet, or one with an empty
 *       response_nonce (Envoy's first request, also after a reconnect whatever version_info it
 *       carries), is a subscription: it is always answered with all resources of the type, as soon
 *       as the node has a snapshot. Nothing is sent before the node has one.
 *   <li>A request carrying the last nonce sent for the type is Envoy's reply to that response:
 *       without error_detail an ACK (the sent version is recorded as acked), with error_detail a
 *       NACK (recorded with its message and counted; the rejected resources are not sent again).
 *   <li>A request with any other non-empty nonce is stale and ignored.
 *   <li>A type is sent again only when its resources differ from what was last sent on this
 *       stream (a new config_version that leaves Clusters unchanged re-sends only Listeners).
 *   <li>At most one unanswered response per type: while Envoy has not replied to the last
 *       response of a type, newer snapshots only replace the pending one, and the newest is sent
 *       on the reply. A slow Envoy thus skips intermediate versions and never queues them.
 *   <li>Clusters go before Listeners: Listeners of a snapshot are held back until its Clusters
 *       have been sent on the stream (when the stream has subscribed to Clusters).
 *   <li>Types other than Cluster and Listener are answered with an empty resource list.
 * </ul>
 */
public final class AdsStreamState {

  private static final Logger log = LoggerFactory.getLogger(AdsStreamState.class);
  /** NACK messages are kept for the status page, bounded so a chatty Envoy cannot grow memory. */
  static final int MAX_NACK_MESSAGE_CHARS = 1024;

  private final long streamId;
  private final String nodeId;
  private final XdsEvents events;
  private final Clock clock;
  private final Instant openedAt;
  /** Subscribed types in subscription order. */
  private final Map<String, TypeState> types = new LinkedHashMap<>();
  private XdsSnapshot snapshot;
  private long responseCount;
  private boolean statusChanged = true;
  private boolean warnedAboutNodeChange;

  /**
   * @param streamId unique among the streams of the service (nonces embed it, so a nonce from an
   *     earlier stream is never mistaken for one of this stream)
   * @param nodeId the node.id of the stream's first request
   */
  public AdsStreamState(long streamId, String nodeId, XdsEvents events, Clock clock) {
    this.streamId = streamId;
    this.nodeId = nodeId;
    this.events = events;
    this.clock = clock;
    this.openedAt = clock.instant();
  }

  public String nodeId() {
    return nodeId;
  }

  /** Handles one request from Envoy; returns the responses to send, in order. */
  public List<DiscoveryResponse> onRequest(DiscoveryRequest request) {
    warnIfNodeChanged(request);
    String typeUrl = request.getTypeUrl();
    if (typeUrl.isEmpty()) {
      log.warn("xDS stream {} (node {}): request without type_url ignored; ADS requests must name their type",
          streamId, nodeId);
      return List.of();
    }
    String nonce = request.getResponseNonce();
    TypeState type = types.get(typeUrl);
    if (type == null || nonce.isEmpty()) {
      if (type == null) {
        type = new TypeState(typeUrl);
        types.put(typeUrl, type);
        if (!TypeUrls.isServed(typeUrl)) {
          log.info("xDS stream {} (node {}): subscribed to {}, which this agent does not serve; answering with no resources",
              streamId, nodeId, typeUrl);
        }
      }
      log.debug("xDS stream {} (node {}): {} subscription (version_info '{}')",
          streamId, nodeId, TypeUrls.shortName(typeUrl), request.getVersionInfo());
      type.answerOwed = true;
      type.awaitingReply = false;
      statusChanged = true;
      return flush();
    }
    if (!nonce.equals(type.lastNonce)) {
      log.debug("xDS stream {} (node {}): {} request with stale nonce {} (last sent {}) ignored",
          streamId, nodeId, TypeUrls.shortName(typeUrl), nonce, type.lastNonce);
      return List.of();
    }
    if (!type.awaitingReply) {
      log.debug("xDS stream {} (node {}): repeated {} reply for nonce {} ignored",
          streamId, nodeId, TypeUrls.shortName(typeUrl), nonce);
      return List.of();
    }
    type.awaitingReply = false;
    statusChanged = true;
    if (request.hasErrorDetail()) {
      recordNack(type, request.getErrorDetail().getMessage());
    } else {
      type.ackedVersion = type.sentVersion;
      type.acks++;
      events.onAck(nodeId, typeUrl, type.sentVersion);
    }
    return flush();
  }

  /** Takes the node's newest snapshot; returns the responses to send, in order. */
  public List<DiscoveryResponse> onSnapshot(XdsSnapshot newSnapshot) {
    if (!nodeId.equals(newSnapshot.nodeId())) {
      log.warn("xDS stream {} (node {}): ignored a snapshot for node {}", streamId, nodeId, newSnapshot.nodeId());
      return List.of();
    }
    snapshot = newSnapshot;
    statusChanged = true;
    return flush();
  }

  /** The stream's current status. */
  public StreamStatus status() {
    List<ResourceTypeStatus> typeStatuses = new ArrayList<>(types.size());
    for (TypeState type : types.values()) {
      typeStatuses.add(new ResourceTypeStatus(type.typeUrl, type.sentVersion, type.ackedVersion,
          type.awaitingReply, type.responses, type.acks, type.nacks, type.lastNackVersion,
          type.lastNackMessage, type.lastNackAt));
    }
    return new StreamStatus(streamId, nodeId, openedAt,
        snapshot == null ? null : snapshot.versionInfo(), typeStatuses);
  }

  /** The status if anything changed since the last call, else empty (to report only changes). */
  public Optional<StreamStatus> pollStatusChange() {
    if (!statusChanged) {
      return Optional.empty();
    }
    statusChanged = false;
    return Optional.of(status());
  }

  private void recordNack(TypeState type, String message) {
    String kept = message.length() > MAX_NACK_MESSAGE_CHARS
        ? message.substring(0, MAX_NACK_MESSAGE_CHARS) + "…"
        : message;
    type.nacks++;
    type.lastNackVersion = type.sentVersion;
    type.lastNackMessage = kept;
    type.lastNackAt = clock.instant();
    log.warn("xDS stream {}: Envoy node {} rejected (NACK) {} version {}: {}; keeping the stream and its last "
            + "accepted version ({}); this version is not sent again, the next config change is",
        streamId, nodeId, TypeUrls.shortName(type.typeUrl), type.sentVersion, kept, type.ackedVersion);
    events.onNack(nodeId, type.typeUrl, type.sentVersion, kept);
  }

  /** Sends every type that is due: Clusters first, then Listeners, then other types. */
  private List<DiscoveryResponse> flush() {
    if (snapshot == null) {
      return List.of();
    }
    List<DiscoveryResponse> out = new ArrayList<>(2);
    sendIfDue(types.get(TypeUrls.CLUSTER), out);
    sendIfDue(types.get(TypeUrls.LISTENER), out);
    for (TypeState type : types.values()) {
      if (!TypeUrls.isServed(type.typeUrl)) {
        sendIfDue(type, out);
      }
    }
    return out;
  }

  private void sendIfDue(TypeState type, List<DiscoveryResponse> out) {
    if (type == null || type.awaitingReply) {
      return;
    }
    List<Any> resources = snapshot.resources(type.typeUrl);
    if (!type.answerOwed && sameResources(type.sentResources, resources)) {
      return;
    }
    if (TypeUrls.LISTENER.equals(type.typeUrl) && clustersNotYetSent()) {
      return;
    }
    String nonce = streamId + "-" + (++responseCount);
    DiscoveryResponse response = DiscoveryResponse.newBuilder()
        .setVersionInfo(snapshot.versionInfo())
        .setTypeUrl(type.typeUrl)
        .addAllResources(resources)
        .setNonce(nonce)
        .build();
    type.lastNonce = nonce;
    type.awaitingReply = true;
    type.answerOwed = false;
    type.sentResources = resources;
    type.sentVersion = snapshot.versionInfo();
    type.responses++;
    statusChanged = true;
    log.debug("xDS stream {} (node {}): sending {} version {} ({} resources, nonce {})",
        streamId, nodeId, TypeUrls.shortName(type.typeUrl), type.sentVersion, resources.size(), nonce);
    events.onResponseSent(nodeId, type.typeUrl, type.sentVersion, resources.size());
    out.add(response);
  }

  /** True when the stream wants Clusters and has not been sent this snapshot's Clusters yet. */
  private boolean clustersNotYetSent() {
    TypeState clusters = types.get(TypeUrls.CLUSTER);
    return clusters != null && !sameResources(clusters.sentResources, snapshot.clusters());
  }

  private static boolean sameResources(List<Any> sent, List<Any> current) {
    return sent != null && (sent == current || sent.equals(current));
  }

  private void warnIfNodeChanged(DiscoveryRequest request) {
    if (!warnedAboutNodeChange && request.hasNode() && !request.getNode().getId().isEmpty()
        && !request.getNode().getId().equals(nodeId)) {
      warnedAboutNodeChange = true;
      log.warn("xDS stream {}: a request names node {} but the stream belongs to node {} (its first request); "
          + "keeping {}", streamId, request.getNode().getId(), nodeId, nodeId);
    }
  }

  /** Protocol state of one resource type on this stream. */
  private static final class TypeState {
    final String typeUrl;
    /** A subscription request that has not been answered yet. */
    boolean answerOwed;
    /** The last response has been neither ACKed nor NACKed yet. */
    boolean awaitingReply;
    String lastNonce;
    List<Any> sentResources;
    String sentVersion;
    String ackedVersion;
    long responses;
    long acks;
    long nacks;
    String lastNackVersion;
    String lastNackMessage;
    Instant lastNackAt;

    TypeState(String typeUrl) {
      this.typeUrl = typeUrl;
    }
  }
}
