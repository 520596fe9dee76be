package io.sigma.agent.xds;

import java.util.List;

/**
 * One Envoy node as the control plane serves it (a block of {@code /xds/status}).
 *
 * @param nodeId the Envoy node.id
 * @param snapshotVersion the config_version being served, null when the node has no snapshot (never
 *     had one, or was removed) and its streams wait
 * @param versionInfo the version_info of that snapshot (its serial), null without one
 * @param routeCount routes that produced resources in that snapshot (0 without one)
 * @param clusterCount Clusters in that snapshot
 * @param listenerCount Listeners in that snapshot
 * @param streams the node's connected ADS streams, by stream id
 */
public record NodeStatus(
    String nodeId,
    Long snapshotVersion,
    String versionInfo,
    int routeCount,
    int clusterCount,
    int listenerCount,
    List<StreamStatus> streams) {

  public NodeStatus {
    streams = List.copyOf(streams);
  }
}
