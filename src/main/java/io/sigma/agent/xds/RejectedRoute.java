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
    /** null/blank name. */
    INVALID_NAME(true),
    /** listen_port null or outside 1..65535. */
    INVALID_LISTEN_PORT(true),
    /** backend_port above 65535. */
    INVALID_BACKEND_PORT(true),
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

  /** One line for the log: which route, and why it was left out. */
  public String describe() {
    return "route '" + route.name() + "' (id " + route.id() + ", listen_port " + route.listenPort()
        + "): " + reason + ": " + detail;
  }
}
