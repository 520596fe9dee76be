package io.sigma.agent.devapi;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sigma.agent.testing.MutableClock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class RequestStatsTest {
  private static final Instant T0 = Instant.parse("2026-11-26T10:00:00.250Z");

  @Test
  void countsPerKindAndPerSecondWithZeroFilledGaps() {
    MutableClock clock = new MutableClock(T0);
    RequestStats stats = new RequestStats(clock, Duration.ofMinutes(10));
    stats.record(EndpointKind.REGISTER);
    stats.record(EndpointKind.HEARTBEAT);
    stats.record(EndpointKind.HEARTBEAT);
    clock.advance(Duration.ofSeconds(3));
    stats.record(EndpointKind.ENVOY_NODES);

    assertEquals(1, stats.total(EndpointKind.REGISTER));
    assertEquals(2, stats.total(EndpointKind.HEARTBEAT));
    assertEquals(1, stats.total(EndpointKind.ENVOY_NODES));
    assertEquals(0, stats.total(EndpointKind.SYNC_STATIC));

    List<SecondCounts> seconds = stats.perSecond();
    long first = T0.getEpochSecond();
    assertEquals(4, seconds.size());
    assertEquals(first, seconds.get(0).epochSecond());
    assertEquals(1, seconds.get(0).count(EndpointKind.REGISTER));
    assertEquals(2, seconds.get(0).count(EndpointKind.HEARTBEAT));
    assertEquals(3, seconds.get(0).total());
    assertEquals(0, seconds.get(1).total());
    assertEquals(0, seconds.get(2).total());
    assertEquals(first + 3, seconds.get(3).epochSecond());
    assertEquals(1, seconds.get(3).count(EndpointKind.ENVOY_NODES));
  }

  @Test
  void forgetsSecondsOlderThanTheRetentionButKeepsTotals() {
    MutableClock clock = new MutableClock(T0);
    RequestStats stats = new RequestStats(clock, Duration.ofSeconds(60));
    for (int i = 0; i < 500; i++) {
      stats.record(EndpointKind.HEARTBEAT);
      clock.advance(Duration.ofSeconds(1));
    }
    assertTrue(stats.retainedSeconds() <= 60, "retained " + stats.retainedSeconds());
    assertEquals(500, stats.total(EndpointKind.HEARTBEAT));
    List<SecondCounts> seconds = stats.perSecond();
    assertEquals(T0.getEpochSecond() + 499, seconds.get(seconds.size() - 1).epochSecond());
    assertTrue(seconds.get(0).epochSecond() >= T0.getEpochSecond() + 440);
  }

  @Test
  void rangeQueryIsZeroFilledAndEmptyWhenReversed() {
    MutableClock clock = new MutableClock(T0);
    RequestStats stats = new RequestStats(clock, Duration.ofMinutes(1));
    stats.record(EndpointKind.SYNC_STATIC);
    long s = T0.getEpochSecond();
    List<SecondCounts> range = stats.perSecond(s - 2, s + 1);
    assertEquals(4, range.size());
    assertEquals(List.of(0L, 0L, 1L, 0L), range.stream().map(SecondCounts::total).toList());
    assertEquals(List.of(), stats.perSecond(s, s - 1));
  }

  @Test
  void resetForgetsEverything() {
    RequestStats stats = new RequestStats();
    stats.record(EndpointKind.OTHER);
    stats.reset();
    assertEquals(0, stats.total(EndpointKind.OTHER));
    assertEquals(List.of(), stats.perSecond());
  }

  @Test
  void concurrentRecordsAreAllCounted() throws Exception {
    RequestStats stats = new RequestStats();
    ExecutorService pool = Executors.newFixedThreadPool(4);
    try {
      List<Future<?>> done = new ArrayList<>();
      for (int t = 0; t < 4; t++) {
        done.add(
            pool.submit(
                () -> {
                  for (int i = 0; i < 10_000; i++) {
                    stats.record(EndpointKind.HEARTBEAT);
                  }
                }));
      }
      for (Future<?> f : done) {
        f.get(30, TimeUnit.SECONDS);
      }
    } finally {
      pool.shutdownNow();
    }
    assertEquals(40_000, stats.total(EndpointKind.HEARTBEAT));
    assertEquals(
        40_000, stats.perSecond().stream().mapToLong(s -> s.count(EndpointKind.HEARTBEAT)).sum());
  }

  @Test
  void rejectsRetentionBelowOneSecond() {
    assertThrows(
        IllegalArgumentException.class,
        () -> new RequestStats(new MutableClock(T0), Duration.ofMillis(500)));
  }

  @Test
  void secondCountsNeedOneCountPerKind() {
    assertThrows(IllegalArgumentException.class, () -> new SecondCounts(1, new long[] {1, 2}));
  }
}
