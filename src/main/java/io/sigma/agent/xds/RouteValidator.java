package io.sigma.agent.xds;

import static io.sigma.agent.xds.QuotedText.quote;

import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.sigma.agent.api.EnvoyRoute;
import io.sigma.agent.xds.RejectedRoute.Reason;

/**
 * Decides, one route at a time, whether a sigma-api route can become Envoy resources, and if not
 * why, in words an operator can act on. Every value is checked before it reaches a resource: the
 * API is not trusted, and Envoy rejecting one bad resource (a NACK) blocks the update of every
 * route of the node. Duplicates across routes are {@link RouteResourceMapper}'s job.
 *
 * <p>Order: routes skipped by design (static source, not active, placeholder) first, so they are
 * never reported as invalid; then the values, in the order of the route's fields.
 */
final class RouteValidator {

  /**
   * Longest route name. Envoy itself no longer limits names, but each name is repeated in {@code
   * cluster-}, {@code listener-} and {@code tcp-} resource and stat names, in every xDS response
   * and in Envoy's metrics; 200 keeps {@code listener-<name>} within 255 characters (the usual
   * limit of a name column or a file name) while leaving room for any real name.
   */
  static final int MAX_NAME_LENGTH = 200;

  /** Longest connect_timeout_secs: more than 5 minutes to open a TCP connection is a typo. */
  static final int MAX_CONNECT_TIMEOUT_SECS = 300;

  static final int MAX_PORT = 65535;
  private static final int QUOTE_MAX = BackendHost.QUOTE_MAX;

  private RouteValidator() {}

  /** Why {@code route} makes no resources on its own, or null when it is servable. */
  static RejectedRoute check(EnvoyRoute route) {
    if (route.source() != null && route.source().strip().equalsIgnoreCase("static")) {
      return new RejectedRoute(
          route,
          Reason.STATIC_SOURCE,
          "source=static routes come from Envoy's own config file and are not served over xDS");
    }
    if (route.status() == null || !route.status().strip().equalsIgnoreCase("active")) {
      return new RejectedRoute(
          route,
          Reason.NOT_ACTIVE,
          "status is " + quote(route.status(), QUOTE_MAX) + ", not active");
    }
    if (route.isPlaceholder()) {
      return new RejectedRoute(
          route,
          Reason.PLACEHOLDER,
          "no backend yet (backend_host "
              + quote(route.backendHost(), QUOTE_MAX)
              + ", backend_port "
              + route.backendPort()
              + ")");
    }
    String nameProblem = nameProblem(route.name());
    if (nameProblem != null) {
      return new RejectedRoute(route, Reason.INVALID_NAME, nameProblem);
    }
    Integer listenPort = route.listenPort();
    if (listenPort == null || listenPort < 1 || listenPort > MAX_PORT) {
      return new RejectedRoute(
          route,
          Reason.INVALID_LISTEN_PORT,
          "listen_port " + listenPort + " is not in 1.." + MAX_PORT);
    }
    String host = route.backendHost().strip();
    String hostProblem = BackendHost.problem(host).orElse(null);
    if (hostProblem != null) {
      return new RejectedRoute(route, Reason.INVALID_BACKEND_HOST, hostProblem);
    }
    if (route.backendPort() > MAX_PORT) {
      return new RejectedRoute(
          route,
          Reason.INVALID_BACKEND_PORT,
          "backend_port " + route.backendPort() + " is not in 1.." + MAX_PORT);
    }
    if (RouteResourceMapper.clusterType(route) == Cluster.DiscoveryType.STATIC
        && !BackendHost.isIpLiteral(host)) {
      return new RejectedRoute(
          route,
          Reason.STATIC_CLUSTER_NEEDS_IP,
          "cluster_type static needs an IP address, backend_host is "
              + quote(host, QUOTE_MAX)
              + " (use strict_dns or logical_dns for host names)");
    }
    Integer timeout = route.connectTimeoutSecs();
    if (timeout != null && (timeout < 0 || timeout > MAX_CONNECT_TIMEOUT_SECS)) {
      return new RejectedRoute(
          route,
          Reason.INVALID_CONNECT_TIMEOUT,
          "connect_timeout_secs "
              + timeout
              + " is not in 1.."
              + MAX_CONNECT_TIMEOUT_SECS
              + " (leave it empty or 0 for the default, "
              + RouteResourceMapper.DEFAULT_CONNECT_TIMEOUT_SECS
              + " s)");
    }
    Integer proxyProtocol = route.proxyProtocol();
    if (proxyProtocol != null && (proxyProtocol < 0 || proxyProtocol > 2)) {
      return new RejectedRoute(
          route,
          Reason.INVALID_PROXY_PROTOCOL,
          "proxy_protocol " + proxyProtocol + " is not 0 (none), 1 (PROXY v1) or 2 (PROXY v2)");
    }
    return null;
  }

  /**
   * Why {@code name} can not name Envoy resources, or null. Allowed: 1..200 ASCII letters, digits,
   * '-', '_', '.' and ':' (after stripping surrounding whitespace): what operators put in names,
   * and safe in resource names, stat names and log lines.
   */
  static String nameProblem(String name) {
    if (name == null || name.isBlank()) {
      return "empty name";
    }
    String stripped = name.strip();
    if (stripped.length() > MAX_NAME_LENGTH) {
      return "name "
          + quote(stripped, QUOTE_MAX)
          + " is "
          + stripped.length()
          + " characters long; at most "
          + MAX_NAME_LENGTH;
    }
    for (int i = 0; i < stripped.length(); i++) {
      char c = stripped.charAt(i);
      if (!isNameCharacter(c)) {
        String what =
            Character.isWhitespace(c) || Character.isISOControl(c) || c > 0x7e
                ? String.format("U+%04X", (int) c)
                : "'" + c + "'";
        return "name "
            + quote(stripped, QUOTE_MAX)
            + " contains "
            + what
            + "; a name may hold only ASCII letters, digits, '-', '_', '.' and ':'";
      }
    }
    return null;
  }

  private static boolean isNameCharacter(char c) {
    return (c >= 'a' && c <= 'z')
        || (c >= 'A' && c <= 'Z')
        || (c >= '0' && c <= '9')
        || c == '-'
        || c == '_'
        || c == '.'
        || c == ':';
  }
}
