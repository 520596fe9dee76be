package io.sigma.agent.xds;

import io.sigma.agent.api.EnvoyRoute;

/** Builds sigma-api routes for tests: an active dynamic route unless a test says otherwise. */
final class Routes {

  private Routes() {}

  static EnvoyRoute route(String name, Integer listenPort, String host, Integer port) {
    return route(name, listenPort, host, port, "logical_dns", 5, 0);
  }

  static EnvoyRoute route(
      String name,
      Integer listenPort,
      String host,
      Integer port,
      String clusterType,
      Integer connectTimeoutSecs,
      Integer proxyProtocol) {
    return new EnvoyRoute(
        "id-" + name,
        "node-uuid",
        name,
        listenPort,
        host,
        port,
        clusterType,
        connectTimeoutSecs,
        proxyProtocol,
        "dynamic",
        "active",
        "2026-01-01T00:00:00Z",
        "2026-01-01T00:00:00Z");
  }

  static EnvoyRoute withSourceAndStatus(EnvoyRoute r, String source, String status) {
    return new EnvoyRoute(
        r.id(),
        r.envoyNodeId(),
        r.name(),
        r.listenPort(),
        r.backendHost(),
        r.backendPort(),
        r.clusterType(),
        r.connectTimeoutSecs(),
        r.proxyProtocol(),
        source,
        status,
        r.createdAt(),
        r.updatedAt());
  }
}
