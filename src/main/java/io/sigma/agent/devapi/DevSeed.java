package io.sigma.agent.devapi;

import java.util.List;

/**
 * An Envoy node and its routes to create for a VPS once it exists (nodes belong to a vps_id, which
 * only a registration creates). See {@link DevApiStore#seedForFirstRegistration}; the tests also
 * seed by hostname (DevApiAdmin, in the test sources).
 */
public record DevSeed(
    String nodeId, String description, Integer adminPort, List<RouteSpec> routes) {

  public static final String DEFAULT_NODE_ID = "dev-envoy";

  public DevSeed {
    if (nodeId == null || nodeId.isBlank()) {
      throw new IllegalArgumentException("seed node_id must not be empty");
    }
    description = description == null ? "" : description;
    routes = List.copyOf(routes);
  }

  /**
   * Node {@code dev-envoy} with one route of each cluster type and PROXY protocol version, an
   * active route without backend (the agent must skip it), a reserved placeholder port, and a
   * {@code source=static} route (never served over xDS).
   */
  public static DevSeed standard() {
    return new DevSeed(
        DEFAULT_NODE_ID,
        "seeded by the dev sigma-api",
        9901,
        List.of(
            RouteSpec.active("dev-logical-dns", 10001, "localhost", 8081),
            RouteSpec.active("dev-static", 10002, "127.0.0.1", 8082)
                .withClusterType(RouteSpec.STATIC)
                .withProxyProtocol(1),
            RouteSpec.active("dev-strict-dns", 10003, "localhost", 8083)
                .withClusterType(RouteSpec.STRICT_DNS)
                .withProxyProtocol(2)
                .withConnectTimeoutSecs(3),
            RouteSpec.placeholder("dev-no-backend", 10004).withStatus(RouteSpec.STATUS_ACTIVE),
            RouteSpec.placeholder("dev-placeholder", 10005),
            RouteSpec.active("dev-envoy-static", 10006, "127.0.0.1", 8086)
                .withClusterType(RouteSpec.STATIC)
                .withSource(RouteSpec.SOURCE_STATIC)));
  }
}
