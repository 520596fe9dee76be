package io.sigma.agent.net;

import java.time.Duration;
import java.util.Objects;

/**
 * The limits an HTTP/1.1 server puts on its clients.
 *
 * @param headTimeout a connection must deliver a complete request head within this long of
 *     connecting or of its previous response, or it is closed
 * @param bodyTimeout a request body must have arrived completely within this long of the handler
 *     starting to read it, or the request fails (408) and the connection is closed
 * @param maxConnections open connections at most, from all clients together; at the limit a new
 *     connection closes the one that has waited longest for a request head instead (see {@link
 *     ConnectionLimits})
 * @param maxConnectionsPerClient open connections at most from one client address (an IPv6 client:
 *     from one /64); at the limit a new connection from it closes that client's own connection that
 *     has waited longest for a request head
 */
public record HttpGuard(
    Duration headTimeout, Duration bodyTimeout, int maxConnections, int maxConnectionsPerClient) {

  /**
   * The metrics port's limits. 10 s for a head or a body is ages for Prometheus and sigma-api (a
   * few hundred bytes each, sent at once) and short enough that a trickling client frees its slot
   * quickly. 64 connections per address: Prometheus keeps one, sigma-api's pool a few, but several
   * sigma-api workers may share one egress address (32 concurrent allocate callers from one address
   * are tested). 256 in all: a quarter of Pekko's default (1,024), so the agent's fds (default soft
   * limit 1,024) and its 64 MB heap stay comfortable (measured: 256 held trickling connections cost
   * ~7 MB of heap). At either limit a newcomer evicts the connection that has waited longest for a
   * request head, so neither limit locks honest callers out.
   */
  public static final HttpGuard METRICS =
      new HttpGuard(Duration.ofSeconds(10), Duration.ofSeconds(10), 256, 64);

  public HttpGuard {
    Objects.requireNonNull(headTimeout, "headTimeout");
    Objects.requireNonNull(bodyTimeout, "bodyTimeout");
    if (headTimeout.isNegative()
        || headTimeout.isZero()
        || bodyTimeout.isNegative()
        || bodyTimeout.isZero()) {
      throw new IllegalArgumentException(
          "timeouts must be positive: head " + headTimeout + ", body " + bodyTimeout);
    }
    if (maxConnectionsPerClient < 1 || maxConnections < maxConnectionsPerClient) {
      throw new IllegalArgumentException(
          "need 1 <= maxConnectionsPerClient ("
              + maxConnectionsPerClient
              + ") <= maxConnections ("
              + maxConnections
              + ")");
    }
  }
}
