/**
 * Server-side connection guarding for the agent's listening ports: slow and idle clients must not
 * hold the connections honest callers (sigma-api, Prometheus, Envoy) need.
 *
 * <ul>
 *   <li>{@link io.sigma.agent.net.GuardedHttpServer}: the HTTP/1.1 metrics/allocate server with
 *       per-client and total connection limits ({@link io.sigma.agent.net.ConnectionLimits}) and
 *       request-head and body deadlines ({@link io.sigma.agent.net.RequestDeadlines}), all set in
 *       {@link io.sigma.agent.net.HttpGuard}.
 *   <li>{@link io.sigma.agent.net.Http2HandshakeGuard}: the xDS port closes connections that have
 *       not made an HTTP/2 request within a short handshake timeout, while established ADS streams
 *       stay open indefinitely.
 *   <li>{@link io.sigma.agent.net.GuardLog}: what the guards closed, as at most one WARN line a
 *       minute per server.
 * </ul>
 */
package io.sigma.agent.net;
