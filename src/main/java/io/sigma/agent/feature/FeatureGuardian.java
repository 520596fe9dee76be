package io.sigma.agent.feature;

import io.sigma.agent.reload.LiveSettings;
import java.util.List;
import org.apache.pekko.http.javadsl.server.Route;

/**
 * The common shape of one feature of the agent (fleet membership, ports, xDS...), as the agent's
 * root ({@code AgentGuardian}) composes them. A feature guardian is created by a static {@code
 * start(ActorContext, AgentConfig, dependencies...)} of its own: it spawns its supervised actors,
 * and hands back
 *
 * <ul>
 *   <li>its HTTP routes: {@link #metricsRoutes()} for the metrics port (reached by sigma-api and
 *       Prometheus) and {@link #managementRoutes()} for the management port (loopback by default:
 *       pages for the operator on the host);
 *   <li>its series: {@link #metrics()}, bound by the root to the agent's registry;
 *   <li>the live settings it owns: {@link #apply} is called on every SIGHUP with a valid config.
 * </ul>
 *
 * The root knows features only through this interface plus the few typed hand-offs between them
 * (e.g. the fleet's VPS-id subscription for xDS), so a feature is added or removed in one place.
 */
public interface FeatureGuardian extends LiveSettings {
  /** Routes served on the metrics port, after the metrics page and the landing page. */
  default List<Route> metricsRoutes() {
    return List.of();
  }

  /** Routes served on the management port next to /alive and /ready (when it is enabled). */
  default List<Route> managementRoutes() {
    return List.of();
  }

  /** The feature's series. */
  default MetricsBinder metrics() {
    return MetricsBinder.NONE;
  }

  /** Nothing live by default: a changed setting of the feature is reported as needing a restart. */
  @Override
  default void apply(
      io.sigma.agent.config.AgentConfig applied, io.sigma.agent.config.AgentConfig loaded) {}
}
