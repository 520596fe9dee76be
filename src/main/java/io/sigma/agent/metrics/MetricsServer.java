package io.sigma.agent.metrics;

import io.sigma.agent.net.GuardedHttpServer;
import io.sigma.agent.net.HttpGuard;
import io.sigma.agent.web.BasicAuthRoute;
import io.sigma.agent.web.TlsServerConfig;
import io.sigma.agent.web.WebConfig;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.http.javadsl.ServerBinding;
import org.apache.pekko.http.javadsl.server.Directives;
import org.apache.pekko.http.javadsl.server.Route;
import org.apache.pekko.http.javadsl.settings.ServerSettings;

/**
 * The agent's HTTP server on {@code --metrics-port}: /metrics plus whatever routes the enabled
 * features add (/ports/allocate, /xds/status). Unbinds on CoordinatedShutdown.
 *
 * <p>HTTP/1.1 only. HTTP/2 is on in the actor system's config for the xDS gRPC server, and with it
 * Pekko accepts h2c upgrades on every server; the JDK's HttpClient asks for one by default, and
 * concurrent upgraded POSTs to /ports/allocate hung until the client timed out. Prometheus and
 * sigma-api speak HTTP/1.1 anyway.
 *
 * <p>Guarded against slow and idle clients ({@link HttpGuard#METRICS}): sigma-api's allocate call
 * and Prometheus' scrape must get through while someone trickles headers on a thousand connections.
 * Request heads are also capped ({@link #parserSettings}), so each connection waiting for its head
 * holds a few KB at most.
 *
 * <p>With a web config ({@code --web-config-file}) it serves HTTPS only, and/or asks for basic auth
 * on every route (/ports/allocate keeps its own token and caller allow-list on top).
 */
public final class MetricsServer {
  private MetricsServer() {}

  /**
   * Binds {@code host:port} serving {@code routes}, limited by {@code guard} ({@link
   * HttpGuard#METRICS} in the agent; tests use short limits), with TLS and basic auth as {@code
   * web} says.
   */
  public static CompletionStage<ServerBinding> bind(
      ActorSystem<?> system,
      String host,
      int port,
      List<Route> routes,
      HttpGuard guard,
      Optional<WebConfig> web) {
    Route all =
        Directives.concat(routes.get(0), routes.subList(1, routes.size()).toArray(Route[]::new));
    Route served =
        web.flatMap(w -> w.basicAuth(Clock.systemUTC()))
            .map(auth -> BasicAuthRoute.protect(auth, all))
            .orElse(all);
    return GuardedHttpServer.bind(
            system,
            host,
            port,
            parserSettings(ServerSettings.create(system.classicSystem()).withEnableHttp2(false)),
            served.flow(system),
            guard,
            "metrics server",
            web.flatMap(WebConfig::tls).map(TlsServerConfig::connectionContext))
        .thenApply(binding -> binding.addToCoordinatedShutdown(Duration.ofSeconds(2), system));
  }

  /**
   * Request heads of Prometheus and sigma-api are a few hundred bytes: 32 headers of at most 2 KB
   * (Pekko's defaults: 64 of 8 KB) bound what a connection still sending its head can make the
   * server hold to ~66 KB, instead of ~512 KB. Pekko's WARN line per malformed or cut-off request
   * is off: each connection closed mid-head by the guard would log one (the guard logs its own
   * summary), and a bad client still gets its 400.
   */
  static ServerSettings parserSettings(ServerSettings base) {
    return base.withParserSettings(
        base.getParserSettings()
            .withMaxHeaderCount(32)
            .withMaxHeaderValueLength(2048)
            .withErrorLoggingVerbosity(
                org.apache.pekko.http.scaladsl.settings.ParserSettings.ErrorLoggingVerbosity$
                    .MODULE$
                    .apply("off")));
  }
}
