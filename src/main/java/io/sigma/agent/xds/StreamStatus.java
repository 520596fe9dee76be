package io.sigma.agent.xds;

import java.time.Instant;
import java.util.List;

/**
 * One ADS stream as seen by the control plane (a line of {@code /xds/status}).
 *
 * @param streamId unique within one {@link AdsService}
 * @param nodeId the Envoy node.id of the stream
 * @param openedAt when the first request arrived
 * @param snapshotVersion version of the snapshot the stream is serving, null while it waits for one
 * @param types per subscribed resource type, in subscription order
 * @param retainedClusters Clusters still served on this stream although the snapshot dropped them,
 *     because a Listener the Envoy may hold still uses them (make before break); sorted
 */
public record StreamStatus(
    long streamId,
    String nodeId,
    Instant openedAt,
    String snapshotVersion,
    List<ResourceTypeStatus> types,
    List<String> retainedClusters) {

  public StreamStatus {
    types = List.copyOf(types);
    retainedClusters = List.copyOf(retainedClusters);
  }

  /** A stream that retains no Cluster. */
  public StreamStatus(
      long streamId,
      String nodeId,
      Instant openedAt,
      String snapshotVersion,
      List<ResourceTypeStatus> types) {
    this(streamId, nodeId, openedAt, snapshotVersion, types, List.of());
  }

  /** The status of {@code typeUrl}, or null when the stream has not subscribed to it. */
  public ResourceTypeStatus type(String typeUrl) {
    for (ResourceTypeStatus type : types) {
      if (type.typeUrl().equals(typeUrl)) {
        return type;
      }
    }
    return null;
  }
}
