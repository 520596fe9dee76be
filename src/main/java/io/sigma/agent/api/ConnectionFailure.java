package io.sigma.agent.api;

import java.io.IOException;
import java.net.ConnectException;
import java.net.NoRouteToHostException;
import java.net.SocketTimeoutException;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.Locale;
import javax.net.ssl.SSLException;

/**
 * Says in an operator's terms why a connection to sigma-api failed. Pekko HTTP wraps the JDK's
 * exception in its own ({@code StreamTcpException: Tcp command [Connect(127.0.0.1/<unresolved>:9,
 * None,List(),Some(10 seconds),true)] failed because of java.net.ConnectException: ...}), whose
 * text is Pekko internals; the cause chain holds what happened.
 */
final class ConnectionFailure {
  private ConnectionFailure() {}

  /**
   * What went wrong talking to {@code host:port}, e.g. "connection refused by 127.0.0.1:9".
   *
   * @param connectTimeout the connecting timeout, named when a connection attempt timed out
   */
  static String describe(Throwable error, String host, int port, Duration connectTimeout) {
    String peer = host + ":" + port;
    for (Throwable c = error; c != null; c = c.getCause()) {
      String text = lower(c.getMessage());
      if (c instanceof UnknownHostException) {
        return "cannot resolve host " + host;
      }
      if (c instanceof ConnectException && text.contains("refused")) {
        return "connection refused by " + peer;
      }
      if (c instanceof NoRouteToHostException) {
        return "no route to " + peer;
      }
      if (c instanceof ConnectException
          || c instanceof SocketTimeoutException
          || text.contains("connect timeout")) {
        return "connection to " + peer + " timed out after " + seconds(connectTimeout);
      }
      if (c instanceof SSLException) {
        return "TLS handshake with " + peer + " failed: " + c.getMessage();
      }
      if (text.contains("connection reset")) {
        return "connection reset by " + peer;
      }
      // UnexpectedConnectionClosureException (no response yet) or EntityStreamException
      // "Entity stream truncation" (the body was cut off).
      if (text.contains("closed the connection unexpectedly")
          || text.contains("entity stream truncation")) {
        return "connection closed by " + peer + " before the answer was complete";
      }
    }
    Throwable root = error;
    while (root.getCause() != null) {
      root = root.getCause();
    }
    String why = root.getMessage() == null ? root.getClass().getSimpleName() : root.getMessage();
    return (root instanceof IOException ? "connection to " : "request to ")
        + peer
        + " failed: "
        + why;
  }

  private static String lower(String s) {
    return s == null ? "" : s.toLowerCase(Locale.ROOT);
  }

  private static String seconds(Duration d) {
    return d.toMillis() % 1000 == 0 ? d.toSeconds() + " s" : d.toMillis() + " ms";
  }
}
