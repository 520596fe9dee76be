package io.sigma.agent.api;

/** Answer of {@code POST /envoy-routes/sync-static}. */
public record SyncStaticResult(int upserted, int deleted) {}
