package io.sigma.agent.xds;

import io.sigma.agent.api.EnvoyRoute;

/**
 * A route that produced no xDS resources, with why.
 *
 * @param route the route as sigma-api returned it
 * @param reason a small fixed set of causes (usable as a metric label)
 * @param detail a human-readable explanation for the log line
 */
public record RejectedRoute(EnvoyRoute route, Reason reason, String detail) {

  /** Why a route was left out. {@link #invalid()} tells expected skips from bad data. */
  public enum Reason {
    /** No backend yet (null/blank backend_host or backend_port <= 0): expected, not an error. */
    PLACEHOLDER(false),
    /** source = static: Envoy already has it from its own config file. */
    STATIC_SOURCE(false),
    /** status other than "active". */
    NOT_ACTIVE(false),
    /**
     * null/blank name, over 200 characters, or a character other than ASCII letters, digits, -_.:
     */
    INVALID_NAME(true),
    /** listen_port null or outside 1..65535. */
    INVALID_LISTEN_PORT(true),
    /**
     * backend_host neither an IP literal nor a DNS host name: a port in it, a URL, whitespace or
     * control characters, non-ASCII, bad label lengths, a mistyped IPv4 address.
     */
    INVALID_BACKEND_HOST(true),
    /** backend_port above 65535. */
    INVALID_BACKEND_PORT(true),
    /** connect_timeout_secs negative or above 300 (null and 0 mean the default). */
    INVALID_CONNECT_TIMEOUT(true),
    /** proxy_protocol outside 0..2. */
    INVALID_PROXY_PROTOCOL(true),
    /** cluster_type static with a backend_host that is not an IP address (Envoy would NACK it). */
    STATIC_CLUSTER_NEEDS_IP(true),
    /** another route earlier in the list already uses this listen_port. */
    DUPLICATE_LISTEN_PORT(true),
    /** another route earlier in the list already uses this name. */
    DUPLICATE_NAME(true);

    private final boolean invalid;

    Reason(boolean invalid) {
      this.invalid = invalid;
    }

    /** True for bad data worth a warning; false for routes that are skipped by design. */
    public boolean invalid() {
      return invalid;
    }
  }

  /** Longest {@link #describe()}: route values come from the API and may be any size. */
  public static final int MAX_DESCRIPTION_LENGTH = 500;

  private static final int MAX_NAME_SHOWN = 80;
  private static final int MAX_ID_SHOWN = 40;
  private static final int MAX_DETAIL_SHOWN = 300;

  /**
   * One line for the log and /xds/status: which route, and why it was left out. The route's values
   * are escaped (no raw control, format or line-separator characters: nothing can forge a log line)
   * and cut, so the line is at most {@link #MAX_DESCRIPTION_LENGTH} characters.
   */
  public String describe() {
    String line =
        "route "
            + QuotedText.quote(route.name(), MAX_NAME_SHOWN)
            + " (id "
            + QuotedText.quote(route.id(), MAX_ID_SHOWN)
            + ", listen_port "
            + route.listenPort()
            + "): "
            + reason
            + ": "
            + QuotedText.oneLine(detail, MAX_DETAIL_SHOWN);
    return QuotedText.oneLine(line, MAX_DESCRIPTION_LENGTH);
  }
}
