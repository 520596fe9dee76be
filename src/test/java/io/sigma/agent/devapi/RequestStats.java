package io.sigma.agent.devapi;

import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentNavigableMap;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;

/**
 * Counts every request the dev API receives (faulted ones included), in total and per epoch second,
 * per {@link EndpointKind}. The per-second histogram keeps only the last {@code retention} seconds,
 * so memory stays bounded however long a soak runs. Thread-safe and lock-free.
 */
public final class RequestStats {
  public static final Duration DEFAULT_RETENTION = Duration.ofHours(2);
  private static final int KINDS = EndpointKind.values().length;

  private final Clock clock;
  private final long retentionSeconds;
  private final AtomicLongArray totals = new AtomicLongArray(KINDS);
  private final ConcurrentSkipListMap<Long, AtomicLongArray> seconds =
      new ConcurrentSkipListMap<>();
  private final AtomicLong lastEvictedBefore = new AtomicLong(Long.MIN_VALUE);

  public RequestStats(Clock clock, Duration retention) {
    this.clock = Objects.requireNonNull(clock);
    if (retention.toSeconds() < 1) {
      throw new IllegalArgumentException("retention must be at least one second: " + retention);
    }
    this.retentionSeconds = retention.toSeconds();
  }

  public RequestStats() {
    this(Clock.systemUTC(), DEFAULT_RETENTION);
  }

  /** Counts one request of that kind, now. */
  public void record(EndpointKind kind) {
    long second = Math.floorDiv(clock.millis(), 1000L);
    totals.incrementAndGet(kind.ordinal());
    seconds
        .computeIfAbsent(second, s -> new AtomicLongArray(KINDS))
        .incrementAndGet(kind.ordinal());
    long keepFrom = second - retentionSeconds + 1;
    long previous = lastEvictedBefore.get();
    if (keepFrom > previous && lastEvictedBefore.compareAndSet(previous, keepFrom)) {
      seconds.headMap(keepFrom).clear();
    }
  }

  /** Requests of that kind since start (or the last {@link #reset}); never evicted. */
  public long total(EndpointKind kind) {
    return totals.get(kind.ordinal());
  }

  public Map<EndpointKind, Long> totals() {
    Map<EndpointKind, Long> out = new EnumMap<>(EndpointKind.class);
    for (EndpointKind k : EndpointKind.values()) {
      out.put(k, totals.get(k.ordinal()));
    }
    return out;
  }

  /**
   * The retained seconds from the first to the last that saw a request, in order; seconds without
   * requests in between are included with zero counts (ready to chart).
   */
  public List<SecondCounts> perSecond() {
    if (seconds.isEmpty()) {
      return List.of();
    }
    return perSecond(seconds.firstKey(), seconds.lastKey());
  }

  /** Every second of {@code [fromEpochSecond, toEpochSecond]}, zero-filled. */
  public List<SecondCounts> perSecond(long fromEpochSecond, long toEpochSecond) {
    if (toEpochSecond < fromEpochSecond) {
      return List.of();
    }
    List<SecondCounts> out = new ArrayList<>();
    ConcurrentNavigableMap<Long, AtomicLongArray> range =
        seconds.subMap(fromEpochSecond, true, toEpochSecond, true);
    for (long s = fromEpochSecond; s <= toEpochSecond; s++) {
      AtomicLongArray counts = range.get(s);
      long[] values = new long[KINDS];
      if (counts != null) {
        for (int i = 0; i < KINDS; i++) {
          values[i] = counts.get(i);
        }
      }
      out.add(new SecondCounts(s, values));
    }
    return out;
  }

  /** Number of seconds currently held in the histogram (bounded by the retention). */
  public int retainedSeconds() {
    return seconds.size();
  }

  /** Forgets every count (e.g. between the phases of a simulation). */
  public void reset() {
    seconds.clear();
    for (int i = 0; i < KINDS; i++) {
      totals.set(i, 0);
    }
  }
}
