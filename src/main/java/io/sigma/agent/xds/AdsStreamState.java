package io.sigma.agent.xds;

import com.google.protobuf.Any;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryRequest;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryResponse;
import io.grpc.Status;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The state-of-the-world xDS protocol of one ADS stream, as Envoy expects it: requests and
 * snapshots in, the responses to send out. No I/O, no threads, no actors: the stream stage that
 * owns it calls it one input at a time.
 *
 * <p>Rules, per resource type:
 *
 * <ul>
 *   <li>A request for a type the stream has not subscribed to yet, or one with an empty
 *       response_nonce (Envoy's first request, also after a reconnect whatever version_info it
 *       carries), is a subscription: it is always answered with all resources of the type, as soon
 *       as the node has a snapshot. Nothing is sent before the node has one.
 *   <li>A request carrying the last nonce sent for the type is Envoy's reply to that response:
 *       without error_detail an ACK (the sent version is recorded as acked), with error_detail a
 *       NACK (recorded with its message and counted; the rejected resources are not sent again).
 *   <li>A request with any other non-empty nonce is stale and ignored (also one that comes before
 *       any response of its type was sent).
 *   <li>A type is sent again only when its resources differ from what was last sent on this stream
 *       (a new config_version that leaves Clusters unchanged re-sends only Listeners).
 *   <li>At most one unanswered response per type: while Envoy has not replied to the last response
 *       of a type, newer snapshots only replace the pending one, and the newest is sent on the
 *       reply. A slow Envoy thus skips intermediate versions and never queues them.
 *   <li>Types other than Cluster and Listener are answered with an empty resource list.
 *   <li>At most {@link #MAX_TYPE_URLS} types per stream and type URLs of at most {@link
 *       #MAX_TYPE_URL_CHARS} characters; beyond that the stream is refused ({@link Refused}), so a
 *       hostile client cannot grow the per-stream state.
 * </ul>
 *
 * <p>Make before break (Envoy's "eventual consistency considerations" for SotW ADS):
 *
 * <ul>
 *   <li>Clusters go before the Listeners that use them: Listeners of a snapshot are held back until
 *       all its Clusters have been sent on the stream (when the stream has subscribed to Clusters).
 *   <li>Clusters go after the Listeners that stop using them: a Cluster that a Listener Envoy may
 *       still hold routes to is <em>retained</em> (sent again, with the bytes Envoy already has) in
 *       every Cluster response, even when the snapshot no longer has it. Envoy may hold a Listener
 *       when it was in the last ACKed Listener response, in the unanswered one, or in one that was
 *       NACKed (Envoy applies the valid Listeners of a rejected update, so after a NACK the union
 *       is kept until the next ACK says exactly what Envoy holds). When the Listener response
 *       without it is ACKed, the next Cluster response drops it. A rename R to S therefore sends
 *       Clusters {R, S}, then Listeners {S}, and after their ACK Clusters {S}.
 *   <li>A fresh stream retains nothing. A reconnecting Envoy may still hold Listeners of an earlier
 *       stream, but the SotW request names only a version_info, not the resources, and this stream
 *       never had their Clusters' bytes; so it serves the snapshot's Clusters and then its
 *       Listeners immediately (one round trip apart), the same order Envoy's first connection gets.
 *       Retaining "whatever the old version had" would need every old snapshot kept per node.
 *   <li>version_info names exactly one resource set: the snapshot's own list goes out as {@code
 *       snapshot.versionInfo()}; any other set (the snapshot's Clusters plus retained ones) as
 *       {@code "<versionInfo>+<8 hex of sha256 over the sorted names and bytes>"}.
 * </ul>
 */
public final class AdsStreamState implements AdsProtocol<DiscoveryRequest, DiscoveryResponse> {

  private static final Logger log = LoggerFactory.getLogger(AdsStreamState.class);

  /** NACK messages are kept for the status page, bounded so a chatty Envoy cannot grow memory. */
  static final int MAX_NACK_MESSAGE_CHARS = 1024;

  /**
   * Resource types one stream may subscribe to. Envoy uses at most about eight (CDS, EDS, LDS, RDS,
   * SRDS, VHDS, SDS, RTDS, ECDS); each type costs state, so a client asking for more is refused.
   */
  static final int MAX_TYPE_URLS = 16;

  /** Longest accepted type_url; Envoy's are under 80 characters. */
  static final int MAX_TYPE_URL_CHARS = 256;

  /** Client-supplied strings (node ids, nonces, versions) are cut to this in log lines. */
  static final int MAX_LOGGED_CHARS = 128;

  private final long streamId;
  private final String nodeId;
  private final XdsEvents events;
  private final Clock clock;
  private final Instant openedAt;

  /** Subscribed types in subscription order. */
  private final Map<String, TypeState> types = new LinkedHashMap<>();

  private final Function<XdsSnapshot, SnapshotIndex> indexes;
  private XdsSnapshot snapshot;

  /** The snapshot's Clusters by name. */
  private Map<String, Any> snapshotClusters = Map.of();

  /** The Clusters the snapshot's Listeners use. */
  private Set<String> snapshotListenerClusters = Set.of();

  /** The last Cluster response sent, by name: the bytes Envoy has, for retained Clusters. */
  private Map<String, Any> sentClusters = Map.of();

  /** Clusters used by Listeners Envoy holds (last ACK), or may hold (after a NACK). */
  private Set<String> heldListenerClusters = Set.of();

  /** Clusters used by the Listener response Envoy has not replied to yet. */
  private Set<String> inFlightListenerClusters = Set.of();

  private long responseCount;
  private boolean statusChanged = true;
  private boolean warnedAboutNodeChange;
  private boolean requestsEnded;

  /**
   * @param streamId unique among the streams of the service (nonces embed it, so a nonce from an
   *     earlier stream is never mistaken for one of this stream)
   * @param nodeId the node.id of the stream's first request
   */
  public AdsStreamState(long streamId, String nodeId, XdsEvents events, Clock clock) {
    this(streamId, nodeId, events, clock, SnapshotIndex::of);
  }

  /**
   * @param indexes a snapshot's index; {@link SnapshotIndex.Shared} lets the streams of a node
   *     decode each snapshot once
   */
  AdsStreamState(
      long streamId,
      String nodeId,
      XdsEvents events,
      Clock clock,
      Function<XdsSnapshot, SnapshotIndex> indexes) {
    this.streamId = streamId;
    this.nodeId = nodeId;
    this.events = events;
    this.clock = clock;
    this.indexes = indexes;
    this.openedAt = clock.instant();
  }

  public String nodeId() {
    return nodeId;
  }

  public long streamId() {
    return streamId;
  }

  /**
   * Handles one request from Envoy; returns the responses to send, in order.
   *
   * @throws Refused when the request breaks a per-stream limit; the stream must be closed with
   *     {@link Refused#status()}
   */
  public List<DiscoveryResponse> onRequest(DiscoveryRequest request) {
    warnIfNodeChanged(request);
    String typeUrl = request.getTypeUrl();
    if (typeUrl.isEmpty()) {
      log.warn(
          "xDS stream {} (node {}): request without type_url ignored; ADS requests must name their type",
          streamId,
          nodeId);
      return List.of();
    }
    String nonce = request.getResponseNonce();
    TypeState type = types.get(typeUrl);
    if (type == null || nonce.isEmpty()) {
      if (type == null) {
        type = subscribe(typeUrl);
      } else if (type.awaitingReply && TypeUrls.LISTENER.equals(typeUrl)) {
        // The unanswered Listener response is superseded; Envoy may have applied it.
        listenersMayBeHeld();
      }
      log.debug(
          "xDS stream {} (node {}): {} subscription (version_info '{}')",
          streamId,
          nodeId,
          TypeUrls.shortName(typeUrl),
          capped(request.getVersionInfo()));
      type.answerOwed = true;
      type.awaitingReply = false;
      statusChanged = true;
      return flush();
    }
    if (!nonce.equals(type.lastNonce)) {
      log.debug(
          "xDS stream {} (node {}): {} request with stale nonce {} (last sent {}) ignored",
          streamId,
          nodeId,
          TypeUrls.shortName(typeUrl),
          capped(nonce),
          type.lastNonce);
      return List.of();
    }
    if (!type.awaitingReply) {
      log.debug(
          "xDS stream {} (node {}): repeated {} reply for nonce {} ignored",
          streamId,
          nodeId,
          TypeUrls.shortName(typeUrl),
          nonce);
      return List.of();
    }
    type.awaitingReply = false;
    statusChanged = true;
    if (request.hasErrorDetail()) {
      if (TypeUrls.LISTENER.equals(typeUrl)) {
        listenersMayBeHeld();
      }
      recordNack(type, request.getErrorDetail().getMessage());
    } else {
      if (TypeUrls.LISTENER.equals(typeUrl)) {
        heldListenerClusters = inFlightListenerClusters;
        inFlightListenerClusters = Set.of();
      }
      type.ackedVersion = type.sentVersion;
      type.acks++;
      events.onAck(nodeId, typeUrl, type.sentVersion);
    }
    return flush();
  }

  /** Takes the node's newest snapshot; returns the responses to send, in order. */
  public List<DiscoveryResponse> onSnapshot(XdsSnapshot newSnapshot) {
    if (!nodeId.equals(newSnapshot.nodeId())) {
      log.warn(
          "xDS stream {} (node {}): ignored a snapshot for node {}",
          streamId,
          nodeId,
          newSnapshot.nodeId());
      return List.of();
    }
    SnapshotIndex index = indexes.apply(newSnapshot);
    snapshotClusters = index.clustersByName();
    snapshotListenerClusters = index.listenerClusters();
    snapshot = newSnapshot;
    statusChanged = true;
    return flush();
  }

  /**
   * The client half-closed its request side: no more ACKs can come. The stream still sends what it
   * owes, and pushes to every type that is not waiting for a reply, until {@link #finished()}.
   */
  public void onRequestsEnded() {
    requestsEnded = true;
    log.debug(
        "xDS stream {} (node {}): client half-closed; answering what is owed", streamId, nodeId);
  }

  /**
   * True when the client half-closed and nothing can ever be sent again: every subscribed type
   * waits for a reply that cannot come (or nothing was subscribed). The stream should end (OK).
   */
  public boolean finished() {
    if (!requestsEnded) {
      return false;
    }
    for (TypeState type : types.values()) {
      if (!type.awaitingReply) {
        return false;
      }
    }
    return true;
  }

  /** The stream's current status. */
  public StreamStatus status() {
    List<ResourceTypeStatus> typeStatuses = new ArrayList<>(types.size());
    for (TypeState type : types.values()) {
      typeStatuses.add(
          new ResourceTypeStatus(
              type.typeUrl,
              type.sentVersion,
              type.ackedVersion,
              type.awaitingReply,
              type.responses,
              type.acks,
              type.nacks,
              type.lastNackVersion,
              type.lastNackMessage,
              type.lastNackAt));
    }
    return new StreamStatus(
        streamId,
        nodeId,
        openedAt,
        snapshot == null ? null : snapshot.versionInfo(),
        typeStatuses,
        List.copyOf(retainedClusters()));
  }

  /** The status if anything changed since the last call, else empty (to report only changes). */
  public Optional<StreamStatus> pollStatusChange() {
    if (!statusChanged) {
      return Optional.empty();
    }
    statusChanged = false;
    return Optional.of(status());
  }

  /**
   * Clusters kept on this stream although the snapshot no longer has them, because a Listener Envoy
   * may still hold uses them; sorted.
   */
  public Set<String> retainedClusters() {
    Set<String> retained = new TreeSet<>();
    for (String name : clustersListenersMayUse()) {
      if (!snapshotClusters.containsKey(name) && sentClusters.containsKey(name)) {
        retained.add(name);
      }
    }
    return retained;
  }

  private TypeState subscribe(String typeUrl) {
    if (typeUrl.length() > MAX_TYPE_URL_CHARS) {
      throw new Refused(
          Status.INVALID_ARGUMENT.withDescription(
              "type_url longer than " + MAX_TYPE_URL_CHARS + " characters"));
    }
    if (types.size() >= MAX_TYPE_URLS) {
      throw new Refused(
          Status.RESOURCE_EXHAUSTED.withDescription(
              "more than " + MAX_TYPE_URLS + " resource types on one ADS stream"));
    }
    TypeState type = new TypeState(typeUrl);
    types.put(typeUrl, type);
    if (!TypeUrls.isServed(typeUrl)) {
      log.info(
          "xDS stream {} (node {}): subscribed to {}, which this agent does not serve; answering with no resources",
          streamId,
          nodeId,
          typeUrl);
    }
    return type;
  }

  /** The unanswered Listener response may have been (partly) applied: its Clusters stay held. */
  private void listenersMayBeHeld() {
    if (!inFlightListenerClusters.isEmpty()) {
      Set<String> union = new TreeSet<>(heldListenerClusters);
      union.addAll(inFlightListenerClusters);
      heldListenerClusters = union;
      inFlightListenerClusters = Set.of();
    }
  }

  private Set<String> clustersListenersMayUse() {
    if (inFlightListenerClusters.isEmpty()) {
      return heldListenerClusters;
    }
    Set<String> union = new TreeSet<>(heldListenerClusters);
    union.addAll(inFlightListenerClusters);
    return union;
  }

  private void recordNack(TypeState type, String message) {
    String kept =
        message.length() > MAX_NACK_MESSAGE_CHARS
            ? message.substring(0, MAX_NACK_MESSAGE_CHARS) + "…"
            : message;
    type.nacks++;
    type.lastNackVersion = type.sentVersion;
    type.lastNackMessage = kept;
    type.lastNackAt = clock.instant();
    log.warn(
        "xDS stream {}: Envoy node {} rejected (NACK) {} version {}: {}; keeping the stream and its last "
            + "accepted version ({}); this version is not sent again, the next config change is",
        streamId,
        nodeId,
        TypeUrls.shortName(type.typeUrl),
        type.sentVersion,
        kept,
        type.ackedVersion);
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
    boolean clusters = TypeUrls.CLUSTER.equals(type.typeUrl);
    List<Any> own = snapshot.resources(type.typeUrl);
    Map<String, Any> clustersByName = clusters ? clustersToSend() : null;
    List<Any> resources =
        clustersByName == null || clustersByName == snapshotClusters
            ? own
            : List.copyOf(clustersByName.values());
    if (!type.answerOwed && sameResources(type.sentResources, resources)) {
      return;
    }
    if (TypeUrls.LISTENER.equals(type.typeUrl) && clustersNotYetSent()) {
      return;
    }
    String version =
        resources == own
            ? snapshot.versionInfo()
            : snapshot.versionInfo() + "+" + digest(clustersByName);
    String nonce = streamId + "-" + (++responseCount);
    DiscoveryResponse response =
        DiscoveryResponse.newBuilder()
            .setVersionInfo(version)
            .setTypeUrl(type.typeUrl)
            .addAllResources(resources)
            .setNonce(nonce)
            .build();
    type.lastNonce = nonce;
    type.awaitingReply = true;
    type.answerOwed = false;
    type.sentResources = resources;
    type.sentVersion = version;
    type.responses++;
    if (clusters) {
      sentClusters = clustersByName;
    } else if (TypeUrls.LISTENER.equals(type.typeUrl)) {
      inFlightListenerClusters = snapshotListenerClusters;
    }
    statusChanged = true;
    log.debug(
        "xDS stream {} (node {}): sending {} version {} ({} resources, nonce {})",
        streamId,
        nodeId,
        TypeUrls.shortName(type.typeUrl),
        version,
        resources.size(),
        nonce);
    events.onResponseSent(nodeId, type.typeUrl, version, resources.size());
    out.add(response);
  }

  /**
   * The snapshot's Clusters plus the retained ones (in name order, with the bytes last sent), by
   * name; {@link #snapshotClusters} itself when nothing is retained.
   */
  private Map<String, Any> clustersToSend() {
    Map<String, Any> all = snapshotClusters;
    for (String name : clustersListenersMayUse()) {
      Any sent = sentClusters.get(name);
      if (sent != null && !snapshotClusters.containsKey(name)) {
        if (all == snapshotClusters) {
          all = new LinkedHashMap<>(snapshotClusters);
        }
        all.put(name, sent);
      }
    }
    return all;
  }

  /**
   * True when the stream wants Clusters and has not been sent all of this snapshot's Clusters yet.
   */
  private boolean clustersNotYetSent() {
    if (!types.containsKey(TypeUrls.CLUSTER)) {
      return false;
    }
    for (Map.Entry<String, Any> cluster : snapshotClusters.entrySet()) {
      if (!cluster.getValue().equals(sentClusters.get(cluster.getKey()))) {
        return true;
      }
    }
    return false;
  }

  private static boolean sameResources(List<Any> sent, List<Any> current) {
    return sent != null && (sent == current || sent.equals(current));
  }

  /**
   * First 8 hex digits of sha256 over the resources sorted by name: the same set, the same digest.
   */
  static String digest(Map<String, Any> clustersByName) {
    MessageDigest sha256;
    try {
      sha256 = MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every JVM has SHA-256", e);
    }
    List<Map.Entry<String, Any>> sorted = new ArrayList<>(clustersByName.entrySet());
    sorted.sort(Map.Entry.comparingByKey(Comparator.naturalOrder()));
    for (Map.Entry<String, Any> cluster : sorted) {
      byte[] name = cluster.getKey().getBytes(StandardCharsets.UTF_8);
      byte[] bytes = cluster.getValue().toByteArray();
      sha256.update(lengthPrefix(name.length));
      sha256.update(name);
      sha256.update(lengthPrefix(bytes.length));
      sha256.update(bytes);
    }
    return HexFormat.of().formatHex(sha256.digest(), 0, 4);
  }

  private static byte[] lengthPrefix(int length) {
    return new byte[] {
      (byte) (length >>> 24), (byte) (length >>> 16), (byte) (length >>> 8), (byte) length
    };
  }

  private void warnIfNodeChanged(DiscoveryRequest request) {
    if (!warnedAboutNodeChange
        && request.hasNode()
        && !request.getNode().getId().isEmpty()
        && !request.getNode().getId().equals(nodeId)) {
      warnedAboutNodeChange = true;
      log.warn(
          "xDS stream {}: a request names node {} but the stream belongs to node {} (its first request); "
              + "keeping {}",
          streamId,
          capped(request.getNode().getId()),
          nodeId,
          nodeId);
    }
  }

  /** A client-supplied string cut to {@link #MAX_LOGGED_CHARS} for a log line. */
  static String capped(String clientValue) {
    return clientValue.length() <= MAX_LOGGED_CHARS
        ? clientValue
        : clientValue.substring(0, MAX_LOGGED_CHARS) + "…(" + clientValue.length() + " chars)";
  }

  /** A request broke a per-stream limit: close the stream with {@link #status()}. */
  public static final class Refused extends RuntimeException {
    private final transient Status status;

    Refused(Status status) {
      super(status.getDescription(), null, false, false);
      this.status = status;
    }

    public Status status() {
      return status;
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
