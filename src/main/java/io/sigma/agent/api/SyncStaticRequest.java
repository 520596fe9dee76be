package io.sigma.agent.api;

import java.util.List;

/** Body of {@code POST /envoy-routes/sync-static}. */
public record SyncStaticRequest(String envoyNodeId, List<StaticRoute> routes) {}
