package io.sigma.agent.xds;

import com.google.protobuf.Any;
import java.util.List;
import java.util.Objects;

/**
 * Everything one Envoy node is served: its Clusters and Listeners (already packed as {@link Any} so
 * every stream of the node shares the same bytes) at one config version. Immutable.
 *
 * <p>Two numbers name it. {@code version} is the node's config_version in sigma-api (for status and
 * metrics); it cannot be the xDS version_info, because it restarts at 1 when a node is deleted and
 * re-created, and the same config_version may map to different resources under a newer agent.
 * {@code serial} is what Envoy sees: unique and increasing per node.id, across node re-creations
 * and agent restarts (the {@link ConfigPoller} hands them out and saves the last one).
 *
 * @param nodeId the Envoy {@code node.id} this snapshot is for
 * @param version the node's config_version in sigma-api
 * @param serial this resource set's number for its node.id; sent as {@code version_info}
 * @param clusters packed {@code envoy.config.cluster.v3.Cluster} resources
 * @param listeners packed {@code envoy.config.listener.v3.Listener} resources
 * @param routeCount how many routes produced resources (for status and metrics)
 */
public record XdsSnapshot(
    String nodeId,
    long version,
    long serial,
    List<Any> clusters,
    List<Any> listeners,
    int routeCount) {

  public XdsSnapshot {
    Objects.requireNonNull(nodeId, "nodeId");
    clusters = List.copyOf(clusters);
    listeners = List.copyOf(listeners);
  }

  /**
   * A snapshot whose serial is its {@code version}: for tests and tools that serve one fixed
   * resource set per version. The poller always gives a serial of its own.
   */
  public XdsSnapshot(
      String nodeId, long version, List<Any> clusters, List<Any> listeners, int routeCount) {
    this(nodeId, version, version, clusters, listeners, routeCount);
  }

  /** A node's "nothing to serve" state: zero Clusters and zero Listeners. */
  public static XdsSnapshot empty(String nodeId, long version, long serial) {
    return new XdsSnapshot(nodeId, version, serial, List.of(), List.of(), 0);
  }

  /** The xDS {@code version_info} of this snapshot: its serial in decimal. */
  public String versionInfo() {
    return String.valueOf(serial);
  }

  /**
   * The resources of {@code typeUrl}; an empty list for a type this control plane does not serve.
   */
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
