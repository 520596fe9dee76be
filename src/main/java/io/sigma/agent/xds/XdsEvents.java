package io.sigma.agent.xds;

/**
 * Hooks the ADS service calls as the protocol goes, for metrics. Called from many streams at once:
 * implementations must be thread-safe and fast (no blocking, no I/O). Every method has a no-op
 * default, so an implementation overrides only what it counts.
 */
public interface XdsEvents {

  /** A stream identified itself with {@code nodeId} (its first request carried a node.id). */
  default void onStreamOpened(long streamId, String nodeId) {}

  /** A stream of {@code nodeId} ended (client gone, server stopping, or error). */
  default void onStreamClosed(long streamId, String nodeId) {}

  /** A DiscoveryResponse of {@code typeUrl} at {@code version} was emitted on a stream. */
  default void onResponseSent(String nodeId, String typeUrl, String version, int resourceCount) {}

  /** Envoy accepted {@code version} of {@code typeUrl}. */
  default void onAck(String nodeId, String typeUrl, String version) {}

  /** Envoy rejected {@code version} of {@code typeUrl} with {@code message}. */
  default void onNack(String nodeId, String typeUrl, String version, String message) {}
}
