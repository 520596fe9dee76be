package io.sigma.agent.xds;

import com.google.protobuf.Any;
import io.sigma.agent.api.EnvoyRoute;
import java.util.List;

/**
 * What {@link RouteResourceMapper} made of a node's routes: the packed resources of the routes it
 * accepted, and the routes it left out with the reason.
 */
public record RouteMapping(
    List<Any> clusters, List<Any> listeners, List<EnvoyRoute> accepted, List<RejectedRoute> rejected) {

  public RouteMapping {
    clusters = List.copyOf(clusters);
    listeners = List.copyOf(listeners);
    accepted = List.copyOf(accepted);
    rejected = List.copyOf(rejected);
  }

  /** The snapshot to serve to {@code nodeId} at {@code version} (the node's config_version). */
  public XdsSnapshot toSnapshot(String nodeId, long version) {
    return new XdsSnapshot(nodeId, version, clusters, listeners, accepted.size());
  }
}
