package io.sigma.agent.xds;

import io.sigma.agent.api.EnvoyNode;
import io.sigma.agent.api.EnvoyRoute;
import java.util.List;
import java.util.Objects;

/**
 * One Envoy node's config exactly as sigma-api gave it: the node record (its node.id, UUID and
 * config_version) and every active dynamic route fetched for that version. What the poller keeps as
 * a node's last good config and what {@link NodeConfigStore} writes to the state dir; the snapshot
 * is derived from it with {@link RouteResourceMapper}.
 *
 * @param node the node as listed by sigma-api
 * @param routes all its active dynamic routes (every page), rejected ones included
 */
public record NodeConfig(EnvoyNode node, List<EnvoyRoute> routes) {

  public NodeConfig {
    Objects.requireNonNull(node, "node");
    routes = List.copyOf(routes);
  }

  /** The Envoy node.id. */
  public String nodeId() {
    return node.nodeId();
  }

  public long configVersion() {
    return node.configVersion();
  }

  /** The node's resources, mapped by {@code mapper}. */
  public RouteMapping map(RouteResourceMapper mapper) {
    return mapper.map(routes);
  }
}
