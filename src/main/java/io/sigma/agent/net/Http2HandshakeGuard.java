package io.sigma.agent.net;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.time.Clock;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.http.javadsl.model.AttributeKeys;
import org.apache.pekko.http.javadsl.model.HttpRequest;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.io.Inet;
import org.apache.pekko.japi.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Closes connections to an HTTP/2 (gRPC) server that have not made an HTTP/2 request within {@code
 * timeout} of being accepted: idle connections that never speak HTTP/2 (nothing sent, garbage, a
 * trickled HTTP/1.1 head) would otherwise be held forever, as the xDS server has no idle timeout
 * (ADS streams are legitimately silent for hours). A connection that has made a request is never
 * touched again; HTTP/2 PINGs detect its peer going away.
 *
 * <p>Pekko's HTTP/2 server exposes no per-connection byte stage, so the guard works from its two
 * public hooks: a socket option ({@link #socketOption()}) sees each accepted socket, and the
 * request handler ({@link #observing}) sees each request with its client's address and port (the
 * binding must set {@code remote-address-attribute}). A socket whose address has made no HTTP/2
 * request by the deadline is shut down both ways; Pekko then reads end-of-stream and closes the
 * connection itself.
 */
public final class Http2HandshakeGuard {
  private static final Logger log = LoggerFactory.getLogger(Http2HandshakeGuard.class);

  /** Envoy sends its preface and ADS request at once; 10 s leaves room for a busy VPS. */
  public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(10);

  private final Duration timeout;
  private final ActorSystem<?> system;
  private final GuardLog guardLog;
  private final String reason;

  /** Accepted sockets that have not made an HTTP/2 request yet, by client address and port. */
  private final Map<InetSocketAddress, Socket> awaiting = new ConcurrentHashMap<>();

  /** {@code server} names the port in log lines; it is read when a line is written. */
  public Http2HandshakeGuard(ActorSystem<?> system, Duration timeout, Supplier<String> server) {
    this.system = system;
    this.timeout = timeout;
    this.guardLog = new GuardLog(log, server, Clock.systemUTC());
    this.reason = "no HTTP/2 request within " + timeout.toMillis() + " ms of connecting";
  }

  /** The socket option to add to the binding's settings: it starts each socket's deadline. */
  public Inet.SocketOption socketOption() {
    return new Inet.AbstractSocketOptionV2() {
      @Override
      public void afterConnect(Socket socket) {
        accepted(socket);
      }
    };
  }

  /** {@code handler} marking each HTTP/2 request's connection as established. */
  public Function<HttpRequest, CompletionStage<HttpResponse>> observing(
      Function<HttpRequest, CompletionStage<HttpResponse>> handler) {
    return request -> {
      if (request.protocol().value().equals("HTTP/2.0")) {
        request
            .getAttribute(AttributeKeys.remoteAddress)
            .ifPresent(
                remote ->
                    remote
                        .getAddress()
                        .ifPresent(
                            address ->
                                awaiting.remove(new InetSocketAddress(address, remote.getPort()))));
      }
      return handler.apply(request);
    };
  }

  private void accepted(Socket socket) {
    if (!(socket.getRemoteSocketAddress() instanceof InetSocketAddress client)) {
      return;
    }
    awaiting.put(client, socket);
    system
        .scheduler()
        .scheduleOnce(timeout, () -> expire(client, socket), system.executionContext());
  }

  private void expire(InetSocketAddress client, Socket socket) {
    if (!awaiting.remove(client, socket)) {
      return;
    }
    guardLog.closed(reason, client.getAddress().getHostAddress());
    try {
      socket.shutdownInput();
      socket.shutdownOutput();
    } catch (IOException alreadyClosed) {
      // the client went away by itself meanwhile
    }
  }
}
