package io.sigma.agent.xds;

import com.google.protobuf.Any;
import java.util.List;
import java.util.Objects;

/**
 * Everything one Envoy node is served: its Clusters and Listeners (already packed as {@link Any}
 * so every stream of the node shares the same bytes) at one config version. Immutable.
 *
 * @param nodeId the Envoy {@code node.id} this snapshot is for
 * @param version the node's config_version; sent as {@code version_info}
 * @param clusters packed {@code envoy.config.cluster.v3.Cluster} resources
 * @param listeners packed {@code envoy.config.listener.v3.Listener} resources
 * @param routeCount how many routes produced resources (for status and metrics)
 */
public record XdsSnapshot(
    String nodeId, long version, List<Any> clusters, List<Any> listeners, int routeCount) {

  public XdsSnapshot {
    Objects.requireNonNull(nodeId, "nodeId");
    clusters = List.copyOf(clusters);
    listeners = List.copyOf(listeners);
  }

  /** A node's "nothing to serve" state: zero Clusters and zero Listeners at {@code version}. */
  public static XdsSnapshot empty(String nodeId, long version) {
    return new XdsSnapshot(nodeId, version, List.of(), List.of(), 0);
  }

  /** The xDS {@code version_info} of this snapshot. */
  public String versionInfo() {
    return String.valueOf(version);
  }

  /** The resources of {@code typeUrl}; an empty list for a type this control plane does not serve. */
  public List<Any> resources(String typeUrl) {
    if (TypeUrls.CLUSTER.equals(typeUrl)) {
      return clusters;
    }
    if (TypeUrls.LISTENER.equals(typeUrl)) {
      return listeners;
    }
    return List.of();
  }
}
