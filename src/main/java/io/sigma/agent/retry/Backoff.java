package io.sigma.agent.retry;

import java.time.Duration;
import java.util.random.RandomGenerator;

/**
 * Retry delays: exponential growth from {@code initial} up to {@code max}, with full jitter (a
 * uniform draw between zero and the ceiling), so a fleet that failed together does not retry
 * together.
 */
public record Backoff(Duration initial, Duration max) {
  public Backoff {
    if (initial.isNegative() || initial.isZero() || max.compareTo(initial) < 0) {
      throw new IllegalArgumentException("need 0 < initial <= max");
    }
  }

  /** The ceiling for the given attempt (1 = first retry): initial·2^(attempt-1), capped. */
  public Duration ceiling(int attempt) {
    int doublings = Math.max(0, Math.min(attempt - 1, 40));
    long millis = initial.toMillis();
    for (int i = 0; i < doublings && millis < max.toMillis(); i++) {
      millis *= 2;
    }
    return Duration.ofMillis(Math.min(millis, max.toMillis()));
  }

  /** Full jitter: uniform in [0, ceiling(attempt)]. */
  public Duration delay(int attempt, RandomGenerator random) {
    return Duration.ofMillis(random.nextLong(ceiling(attempt).toMillis() + 1));
  }

  /**
   * For failures that will not fix themselves (a wrong API key): wait around the cap, never less
   * than half of it, so a misconfigured fleet neither spins nor retries in lockstep.
   */
  public Duration atCap(RandomGenerator random) {
    long cap = max.toMillis();
    return Duration.ofMillis(cap / 2 + random.nextLong(cap - cap / 2 + 1));
  }

  /**
   * The first heartbeat after a (re-)registration: uniform over a whole interval, in [interval/2,
   * 3·interval/2]. Agents that registered in the same few seconds (a fleet-wide restart, or an API
   * that answered a backlog of registrations at once) then heartbeat spread evenly over the
   * interval from their first beat on; with {@link #jittered} alone they would drift apart by only
   * ±10% of an interval per beat and hit the API in waves for hours.
   */
  public static Duration spreadOverInterval(Duration interval, RandomGenerator random) {
    long base = interval.toMillis();
    return Duration.ofMillis(base / 2 + random.nextLong(base + 1));
  }

  /** The heartbeat interval with ±10% jitter, so agents started together drift apart. */
  public static Duration jittered(Duration interval, RandomGenerator random) {
    long base = interval.toMillis();
    long spread = base / 10;
    return Duration.ofMillis(base - spread + random.nextLong(2 * spread + 1));
  }
}
