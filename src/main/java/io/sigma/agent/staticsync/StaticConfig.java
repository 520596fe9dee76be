package io.sigma.agent.staticsync;

import io.sigma.agent.api.StaticRoute;
import java.util.List;

/**
 * What one Envoy static config file gives: the routes to sync (one per TCP proxy listener, in file
 * order) and the listeners left out with their reasons.
 */
public record StaticConfig(List<StaticRoute> routes, List<SkippedListener> skipped) {
  public StaticConfig {
    routes = List.copyOf(routes);
    skipped = List.copyOf(skipped);
  }
}
