package io.sigma.agent.xds;

import io.envoyproxy.envoy.service.discovery.v3.AggregatedDiscoveryService;
import io.envoyproxy.envoy.service.discovery.v3.AggregatedDiscoveryServiceHandlerFactory;
import io.sigma.agent.net.Http2HandshakeGuard;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.pekko.Done;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.http.javadsl.Http;
import org.apache.pekko.http.javadsl.ServerBinding;
import org.apache.pekko.http.javadsl.model.HttpRequest;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.settings.ServerSettings;
import org.apache.pekko.io.Inet;
import org.apache.pekko.japi.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The gRPC endpoint Envoy connects to: the ADS service bound with Pekko HTTP over HTTP/2
 * (plaintext, prior knowledge, as Envoy's {@code grpc_services} cluster with {@code
 * http2_protocol_options} speaks it).
 *
 * <p>The binding's settings are fixed in code ({@link #serverSettings}), whatever the config says:
 * HTTP/2 on; no idle timeout, because an ADS stream is legitimately silent for as long as the
 * node's config does not change (Pekko's default 60 s idle timeout resets it); HTTP/2 PINGs every
 * {@link #PING_INTERVAL} instead, so a vanished Envoy's stream is closed after a missed PING.
 *
 * <p>A connection must make an HTTP/2 request within {@link Http2HandshakeGuard#DEFAULT_TIMEOUT} of
 * connecting, or it is closed ({@link Http2HandshakeGuard}): without an idle timeout, clients that
 * never speak HTTP/2 would otherwise hold their connections forever.
 *
 * <p>Responses are never compressed, whatever {@code grpc-accept-encoding} a client offers (Google
 * gRPC clients offer gzip): Envoy is on the same host, so gzip would only burn the VPS's one CPU,
 * once per response and stream. Compressed requests are still understood.
 */
public final class XdsServer {

  /** Envoy runs on the same host: listen on loopback unless told otherwise. */
  public static final String DEFAULT_BIND_HOST = "127.0.0.1";

  /** How often an otherwise silent connection is PINGed; a PING unanswered this long closes it. */
  public static final Duration PING_INTERVAL = Duration.ofSeconds(30);

  private static final Logger log = LoggerFactory.getLogger(XdsServer.class);

  private final ServerBinding binding;

  private XdsServer(ServerBinding binding) {
    this.binding = binding;
  }

  /**
   * Binds {@code service} on {@code bindHost:port} (port 0 picks a free port). The stage fails when
   * the address cannot be bound (port in use, unknown host); the failure is also logged.
   */
  public static CompletionStage<XdsServer> start(
      ActorSystem<?> system, AggregatedDiscoveryService service, String bindHost, int port) {
    return start(system, service, bindHost, port, Http2HandshakeGuard.DEFAULT_TIMEOUT);
  }

  /**
   * As {@link #start(ActorSystem, AggregatedDiscoveryService, String, int)}, closing connections
   * that have made no HTTP/2 request within {@code handshakeTimeout} (tests use a short one).
   */
  public static CompletionStage<XdsServer> start(
      ActorSystem<?> system,
      AggregatedDiscoveryService service,
      String bindHost,
      int port,
      Duration handshakeTimeout) {
    AtomicInteger boundPort = new AtomicInteger(port);
    Http2HandshakeGuard guard =
        new Http2HandshakeGuard(
            system, handshakeTimeout, () -> "xDS server on " + bindHost + ":" + boundPort.get());
    return Http.get(system)
        .newServerAt(bindHost, port)
        .adaptSettings(base -> serverSettings(base, guard))
        .bind(
            guard.observing(
                uncompressedResponses(
                    AggregatedDiscoveryServiceHandlerFactory.create(service, system))))
        .whenComplete(
            (binding, failure) -> {
              if (failure != null) {
                log.error(
                    "xDS server could not bind {}:{}: {}; Envoys on this host get no dynamic config",
                    bindHost,
                    port,
                    io.sigma.agent.net.BindFailure.describe(failure));
              } else {
                boundPort.set(binding.localAddress().getPort());
                log.info("xDS ADS server listening on {}", binding.localAddress());
              }
            })
        .thenApply(XdsServer::new);
  }

  /**
   * Pending connections the listen socket holds (Pekko's default is 100): Envoys that restart
   * together, e.g. after a reboot or an agent restart, reconnect at once, and a full backlog costs
   * each late one a SYN retry (a second or more) before it gets its config.
   */
  static final int ACCEPT_BACKLOG = 1024;

  /** The gRPC request header by which a client offers response compressions. */
  static final String ACCEPT_ENCODING = "grpc-accept-encoding";

  /** {@code handler} answering every request uncompressed (it sees no compression offer). */
  static Function<HttpRequest, CompletionStage<HttpResponse>> uncompressedResponses(
      Function<HttpRequest, CompletionStage<HttpResponse>> handler) {
    return request -> handler.apply(request.removeHeader(ACCEPT_ENCODING));
  }

  /**
   * The ADS binding's settings: {@code base} with HTTP/2 on, no idle timeout, HTTP/2 PINGs, and
   * what {@code guard} needs (its socket option, and each request's client address).
   */
  static ServerSettings serverSettings(ServerSettings base, Http2HandshakeGuard guard) {
    List<Inet.SocketOption> options = new ArrayList<>();
    base.getSocketOptions().forEach(options::add);
    options.add(guard.socketOption());
    return base.withEnableHttp2(true)
        .withBacklog(ACCEPT_BACKLOG)
        .withTimeouts(base.getTimeouts().withIdleTimeout(scala.concurrent.duration.Duration.Inf()))
        .withHttp2Settings(base.getHttp2Settings().withPingInterval(PING_INTERVAL))
        .withRemoteAddressAttribute(true)
        // no WARN line per connection a client cuts off mid-request: on this port that is only
        // ever a non-gRPC client, and the handshake guard sums those up itself
        .withParserSettings(
            base.getParserSettings()
                .withErrorLoggingVerbosity(
                    org.apache.pekko.http.scaladsl.settings.ParserSettings.ErrorLoggingVerbosity$
                        .MODULE$
                        .apply("off")))
        .withSocketOptions(options);
  }

  /**
   * Stops the server in the actor system's CoordinatedShutdown (service-unbind phase), giving open
   * streams at most {@code hardDeadline}; returns this server.
   */
  public XdsServer addToCoordinatedShutdown(Duration hardDeadline, ActorSystem<?> system) {
    binding.addToCoordinatedShutdown(hardDeadline, system);
    return this;
  }

  /** The bound address (with the real port when 0 was asked). */
  public InetSocketAddress localAddress() {
    return binding.localAddress();
  }

  /** The bound port. */
  public int port() {
    return binding.localAddress().getPort();
  }

  /**
   * Stops accepting connections and ends the open streams (Envoys reconnect elsewhere or later),
   * waiting at most {@code hardDeadline} for them to finish.
   */
  public CompletionStage<Done> stop(Duration hardDeadline) {
    log.info("xDS server on {} stopping", binding.localAddress());
    return binding.terminate(hardDeadline).thenApply(terminated -> Done.getInstance());
  }
}
