package io.sigma.agent.feature;

import com.fasterxml.jackson.databind.JsonNode;
import io.sigma.agent.config.AgentConfig;
import io.sigma.agent.reload.LiveSettings;
import java.util.List;
import java.util.Map;
import org.apache.pekko.http.javadsl.server.Route;

/**
 * The common shape of one feature of the agent (fleet membership, ports, xDS...), as the agent's
 * root ({@code AgentGuardian}) composes them. A feature guardian is created by a static {@code
 * start(ActorContext, AgentConfig, dependencies...)} of its own: it spawns its supervised actors,
 * and hands back
 *
 * <ul>
 *   <li>its HTTP routes: {@link #metricsRoutes()} for the metrics port (reached by sigma-api and
 *       Prometheus) and {@link #managementPages()} for the management port (loopback by default:
 *       pages for the operator on the host);
 *   <li>its series: {@link #metrics()}, bound by the root to the agent's registry (a feature whose
 *       actors record series as they go, rather than read them from its state at scrape time, takes
 *       the registry in its {@code start} instead);
 *   <li>the servers it binds on ports of its own: {@link #servers()};
 *   <li>what it adds to the heartbeats' {@code system_info}: {@link #systemInfo()};
 *   <li>the live settings it owns: {@link #apply} is called on every SIGHUP with a valid config.
 * </ul>
 *
 * and hears the VPS id sigma-api gave the agent ({@link #vpsKnown}), which the fleet feature
 * learns. The root knows features only through this interface, so a feature is added or removed in
 * one place.
 */
public interface FeatureGuardian extends LiveSettings {
  /** Routes served on the metrics port, after the metrics page and the landing page. */
  default List<Route> metricsRoutes() {
    return List.of();
  }

  /** Pages served on the management port next to /alive and /ready (when it is enabled). */
  default List<ManagementPage> managementPages() {
    return List.of();
  }

  /** Servers the feature binds on ports of its own; the agent is ready once they all listen. */
  default List<FeatureServer> servers() {
    return List.of();
  }

  /**
   * Objects for the {@code system_info} of the next register or heartbeat request, by key. Called
   * before every request, off the actors: answer from state at hand (a cache), never wait.
   */
  default Map<String, JsonNode> systemInfo() {
    return Map.of();
  }

  /**
   * sigma-api knows this agent as VPS {@code vpsId}: told after the first registration and again
   * after every re-registration (the id may change when the VPS was deleted upstream). Called on an
   * actor of the root: tell an actor, never block.
   */
  default void vpsKnown(String vpsId) {}

  /** The feature's series. */
  default MetricsBinder metrics() {
    return MetricsBinder.NONE;
  }

  /** Nothing live by default: a changed setting of the feature is reported as needing a restart. */
  @Override
  default void apply(AgentConfig applied, AgentConfig loaded) {}
}
