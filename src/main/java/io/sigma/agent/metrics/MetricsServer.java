package io.sigma.agent.metrics;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.http.javadsl.Http;
import org.apache.pekko.http.javadsl.ServerBinding;
import org.apache.pekko.http.javadsl.server.Directives;
import org.apache.pekko.http.javadsl.server.Route;
import org.apache.pekko.http.javadsl.settings.ServerSettings;

/**
 * The agent's HTTP server on {@code --metrics-port}: /metrics plus whatever routes the enabled
 * features add (/ports/allocate, /xds/status). Unbinds on CoordinatedShutdown.
 *
 * <p>HTTP/1.1 only. HTTP/2 is on in the actor system's config for the xDS gRPC server, and with
 * it Pekko accepts h2c upgrades on every server; the JDK's HttpClient asks for one by default, and
 * concurrent upgraded POSTs to /ports/allocate hung until the client timed out. Prometheus and
 * sigma-api speak HTTP/1.1 anyway.
 */
public final class MetricsServer {
  private MetricsServer() {}

  public static CompletionStage<ServerBinding> bind(ActorSystem<?> system, String host, int port,
      List<Route> routes) {
    Route all = Directives.concat(routes.get(0), routes.subList(1, routes.size()).toArray(Route[]::new));
    return Http.get(system).newServerAt(host, port)
        .withSettings(ServerSettings.create(system.classicSystem()).withEnableHttp2(false))
        .bind(all)
        .thenApply(binding -> binding.addToCoordinatedShutdown(Duration.ofSeconds(2), system));
  }
}
