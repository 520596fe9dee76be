package io.sigma.agent.xds;

import java.time.Duration;
import java.util.Map;

/**
 * Hooks the {@link ConfigPoller} calls, for metrics. Called from the poller actor only; every
 * method has a no-op default.
 */
public interface PollerEvents {

  /** A poll ended ({@code duration} from the node listing request to the last routes answer). */
  default void onPollFinished(PollResult result, Duration duration) {}

  /**
   * {@code nodeId} is now served at {@code version} with {@code routeCount} routes; {@code
   * rejected} counts its routes that made no resources, by reason (empty when none).
   */
  default void onSnapshotServed(
      String nodeId, long version, int routeCount, Map<RejectedRoute.Reason, Integer> rejected) {}

  /** {@code nodeId} is gone from sigma-api and no longer served. */
  default void onNodeRemoved(String nodeId) {}

  /** The routes of {@code nodeId} could not be fetched; its last snapshot stays. */
  default void onRoutesFetchFailed(String nodeId) {}

  /** An unknown node.id was registered with sigma-api ({@code created}) or the attempt failed. */
  default void onNodeRegistration(String nodeId, boolean created) {}
}
