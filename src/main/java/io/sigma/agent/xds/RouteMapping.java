package io.sigma.agent.xds;

import com.google.protobuf.Any;
import io.sigma.agent.api.EnvoyRoute;
import java.util.List;

/**
 * What {@link RouteResourceMapper} made of a node's routes: the packed resources of the routes it
 * accepted, and the routes it left out with the reason.
 */
public record RouteMapping(
    List<Any> clusters,
    List<Any> listeners,
    List<EnvoyRoute> accepted,
    List<RejectedRoute> rejected) {

  public RouteMapping {
    clusters = List.copyOf(clusters);
    listeners = List.copyOf(listeners);
    accepted = List.copyOf(accepted);
    rejected = List.copyOf(rejected);
  }

  /**
   * The snapshot to serve to {@code nodeId}: {@code version} is the node's config_version, {@code
   * serial} the version_info Envoy gets (see {@link XdsSnapshot}).
   */
  public XdsSnapshot toSnapshot(String nodeId, long version, long serial) {
    return new XdsSnapshot(nodeId, version, serial, clusters, listeners, accepted.size());
  }

  /**
   * {@link #toSnapshot(String, long, long)} with the serial equal to {@code version} (tests,
   * tools).
   */
  public XdsSnapshot toSnapshot(String nodeId, long version) {
    return toSnapshot(nodeId, version, version);
  }
}
