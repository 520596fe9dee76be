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
 */
public record StreamStatus(
    long streamId, String nodeId, Instant openedAt, String snapshotVersion, List<ResourceTypeStatus> types) {

  public StreamStatus {
    types = List.copyOf(types);
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
