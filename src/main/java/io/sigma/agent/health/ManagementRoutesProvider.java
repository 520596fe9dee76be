package io.sigma.agent.health;

import java.util.List;
import org.apache.pekko.actor.ExtendedActorSystem;
import org.apache.pekko.http.javadsl.server.AllDirectives;
import org.apache.pekko.http.javadsl.server.Route;
import org.apache.pekko.management.javadsl.ManagementRouteProvider;
import org.apache.pekko.management.javadsl.ManagementRouteProviderSettings;

/**
 * Serves the {@link ManagementRoutes} of the actor system on pekko-management's HTTP server
 * (configured as {@code pekko.management.http.routes.agent}). The list is read per request, so the
 * order in which the guardian adds routes and starts the server does not matter; with none,
 * requests fall through (404).
 */
public final class ManagementRoutesProvider extends AllDirectives
    implements ManagementRouteProvider {
  private final ManagementRoutes routes;

  /** Called by pekko-management, by reflection, when it starts. */
  public ManagementRoutesProvider(ExtendedActorSystem system) {
    this.routes = ManagementRoutes.get(system);
  }

  @Override
  public Route routes(ManagementRouteProviderSettings settings) {
    return extractRequestContext(
        request -> {
          List<Route> current = routes.routes();
          return current.isEmpty()
              ? reject()
              : concat(current.get(0), current.subList(1, current.size()).toArray(Route[]::new));
        });
  }
}
