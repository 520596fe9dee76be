package io.sigma.agent.xds;

import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * The body of {@code GET /xds/status}: the agent's "proxy-status". Per node: what is served
 * (snapshot version, version_info, routes, resources, routes left out and why), what sigma-api last
 * said (config_version, fetch error), and per connected stream what Envoy has ACKed or NACKed per
 * resource type. Plain records, written as snake_case JSON. Instants are ISO-8601 strings, absent
 * values null.
 */
public record XdsStatusReport(String generatedAt, ConfigSource configSource, List<Node> nodes) {

  /** The poller's side; null when the status page runs without a poller. */
  public record ConfigSource(
      String vpsId,
      double pollIntervalSeconds,
      boolean pollInFlight,
      String lastPollAt,
      String lastResult,
      String lastError,
      String lastSuccessAt,
      int consecutiveFailures,
      List<String> unsavedNodes,
      String lastSaveError) {}

  /** One Envoy node.id. */
  public record Node(
      String nodeId,
      String envoyNodeUuid,
      Long apiConfigVersion,
      Long snapshotVersion,
      String versionInfo,
      int routeCount,
      int clusters,
      int listeners,
      List<PollerStatus.Rejected> rejectedRoutes,
      int rejectedRouteCount,
      String lastFetchError,
      String lastFetchErrorAt,
      int connectedStreams,
      List<Stream> streams,
      Nack lastNack) {}

  /**
   * One connected ADS stream; {@code types} keyed by the type's short name (Cluster, Listener);
   * {@code retainedClusters}: Clusters the snapshot dropped that the stream still serves until
   * Envoy ACKs Listeners without them (make before break).
   */
  public record Stream(
      long streamId,
      String openedAt,
      String snapshotVersion,
      Map<String, Type> types,
      List<String> retainedClusters) {}

  /** Where one resource type stands on a stream. */
  public record Type(
      String typeUrl,
      String sentVersion,
      String ackedVersion,
      boolean awaitingReply,
      long responses,
      long acks,
      long nacks,
      Nack lastNack) {}

  /** A rejected response: which version, Envoy's message, when (and on which stream and type). */
  public record Nack(Long streamId, String type, String version, String message, String at) {}

  /** Builds the report; {@code poller} may be null (no config source wired). */
  public static XdsStatusReport of(XdsStatus served, PollerStatus poller, Instant now) {
    Map<String, NodeStatus> servedNodes = new TreeMap<>();
    for (NodeStatus node : served.nodes()) {
      servedNodes.put(node.nodeId(), node);
    }
    Map<String, PollerStatus.Node> sourceNodes = new TreeMap<>();
    if (poller != null) {
      for (PollerStatus.Node node : poller.nodes()) {
        sourceNodes.put(node.nodeId(), node);
      }
    }
    TreeSet<String> nodeIds = new TreeSet<>(servedNodes.keySet());
    nodeIds.addAll(sourceNodes.keySet());
    List<Node> nodes = new ArrayList<>(nodeIds.size());
    for (String nodeId : nodeIds) {
      nodes.add(node(nodeId, servedNodes.get(nodeId), sourceNodes.get(nodeId)));
    }
    return new XdsStatusReport(now.toString(), poller == null ? null : source(poller), nodes);
  }

  private static ConfigSource source(PollerStatus poller) {
    return new ConfigSource(
        poller.vpsId(),
        poller.pollInterval().toMillis() / 1000.0,
        poller.pollInFlight(),
        text(poller.lastPollAt()),
        poller.lastResult() == null ? null : poller.lastResult().label(),
        poller.lastError(),
        text(poller.lastSuccessAt()),
        poller.consecutiveFailures(),
        poller.unsavedNodes(),
        poller.lastSaveError());
  }

  private static Node node(String nodeId, NodeStatus served, PollerStatus.Node source) {
    List<Stream> streams = new ArrayList<>();
    Nack lastNack = null;
    if (served != null) {
      for (StreamStatus stream : served.streams()) {
        Map<String, Type> types = new LinkedHashMap<>();
        for (ResourceTypeStatus type : stream.types()) {
          Nack nack =
              type.lastNackAt() == null
                  ? null
                  : new Nack(
                      stream.streamId(),
                      TypeUrls.shortName(type.typeUrl()),
                      type.lastNackVersion(),
                      type.lastNackMessage(),
                      type.lastNackAt().toString());
          types.put(
              TypeUrls.shortName(type.typeUrl()),
              new Type(
                  type.typeUrl(),
                  type.sentVersion(),
                  type.ackedVersion(),
                  type.awaitingReply(),
                  type.responses(),
                  type.acks(),
                  type.nacks(),
                  nack));
          if (nack != null && (lastNack == null || lastNack.at().compareTo(nack.at()) < 0)) {
            lastNack = nack;
          }
        }
        streams.add(
            new Stream(
                stream.streamId(),
                text(stream.openedAt()),
                stream.snapshotVersion(),
                types,
                stream.retainedClusters()));
      }
    }
    return new Node(
        nodeId,
        source == null ? null : source.envoyNodeUuid(),
        source == null ? null : source.apiConfigVersion(),
        served == null ? null : served.snapshotVersion(),
        served == null ? null : served.versionInfo(),
        served == null ? 0 : served.routeCount(),
        served == null ? 0 : served.clusterCount(),
        served == null ? 0 : served.listenerCount(),
        source == null ? List.of() : source.rejectedRoutes(),
        source == null ? 0 : source.rejectedRouteCount(),
        source == null ? null : source.lastFetchError(),
        source == null ? null : text(source.lastFetchErrorAt()),
        streams.size(),
        streams,
        lastNack);
  }

  private static String text(Instant instant) {
    return instant == null ? null : instant.toString();
  }
}
