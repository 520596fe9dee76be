package io.sigma.agent.fleet;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.sigma.agent.testing.MutableClock;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class FleetHealthCheckTest {
  private final MutableClock clock = new MutableClock(Instant.parse("2026-11-26T10:00:00Z"));
  private final FleetStatus status = new FleetStatus(clock);

  @Test
  void stallLimitIsTwiceTheLongestLegitimateGapBetweenAnswers() {
    // defaults: interval 60 s, backoff cap 300 s, request timeout 10 s: (300 + 10) * 2
    assertEquals(
        Duration.ofSeconds(620),
        FleetHealthCheck.stallLimit(
            Duration.ofSeconds(60), Duration.ofSeconds(300), Duration.ofSeconds(10)));
    // a long interval dominates a short backoff cap (the first heartbeat after a registration
    // may come 1.5 intervals later): (90 + 10) * 2
    assertEquals(
        Duration.ofSeconds(200),
        FleetHealthCheck.stallLimit(
            Duration.ofSeconds(60), Duration.ofSeconds(1), Duration.ofSeconds(10)));
    // 1.5 intervals (1.5 s) beat a 1 s cap: (1.5 + 0.1) * 2
    assertEquals(
        Duration.ofMillis(3200),
        FleetHealthCheck.stallLimit(
            Duration.ofSeconds(1), Duration.ofSeconds(1), Duration.ofMillis(100)));
    // exactly equal: 1.5 intervals = the cap: (3 + 1) * 2
    assertEquals(
        Duration.ofSeconds(8),
        FleetHealthCheck.stallLimit(
            Duration.ofSeconds(2), Duration.ofSeconds(3), Duration.ofSeconds(1)));
  }

  @Test
  void aliveWhileTheLoopTurnsNotOnceItStalls() {
    FleetHealthCheck check = new FleetHealthCheck(status, Duration.ofSeconds(100));
    assertEquals(Optional.empty(), check.livenessProblem());
    clock.advance(Duration.ofSeconds(100));
    assertEquals(Optional.empty(), check.livenessProblem(), "the limit itself is still alive");
    clock.advance(Duration.ofSeconds(1));
    assertEquals(
        Optional.of("the registration/heartbeat loop got no answer within 100s"),
        check.livenessProblem());
    status.heartbeatFailed("HTTP 503");
    assertEquals(Optional.empty(), check.livenessProblem(), "a failure is an answer too");
  }

  @Test
  void theStallLimitFollowsAReload() {
    FleetHealthCheck check = new FleetHealthCheck(status, Duration.ofSeconds(100));
    clock.advance(Duration.ofSeconds(50));
    check.stallLimit(Duration.ofSeconds(10));
    assertEquals(
        Optional.of("the registration/heartbeat loop got no answer within 10s"),
        check.livenessProblem());
  }

  @Test
  void readyOnceRegisteredWithTheLastErrorUntilThen() {
    FleetHealthCheck check = new FleetHealthCheck(status, Duration.ofSeconds(100));
    assertEquals(Optional.of("not registered with sigma-api"), check.readinessProblem());
    status.registrationFailed("HTTP 401");
    assertEquals(
        Optional.of("not registered with sigma-api (last error: HTTP 401)"),
        check.readinessProblem());
    status.registered();
    assertEquals(Optional.empty(), check.readinessProblem());
    status.deregistered();
    assertEquals(Optional.of("not registered with sigma-api"), check.readinessProblem());
  }
}
