package io.sigma.agent.xds;

import io.envoyproxy.envoy.service.discovery.v3.DeltaDiscoveryRequest;
import io.envoyproxy.envoy.service.discovery.v3.DeltaDiscoveryResponse;
import io.envoyproxy.envoy.service.discovery.v3.Resource;
import io.grpc.Status;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
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
 * The incremental (delta) xDS protocol of one Delta ADS stream, for Clusters and Listeners:
 * requests and snapshots in, the {@link DeltaDiscoveryResponse}s to send out. No I/O, no threads,
 * no actors; the stream stage that owns it calls it one input at a time. The delta twin of {@link
 * AdsStreamState}, with the same consistency rules.
 *
 * <p>Per resource type the stream keeps a <em>view</em>: each resource Envoy has, or will have once
 * it applies what was sent, with its version (see {@link DeltaSnapshotIndex#version}). A response
 * carries only the subscribed resources whose snapshot version differs from the view, and the names
 * of view resources the snapshot no longer has (removed_resources); the view moves when it is sent.
 *
 * <ul>
 *   <li>Subscriptions: the first request of a type with no resource_names_subscribe, or a {@code
 *       "*"} in it, is a wildcard (every resource of the type); other names subscribe to those
 *       resources. resource_names_unsubscribe takes names (and {@code "*"}) back. The first request
 *       of a type is always answered, with an empty response if Envoy already has everything, as
 *       soon as the node has a snapshot. Nothing is sent before the node has one.
 *   <li>Reconnects: the first request's initial_resource_versions fill the view, so a resource
 *       Envoy already has at the snapshot's version is not sent again, and one the snapshot lacks
 *       is removed (after the Listeners that may use it, below).
 *   <li>Replies: a request carrying the type's last nonce ACKs (no error_detail) or NACKs that
 *       response; any other nonce is stale and only its subscription changes count. A NACKed
 *       resource is not sent again until it changes (as in state of the world); removals of a
 *       NACKed response are sent again with the next response of the type, as Envoy may not have
 *       applied them.
 *   <li>At most one unanswered response per type: newer snapshots wait for the reply and are diffed
 *       against the view then, so a slow Envoy skips intermediate versions.
 *   <li>Types other than Cluster and Listener are never answered (logged once per stream): Envoy
 *       does not wait for a delta type the server does not know.
 *   <li>Limits: the type limits of {@link AdsStreamState} ({@link AdsStreamState#MAX_TYPE_URLS},
 *       {@link AdsStreamState#MAX_TYPE_URL_CHARS}), at most {@link #MAX_NAMES_PER_TYPE} subscribed
 *       names per type (beyond: {@link AdsStreamState.Refused}); names longer than {@link
 *       #MAX_RESOURCE_NAME_CHARS} cannot be resources of this agent and are ignored, as are
 *       initial_resource_versions beyond {@link #MAX_NAMES_PER_TYPE}.
 * </ul>
 *
 * <p>Make before break, as for state of the world:
 *
 * <ul>
 *   <li>Listeners wait until every subscribed Cluster of the snapshot has been sent.
 *   <li>A Cluster is removed only when no Listener Envoy holds or may hold uses it. Per Listener
 *       name the stream keeps the Clusters it may use: on send, the union of the old and the sent
 *       Listener's; on ACK, the sent one's (a removed Listener is forgotten); on NACK the union
 *       stays, since Envoy applies the valid part of a rejected update and keeps the old version of
 *       the rest. A rename R to S therefore sends Clusters {+S}, then Listeners {+S, -R}, and after
 *       their ACK Clusters {-R}; a removed node gets Listeners removed first, Clusters after the
 *       ACK. Listeners known only from initial_resource_versions count with the Clusters of the
 *       snapshot's Listener of that name and version, or else by the naming rule ({@code
 *       listener-R} uses {@code cluster-R}).
 * </ul>
 */
public final class DeltaStreamState
    implements AdsProtocol<DeltaDiscoveryRequest, DeltaDiscoveryResponse> {

  private static final Logger log = LoggerFactory.getLogger(DeltaStreamState.class);

  /** Subscribed resource names (and initial versions) kept per type; Envoy's LDS/CDS use none. */
  static final int MAX_NAMES_PER_TYPE = 4096;

  /** Longer names are no resource of this agent (route names are at most 200 characters). */
  static final int MAX_RESOURCE_NAME_CHARS = 256;

  private final long streamId;
  private final String nodeId;
  private final XdsEvents events;
  private final Clock clock;
  private final Instant openedAt;
  private final Function<XdsSnapshot, DeltaSnapshotIndex> indexes;

  /** Subscribed types in subscription order. */
  private final Map<String, TypeState> types = new LinkedHashMap<>();

  private DeltaSnapshotIndex index;

  /** Per Listener name Envoy holds or may hold: the Clusters it may use. */
  private final DeltaView<Set<String>, Set<String>> listenerMayUse = new DeltaView<>(uses -> uses);

  private long responseCount;
  private boolean statusChanged = true;
  private boolean warnedAboutNodeChange;
  private boolean warnedAboutNames;
  private boolean requestsEnded;

  /**
   * @param streamId unique among the streams of the service (nonces embed it)
   * @param nodeId the node.id of the stream's first request
   */
  public DeltaStreamState(long streamId, String nodeId, XdsEvents events, Clock clock) {
    this(streamId, nodeId, events, clock, DeltaSnapshotIndex::of);
  }

  /**
   * @param indexes a snapshot's index; {@link DeltaSnapshotIndex.Shared} lets the streams of a node
   *     index each snapshot once
   */
  DeltaStreamState(
      long streamId,
      String nodeId,
      XdsEvents events,
      Clock clock,
      Function<XdsSnapshot, DeltaSnapshotIndex> indexes) {
    this.streamId = streamId;
    this.nodeId = nodeId;
    this.events = events;
    this.clock = clock;
    this.indexes = indexes;
    this.openedAt = clock.instant();
  }

  public long streamId() {
    return streamId;
  }

  public String nodeId() {
    return nodeId;
  }

  /**
   * Handles one request from Envoy; returns the responses to send, in order.
   *
   * @throws AdsStreamState.Refused when the request breaks a per-stream limit; the stream must be
   *     closed with its status
   */
  public List<DeltaDiscoveryResponse> onRequest(DeltaDiscoveryRequest request) {
    warnIfNodeChanged(request);
    String typeUrl = request.getTypeUrl();
    if (typeUrl.isEmpty()) {
      log.warn(
          "xDS delta stream {} (node {}): request without type_url ignored; ADS requests must name "
              + "their type",
          streamId,
          nodeId);
      return List.of();
    }
    TypeState type = types.get(typeUrl);
    boolean first = type == null;
    if (first) {
      type = subscribe(typeUrl);
      statusChanged = true;
    }
    if (!type.served) {
      return List.of();
    }
    updateSubscription(type, request, first);
    String nonce = request.getResponseNonce();
    if (!nonce.isEmpty()) {
      if (nonce.equals(type.lastNonce) && type.awaitingReply) {
        onReply(type, request);
      } else {
        log.debug(
            "xDS delta stream {} (node {}): {} request with stale nonce {} (last sent {}); only its "
                + "subscription changes count",
            streamId,
            nodeId,
            TypeUrls.shortName(typeUrl),
            AdsStreamState.capped(nonce),
            type.lastNonce);
      }
    }
    if (first) {
      type.answerOwed = true;
      takeInitialVersions(type, request.getInitialResourceVersionsMap());
      log.debug(
          "xDS delta stream {} (node {}): {} subscription ({}, {} initial versions)",
          streamId,
          nodeId,
          TypeUrls.shortName(typeUrl),
          type.wildcard ? "wildcard" : type.names.size() + " names",
          request.getInitialResourceVersionsCount());
    }
    return flush();
  }

  /** Takes the node's newest snapshot; returns the responses to send, in order. */
  public List<DeltaDiscoveryResponse> onSnapshot(XdsSnapshot snapshot) {
    if (!nodeId.equals(snapshot.nodeId())) {
      log.warn(
          "xDS delta stream {} (node {}): ignored a snapshot for node {}",
          streamId,
          nodeId,
          snapshot.nodeId());
      return List.of();
    }
    index = indexes.apply(snapshot);
    statusChanged = true;
    return flush();
  }

  /** The client half-closed its request side: no more replies can come. */
  public void onRequestsEnded() {
    requestsEnded = true;
  }

  /**
   * True when the client half-closed and nothing can be sent any more: every subscribed Cluster or
   * Listener type waits for a reply that cannot come (or none was subscribed).
   */
  public boolean finished() {
    if (!requestsEnded) {
      return false;
    }
    for (TypeState type : types.values()) {
      if (type.served && !type.awaitingReply) {
        return false;
      }
    }
    return true;
  }

  /** The stream's current status (the same shape as a state-of-the-world stream's). */
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
        index == null ? null : index.snapshot().versionInfo(),
        typeStatuses,
        List.copyOf(retainedClusters()));
  }

  /** The status if anything changed since the last call, else empty. */
  public Optional<StreamStatus> pollStatusChange() {
    if (!statusChanged) {
      return Optional.empty();
    }
    statusChanged = false;
    return Optional.of(status());
  }

  /**
   * Clusters Envoy keeps on this stream's word although the snapshot no longer has them, because a
   * Listener Envoy may hold uses them; sorted.
   */
  public Set<String> retainedClusters() {
    TypeState clusters = types.get(TypeUrls.CLUSTER);
    Set<String> retained = new TreeSet<>();
    if (clusters == null) {
      return retained;
    }
    Map<String, Resource> own = index == null ? Map.of() : index.clusters();
    Set<String> used = clustersListenersMayUse();
    for (String name : clusters.view.names()) {
      if (!own.containsKey(name) && used.contains(name)) {
        retained.add(name);
      }
    }
    return retained;
  }

  /**
   * Entries this stream keeps beyond the node's shared index (0 for a stream in sync): what its
   * state costs, for tests.
   */
  int differences() {
    int differences = listenerMayUse.differences();
    for (TypeState type : types.values()) {
      differences += type.view.differences();
    }
    return differences;
  }

  // ------------------------------------------------------------------ requests

  private TypeState subscribe(String typeUrl) {
    if (typeUrl.length() > AdsStreamState.MAX_TYPE_URL_CHARS) {
      throw new AdsStreamState.Refused(
          Status.INVALID_ARGUMENT.withDescription(
              "type_url longer than " + AdsStreamState.MAX_TYPE_URL_CHARS + " characters"));
    }
    if (types.size() >= AdsStreamState.MAX_TYPE_URLS) {
      throw new AdsStreamState.Refused(
          Status.RESOURCE_EXHAUSTED.withDescription(
              "more than " + AdsStreamState.MAX_TYPE_URLS + " resource types on one ADS stream"));
    }
    TypeState type = new TypeState(typeUrl, TypeUrls.isServed(typeUrl));
    types.put(typeUrl, type);
    if (!type.served) {
      log.info(
          "xDS delta stream {} (node {}): subscribed to {}, which this agent does not serve "
              + "(delta serves Clusters and Listeners only); not answering it",
          streamId,
          nodeId,
          AdsStreamState.capped(typeUrl));
    }
    return type;
  }

  private void updateSubscription(TypeState type, DeltaDiscoveryRequest request, boolean first) {
    if (first && request.getResourceNamesSubscribeCount() == 0) {
      type.wildcard = true;
    }
    for (String name : request.getResourceNamesSubscribeList()) {
      if (name.equals("*")) {
        type.wildcard = true;
      } else if (name.length() > MAX_RESOURCE_NAME_CHARS) {
        warnAboutNames("a resource name of " + name.length() + " characters");
      } else if (type.names.add(name) && type.names.size() > MAX_NAMES_PER_TYPE) {
        type.names.clear();
        throw new AdsStreamState.Refused(
            Status.RESOURCE_EXHAUSTED.withDescription(
                "more than "
                    + MAX_NAMES_PER_TYPE
                    + " subscribed resource names of one type on one ADS stream"));
      }
    }
    for (String name : request.getResourceNamesUnsubscribeList()) {
      if (name.equals("*")) {
        type.wildcard = false;
      } else {
        type.names.remove(name);
      }
    }
    if (request.getResourceNamesUnsubscribeCount() > 0) {
      // Envoy drops what it unsubscribed from: so does the view (no removal is sent for it).
      List<String> dropped = new ArrayList<>();
      for (String name : type.view.names()) {
        if (!type.subscribed(name)) {
          dropped.add(name);
        }
      }
      for (String name : dropped) {
        type.view.remove(name);
        if (TypeUrls.LISTENER.equals(type.typeUrl)) {
          listenerMayUse.remove(name);
        }
      }
      type.resendRemovals.removeIf(name -> !type.subscribed(name));
    }
  }

  private void takeInitialVersions(TypeState type, Map<String, String> initial) {
    int taken = 0;
    for (Map.Entry<String, String> entry : initial.entrySet()) {
      String name = entry.getKey();
      if (name.length() > MAX_RESOURCE_NAME_CHARS || !type.subscribed(name)) {
        continue;
      }
      if (++taken > MAX_NAMES_PER_TYPE) {
        warnAboutNames("more than " + MAX_NAMES_PER_TYPE + " initial_resource_versions");
        return;
      }
      type.view.put(name, entry.getValue());
      if (TypeUrls.LISTENER.equals(type.typeUrl)) {
        listenerMayUse.put(name, usesOfHeldListener(name, entry.getValue()));
      }
    }
  }

  /** The Clusters a Listener Envoy reported holding may use (its bytes are not known here). */
  private Set<String> usesOfHeldListener(String name, String version) {
    if (index != null) {
      Resource known = index.listeners().get(name);
      if (known != null && known.getVersion().equals(version)) {
        return index.listenerClusters().get(name);
      }
    }
    if (name.startsWith(ClusterReferences.LISTENER_PREFIX)) {
      return Set.of(
          ClusterReferences.CLUSTER_PREFIX
              + name.substring(ClusterReferences.LISTENER_PREFIX.length()));
    }
    return Set.of();
  }

  private void onReply(TypeState type, DeltaDiscoveryRequest request) {
    type.awaitingReply = false;
    statusChanged = true;
    boolean listeners = TypeUrls.LISTENER.equals(type.typeUrl);
    if (request.hasErrorDetail()) {
      // Envoy may not have applied the removals: send them again with the next response. Sent
      // Listeners keep the union of the old and new Clusters they may use.
      for (String name : type.inFlightRemoved) {
        if (!type.view.contains(name)) {
          type.resendRemovals.add(name);
        }
      }
      recordNack(type, request.getErrorDetail().getMessage());
    } else {
      if (listeners) {
        type.inFlightUses.forEach(
            (name, uses) -> {
              if (type.view.contains(name)) {
                listenerMayUse.put(name, uses);
              }
            });
        for (String name : type.inFlightRemoved) {
          if (!type.view.contains(name)) {
            listenerMayUse.remove(name);
          }
        }
        if (index != null) {
          listenerMayUse.rebase(index.listenerClusters());
        }
      }
      type.ackedVersion = type.sentVersion;
      type.acks++;
      events.onAck(nodeId, type.typeUrl, type.sentVersion);
    }
    type.inFlightUses = Map.of();
    type.inFlightRemoved = List.of();
  }

  private void recordNack(TypeState type, String message) {
    String kept =
        message.length() > AdsStreamState.MAX_NACK_MESSAGE_CHARS
            ? message.substring(0, AdsStreamState.MAX_NACK_MESSAGE_CHARS) + "…"
            : message;
    type.nacks++;
    type.lastNackVersion = type.sentVersion;
    type.lastNackMessage = kept;
    type.lastNackAt = clock.instant();
    log.warn(
        "xDS delta stream {}: Envoy node {} rejected (NACK) {} update {}: {}; keeping the stream; "
            + "the rejected resources are not sent again until they change",
        streamId,
        nodeId,
        TypeUrls.shortName(type.typeUrl),
        type.sentVersion,
        kept);
    events.onNack(nodeId, type.typeUrl, type.sentVersion, kept);
  }

  // ------------------------------------------------------------------ responses

  /** Sends every type that is due: Clusters first, then Listeners. */
  private List<DeltaDiscoveryResponse> flush() {
    if (index == null) {
      return List.of();
    }
    List<DeltaDiscoveryResponse> out = new ArrayList<>(2);
    sendIfDue(types.get(TypeUrls.CLUSTER), out);
    sendIfDue(types.get(TypeUrls.LISTENER), out);
    return out;
  }

  private void sendIfDue(TypeState type, List<DeltaDiscoveryResponse> out) {
    if (type == null || type.awaitingReply) {
      return;
    }
    boolean clusters = TypeUrls.CLUSTER.equals(type.typeUrl);
    boolean listeners = !clusters;
    if (listeners && clustersNotYetSent()) {
      return;
    }
    Map<String, Resource> own = index.resources(type.typeUrl);
    List<Resource> added = new ArrayList<>();
    for (Map.Entry<String, Resource> entry : own.entrySet()) {
      if (type.subscribed(entry.getKey())
          && !entry.getValue().getVersion().equals(type.view.get(entry.getKey()))) {
        added.add(entry.getValue());
      }
    }
    Set<String> used = clusters ? clustersListenersMayUse() : Set.of();
    Set<String> removed = new TreeSet<>(); // sorted on the wire
    for (String name : type.view.names()) {
      if (!own.containsKey(name) && !used.contains(name)) {
        removed.add(name);
      }
    }
    if (added.isEmpty() && removed.isEmpty() && !type.answerOwed) {
      return;
    }
    // Removals Envoy NACKed ride along, never alone: a NACK cannot start a ping-pong.
    for (String name : type.resendRemovals) {
      if (!own.containsKey(name) && !used.contains(name) && !type.view.contains(name)) {
        removed.add(name);
      }
    }
    String version = index.snapshot().versionInfo();
    String nonce = streamId + "-" + (++responseCount);
    DeltaDiscoveryResponse response =
        DeltaDiscoveryResponse.newBuilder()
            .setSystemVersionInfo(version)
            .setTypeUrl(type.typeUrl)
            .addAllResources(added)
            .addAllRemovedResources(removed)
            .setNonce(nonce)
            .build();
    Map<String, Set<String>> uses = listeners ? new HashMap<>() : Map.of();
    for (Resource resource : added) {
      type.view.put(resource.getName(), resource.getVersion());
      if (listeners) {
        Set<String> now = index.listenerClusters().get(resource.getName());
        uses.put(resource.getName(), now);
        Set<String> before = listenerMayUse.get(resource.getName());
        if (before == null || before.equals(now)) {
          listenerMayUse.put(resource.getName(), now);
        } else {
          Set<String> union = new TreeSet<>(before);
          union.addAll(now);
          listenerMayUse.put(resource.getName(), union);
        }
      }
    }
    for (String name : removed) {
      type.view.remove(name);
    }
    if (type.wildcard) {
      // Usually the view is now exactly the snapshot's resources: no differences to keep.
      type.view.rebase(own);
    }
    if (listeners) {
      listenerMayUse.rebase(index.listenerClusters());
    }
    type.resendRemovals.clear();
    type.inFlightUses = uses;
    type.inFlightRemoved = List.copyOf(removed);
    type.lastNonce = nonce;
    type.awaitingReply = true;
    type.answerOwed = false;
    type.sentVersion = version;
    type.responses++;
    statusChanged = true;
    log.debug(
        "xDS delta stream {} (node {}): sending {} of version {} ({} added or changed, {} removed, "
            + "nonce {})",
        streamId,
        nodeId,
        TypeUrls.shortName(type.typeUrl),
        version,
        added.size(),
        removed.size(),
        nonce);
    events.onResponseSent(nodeId, type.typeUrl, version, added.size() + removed.size());
    out.add(response);
  }

  /** True when the stream wants Clusters and Envoy was not sent every subscribed one yet. */
  private boolean clustersNotYetSent() {
    TypeState clusters = types.get(TypeUrls.CLUSTER);
    if (clusters == null) {
      return false;
    }
    for (Map.Entry<String, Resource> entry : index.clusters().entrySet()) {
      if (clusters.subscribed(entry.getKey())
          && !entry.getValue().getVersion().equals(clusters.view.get(entry.getKey()))) {
        return true;
      }
    }
    return false;
  }

  private Set<String> clustersListenersMayUse() {
    Set<String> used = new HashSet<>();
    listenerMayUse.forEachValue(used::addAll);
    return used;
  }

  private void warnAboutNames(String what) {
    if (!warnedAboutNames) {
      warnedAboutNames = true;
      log.warn(
          "xDS delta stream {} (node {}): ignored {} (no resource of this agent); further ones are "
              + "ignored silently",
          streamId,
          nodeId,
          what);
    }
  }

  private void warnIfNodeChanged(DeltaDiscoveryRequest request) {
    if (!warnedAboutNodeChange
        && request.hasNode()
        && !request.getNode().getId().isEmpty()
        && !request.getNode().getId().equals(nodeId)) {
      warnedAboutNodeChange = true;
      log.warn(
          "xDS delta stream {}: a request names node {} but the stream belongs to node {} (its "
              + "first request); keeping {}",
          streamId,
          AdsStreamState.capped(request.getNode().getId()),
          nodeId,
          nodeId);
    }
  }

  /** Protocol state of one resource type on this stream. */
  private static final class TypeState {
    final String typeUrl;
    final boolean served;

    boolean wildcard;
    final Set<String> names = new HashSet<>();

    /** Resource name to the version Envoy has, or will have once it applies what was sent. */
    final DeltaView<Resource, String> view = new DeltaView<>(Resource::getVersion);

    /** Removals of a NACKed response, sent again with the next response. */
    final Set<String> resendRemovals = new TreeSet<>();

    /** The first request has not been answered yet. */
    boolean answerOwed;

    boolean awaitingReply;
    String lastNonce;

    /** Of the unanswered Listener response: each sent Listener's Clusters. */
    Map<String, Set<String>> inFlightUses = Map.of();

    /** Of the unanswered response: the removed names. */
    List<String> inFlightRemoved = List.of();

    String sentVersion;
    String ackedVersion;
    long responses;
    long acks;
    long nacks;
    String lastNackVersion;
    String lastNackMessage;
    Instant lastNackAt;

    TypeState(String typeUrl, boolean served) {
      this.typeUrl = typeUrl;
      this.served = served;
    }

    boolean subscribed(String name) {
      return wildcard || names.contains(name);
    }
  }
}
