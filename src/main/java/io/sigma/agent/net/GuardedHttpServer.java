package io.sigma.agent.net;

import java.time.Clock;
import java.util.Optional;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.pekko.NotUsed;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.http.javadsl.Http;
import org.apache.pekko.http.javadsl.HttpsConnectionContext;
import org.apache.pekko.http.javadsl.IncomingConnection;
import org.apache.pekko.http.javadsl.ServerBinding;
import org.apache.pekko.http.javadsl.model.HttpRequest;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.settings.ServerSettings;
import org.apache.pekko.stream.Materializer;
import org.apache.pekko.stream.javadsl.Flow;
import org.apache.pekko.stream.javadsl.Sink;
import org.apache.pekko.stream.javadsl.Source;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * An HTTP/1.1 server whose connections are guarded by an {@link HttpGuard}: a connection over the
 * per-client or total limit is closed as soon as it is accepted, and every admitted one runs under
 * {@link RequestDeadlines}. Built on Pekko's connection source, so each connection's client address
 * is known at accept time (Pekko's own {@code max-connections} does not apply there; the guard's
 * total limit replaces it).
 *
 * <p>Unbinding or terminating the binding stops accepting; connections still open then end with
 * their deadlines or with the actor system.
 */
public final class GuardedHttpServer {
  private static final Logger log = LoggerFactory.getLogger(GuardedHttpServer.class);

  /** A handler that ends at once: the server layer closes the connection without reading it. */
  private static final Flow<HttpRequest, HttpResponse, NotUsed> CLOSE =
      Flow.fromSinkAndSourceCoupled(Sink.cancelled(), Source.empty());

  private GuardedHttpServer() {}

  /**
   * Binds {@code host:port} (0: any free port) with {@code settings} and serves every admitted
   * connection with {@code handler} (materialized once per connection), over TLS when {@code https}
   * is given. {@code name} names the server in log lines.
   *
   * <p>The guard works on requests, above the TLS layer, and Pekko's TLS stage does not close a
   * connection whose handshake is unfinished when the layer above it ends: a client that sends half
   * a ClientHello and waits would outlive the head deadline and its slot in the limits. Pekko's
   * idle timeout works on the bytes below TLS and does close it, so over TLS it is set to the head
   * plus the body timeout (no honest request is idle longer; the head deadline still closes idle
   * kept-alive connections first). A client trickling its handshake a byte at a time is not caught
   * by it: that needs the deadline below TLS (binding with Tcp and stacking TLS and the HTTP layer
   * ourselves).
   */
  public static CompletionStage<ServerBinding> bind(
      ActorSystem<?> system,
      String host,
      int port,
      ServerSettings settings,
      Flow<HttpRequest, HttpResponse, NotUsed> handler,
      HttpGuard guard,
      String name,
      Optional<HttpsConnectionContext> https) {
    Materializer materializer = Materializer.matFromSystem(system);
    ConnectionLimits limits =
        new ConnectionLimits(guard.maxConnections(), guard.maxConnectionsPerClient());
    AtomicReference<String> bound = new AtomicReference<>(name + " on " + host + ":" + port);
    GuardLog guardLog = new GuardLog(log, bound::get, Clock.systemUTC());
    String headReason = RequestDeadlines.headReason(guard.headTimeout());
    var server = Http.get(system).newServerAt(host, port);
    if (https.isPresent()) {
      server =
          server
              .enableHttps(https.get())
              .withSettings(
                  settings.withTimeouts(
                      settings
                          .getTimeouts()
                          .withIdleTimeout(
                              scala.concurrent.duration.Duration.fromNanos(
                                  guard.headTimeout().plus(guard.bodyTimeout()).toNanos()))));
    } else {
      server = server.withSettings(settings);
    }
    return server
        .connectionSource()
        .to(
            Sink.foreach(
                connection ->
                    serve(connection, handler, guard, limits, guardLog, headReason, materializer)))
        .run(materializer)
        .thenApply(
            binding -> {
              bound.set(name + " on " + host + ":" + binding.localAddress().getPort());
              return binding;
            });
  }

  private static void serve(
      IncomingConnection connection,
      Flow<HttpRequest, HttpResponse, NotUsed> handler,
      HttpGuard guard,
      ConnectionLimits limits,
      GuardLog guardLog,
      String headReason,
      Materializer materializer) {
    var client = connection.remoteAddress().getAddress();
    ConnectionLimits.Admission admission = limits.admit(client);
    Optional<ConnectionLimits.Lease> lease = admission.lease();
    String limit =
        admission
            .limit()
            .map(
                l ->
                    switch (l) {
                      case PER_CLIENT ->
                          guard.maxConnectionsPerClient() + " connections from one client address";
                      case TOTAL -> guard.maxConnections() + " connections in all";
                    })
            .orElse("");
    if (lease.isEmpty()) {
      guardLog.closed(
          "refused at " + limit + ", all in the middle of a request", client.getHostAddress());
      connection.handleWith(CLOSE, materializer);
      return;
    }
    admission
        .evicted()
        .ifPresent(
            evicted ->
                guardLog.closed(
                    "waited longest for a request head when a newcomer hit " + limit,
                    evicted.client().getHostAddress()));
    RequestDeadlines deadlines =
        new RequestDeadlines(
            guard.headTimeout(),
            guard.bodyTimeout(),
            () -> guardLog.closed(headReason, client.getHostAddress()),
            lease.get());
    try {
      connection.handleWith(
          deadlines
              .bidiFlow()
              .join(handler)
              .watchTermination(
                  (notUsed, done) -> {
                    done.whenComplete((ok, failure) -> lease.get().release());
                    return notUsed;
                  }),
          materializer);
    } catch (RuntimeException e) {
      lease.get().release();
      throw e;
    }
  }
}
