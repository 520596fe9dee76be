package io.sigma.agent.retry;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class BackoffTest {
  private final Backoff backoff = new Backoff(Duration.ofSeconds(1), Duration.ofMinutes(5));

  @Test
  void ceilingDoublesUpToTheCap() {
    assertEquals(Duration.ofSeconds(1), backoff.ceiling(1));
    assertEquals(Duration.ofSeconds(2), backoff.ceiling(2));
    assertEquals(Duration.ofSeconds(256), backoff.ceiling(9));
    assertEquals(Duration.ofMinutes(5), backoff.ceiling(10));
    assertEquals(Duration.ofMinutes(5), backoff.ceiling(10_000));
  }

  @Test
  void fullJitterSpreadsOverTheWholeWindow() {
    SplittableRandom random = new SplittableRandom(42);
    long min = Long.MAX_VALUE;
    long max = 0;
    for (int i = 0; i < 10_000; i++) {
      long d = backoff.delay(12, random).toMillis();
      assertTrue(d >= 0 && d <= 300_000, "within [0, cap]: " + d);
      min = Math.min(min, d);
      max = Math.max(max, d);
    }
    assertTrue(min < 30_000, "draws reach the low end: " + min);
    assertTrue(max > 270_000, "draws reach the high end: " + max);
  }

  @Test
  void atCapNeverDropsBelowHalfTheCap() {
    SplittableRandom random = new SplittableRandom(7);
    for (int i = 0; i < 1_000; i++) {
      long d = backoff.atCap(random).toMillis();
      assertTrue(d >= 150_000 && d <= 300_000, "d=" + d);
    }
  }

  @Test
  void jitteredIntervalStaysWithinTenPercent() {
    SplittableRandom random = new SplittableRandom(1);
    for (int i = 0; i < 1_000; i++) {
      long d = Backoff.jittered(Duration.ofSeconds(60), random).toMillis();
      assertTrue(d >= 54_000 && d <= 66_000, "d=" + d);
    }
  }

  @Test
  void theFirstBeatSpreadsOverAWholeIntervalAroundIt() {
    SplittableRandom random = new SplittableRandom(3);
    long min = Long.MAX_VALUE;
    long max = 0;
    long sum = 0;
    int draws = 10_000;
    for (int i = 0; i < draws; i++) {
      long d = Backoff.spreadOverInterval(Duration.ofSeconds(60), random).toMillis();
      assertTrue(d >= 30_000 && d <= 90_000, "within [interval/2, 3 interval/2]: " + d);
      min = Math.min(min, d);
      max = Math.max(max, d);
      sum += d;
    }
    assertTrue(min < 31_000, "draws reach the low end: " + min);
    assertTrue(max > 89_000, "draws reach the high end: " + max);
    long mean = sum / draws;
    assertTrue(Math.abs(mean - 60_000) < 1_500, "centred on the interval: " + mean);
  }

  @Test
  void rejectsNonsense() {
    assertThrows(
        IllegalArgumentException.class, () -> new Backoff(Duration.ZERO, Duration.ofSeconds(1)));
    assertThrows(
        IllegalArgumentException.class,
        () -> new Backoff(Duration.ofSeconds(10), Duration.ofSeconds(1)));
  }
}
