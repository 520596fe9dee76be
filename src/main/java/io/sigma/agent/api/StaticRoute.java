package io.sigma.agent.api;

/** A route read from Envoy's own static config, as sent to {@code /envoy-routes/sync-static}. */
public record StaticRoute(
    String name,
    int listenPort,
    String backendHost,
    Integer backendPort,
    String clusterType,
    Integer connectTimeoutSecs,
    Integer proxyProtocol) {}
