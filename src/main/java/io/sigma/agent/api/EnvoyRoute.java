package io.sigma.agent.api;

/**
 * One Envoy route as sigma-api stores it. Nullable numbers are boxed: a route may be a placeholder
 * (no backend) or carry values the agent must reject rather than trust.
 */
public record EnvoyRoute(
    String id,
    String envoyNodeId,
    String name,
    Integer listenPort,
    String backendHost,
    Integer backendPort,
    String clusterType,
    Integer connectTimeoutSecs,
    Integer proxyProtocol,
    String source,
    String status,
    String createdAt,
    String updatedAt) {

  /** A route without a usable backend: it produces no xDS resources. */
  public boolean isPlaceholder() {
    return backendHost == null || backendHost.isBlank() || backendPort == null || backendPort <= 0;
  }
}
