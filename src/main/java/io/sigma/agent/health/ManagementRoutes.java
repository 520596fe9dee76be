package io.sigma.agent.health;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.apache.pekko.actor.AbstractExtensionId;
import org.apache.pekko.actor.ClassicActorSystemProvider;
import org.apache.pekko.actor.ExtendedActorSystem;
import org.apache.pekko.actor.Extension;
import org.apache.pekko.actor.ExtensionIdProvider;
import org.apache.pekko.http.javadsl.server.Route;

/**
 * The agent's own routes on pekko-management's HTTP server ({@code --management-bind}, loopback by
 * default), next to the health endpoints: pages for the operator on the host, not for the network
 * (e.g. {@code /xds/status}). pekko-management builds its route providers by reflection from
 * nothing but the actor system; this extension is how the agent's guardian hands them routes that
 * need its actors, without static fields. {@link ManagementRoutesProvider} serves them.
 * Thread-safe; routes added after the server started are served too.
 */
public final class ManagementRoutes implements Extension {
  /** The extension's id; one {@link ManagementRoutes} per actor system. */
  public static final Id ID = new Id();

  /** Creates one {@link ManagementRoutes} per actor system. */
  public static final class Id extends AbstractExtensionId<ManagementRoutes>
      implements ExtensionIdProvider {
    private Id() {}

    @Override
    public ManagementRoutes createExtension(ExtendedActorSystem system) {
      return new ManagementRoutes();
    }

    @Override
    public Id lookup() {
      return ID;
    }
  }

  private final List<Route> routes = new CopyOnWriteArrayList<>();

  private ManagementRoutes() {}

  public static ManagementRoutes get(ClassicActorSystemProvider system) {
    return ID.get(system.classicSystem());
  }

  /** Serves {@code route} on the management server (tried after the routes added before it). */
  public void add(Route route) {
    routes.add(route);
  }

  /** The routes added so far, in order. */
  public List<Route> routes() {
    return List.copyOf(routes);
  }
}
