package io.sigma.agent.health;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sigma.agent.AgentRuntime;
import io.sigma.agent.fleet.FleetStatus;
import io.sigma.agent.testing.MutableClock;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class AgentHealthTest {
  private final ActorTestKit testKit = ActorTestKit.create(AgentRuntime.pekkoConfig());
  private final MutableClock clock = new MutableClock(Instant.parse("2026-11-26T10:00:00Z"));

  @AfterEach
  void stop() {
    testKit.shutdownTestKit();
  }

  @Test
  void stallLimitIsTwiceTheLongestLegitimateGapBetweenAnswers() {
    // defaults: interval 60 s, backoff cap 300 s, request timeout 10 s
    assertEquals(
        Duration.ofSeconds(620),
        AgentHealth.stallLimit(
            Duration.ofSeconds(60), Duration.ofSeconds(300), Duration.ofSeconds(10)));
    // a long interval dominates a short backoff cap (the first heartbeat after a registration
    // may come 1.5 intervals later)
    assertEquals(
        Duration.ofSeconds(200),
        AgentHealth.stallLimit(
            Duration.ofSeconds(60), Duration.ofSeconds(1), Duration.ofSeconds(10)));
    assertEquals(
        Duration.ofMillis(3200),
        AgentHealth.stallLimit(
            Duration.ofSeconds(1), Duration.ofSeconds(1), Duration.ofMillis(100)));
  }

  @Test
  void aliveWhileTheLoopTurnsNotOnceItStalls() {
    AgentHealth health = AgentHealth.get(testKit.system());
    assertEquals(Optional.empty(), health.livenessProblem(), "alive while starting");
    health.watchFleet(new FleetStatus(clock), Duration.ofSeconds(100));
    assertEquals(Optional.empty(), health.livenessProblem());
    clock.advance(Duration.ofSeconds(100));
    assertEquals(Optional.empty(), health.livenessProblem());
    clock.advance(Duration.ofSeconds(1));
    assertEquals(
        Optional.of("the registration/heartbeat loop got no answer within 100s"),
        health.livenessProblem());
  }

  @Test
  void notReadyWhileStartingUnregisteredOrWithUnboundEndpoints() {
    AgentHealth health = AgentHealth.get(testKit.system());
    assertEquals(Optional.of("the agent is still starting"), health.readinessProblem());
    health.watchFleet(new FleetStatus(clock), Duration.ofSeconds(100));
    health.expectEndpoint("metrics server");
    health.expectEndpoint("xDS server");
    assertEquals(
        Optional.of(
            "not registered with sigma-api; not bound yet: metrics server, " + "xDS server"),
        health.readinessProblem());
    health.endpointBound("metrics server");
    health.endpointBound("xDS server");
    assertEquals(Optional.of("not registered with sigma-api"), health.readinessProblem());
  }

  @Test
  void aStalledLoopIsNotReadyEither() {
    AgentHealth health = AgentHealth.get(testKit.system());
    health.watchFleet(new FleetStatus(clock), Duration.ofSeconds(1));
    clock.advance(Duration.ofSeconds(2));
    assertTrue(
        health
            .readinessProblem()
            .orElseThrow()
            .startsWith("the registration/heartbeat loop got no answer within 1s"),
        health.readinessProblem()::toString);
  }

  @Test
  void notAliveOnceTheActorSystemTerminated() {
    ActorTestKit other = ActorTestKit.create(AgentRuntime.pekkoConfig());
    AgentHealth health = AgentHealth.get(other.system());
    assertEquals(Optional.empty(), health.livenessProblem());
    other.shutdownTestKit();
    assertTrue(health.livenessProblem().isPresent());
  }

  @Test
  void oneInstancePerActorSystem() {
    ActorTestKit other = ActorTestKit.create(AgentRuntime.pekkoConfig());
    try {
      assertSame(AgentHealth.get(testKit.system()), AgentHealth.get(testKit.system()));
      assertNotSame(AgentHealth.get(testKit.system()), AgentHealth.get(other.system()));
      AgentHealth.get(other.system()).expectEndpoint("metrics server");
      assertEquals(
          Optional.of("the agent is still starting"),
          AgentHealth.get(testKit.system()).readinessProblem());
    } finally {
      other.shutdownTestKit();
    }
  }
}
