package io.sigma.agent.fleet;

import io.sigma.agent.health.HealthCheck;
import java.time.Duration;
import java.util.Objects;
import java.util.Optional;

/**
 * The fleet's part of the health endpoints: alive while the registration/heartbeat loop turns (it
 * got an answer, failures included, within the stall limit: an agent whose loop got stuck is
 * restarted, one whose sigma-api is down is not), ready once registered.
 */
final class FleetHealthCheck implements HealthCheck {
  private final FleetStatus status;
  private volatile Duration stallLimit;

  FleetHealthCheck(FleetStatus status, Duration stallLimit) {
    this.status = Objects.requireNonNull(status, "status");
    this.stallLimit = Objects.requireNonNull(stallLimit, "stallLimit");
  }

  /**
   * The longest the registration loop may go without an answer before it counts as stalled: twice
   * the longest legitimate gap (the larger of 1.5 intervals, the latest first heartbeat after a
   * registration, and the backoff cap, plus one request timeout).
   */
  static Duration stallLimit(Duration interval, Duration backoffMax, Duration requestTimeout) {
    Duration firstBeat = interval.plus(interval.dividedBy(2));
    Duration longestWait = firstBeat.compareTo(backoffMax) >= 0 ? firstBeat : backoffMax;
    return longestWait.plus(requestTimeout).multipliedBy(2);
  }

  /** SIGHUP changed the heartbeat interval: the limit follows it. */
  void stallLimit(Duration limit) {
    stallLimit = Objects.requireNonNull(limit, "limit");
  }

  @Override
  public Optional<String> livenessProblem() {
    Duration limit = stallLimit;
    if (status.loopTurnedWithin(limit)) {
      return Optional.empty();
    }
    return Optional.of(
        "the registration/heartbeat loop got no answer within " + limit.toSeconds() + "s");
  }

  @Override
  public Optional<String> readinessProblem() {
    if (status.isRegistered()) {
      return Optional.empty();
    }
    return Optional.of(
        "not registered with sigma-api"
            + status.lastError().map(error -> " (last error: " + error + ")").orElse(""));
  }
}
