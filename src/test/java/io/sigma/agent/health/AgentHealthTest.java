package io.sigma.agent.health;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sigma.agent.AgentRuntime;
import java.util.Optional;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class AgentHealthTest {
  private final ActorTestKit testKit = ActorTestKit.create(AgentRuntime.pekkoConfig());

  /** A part whose problems the test sets. */
  private static final class Part implements HealthCheck {
    volatile Optional<String> liveness = Optional.empty();
    volatile Optional<String> readiness = Optional.empty();

    @Override
    public Optional<String> livenessProblem() {
      return liveness;
    }

    @Override
    public Optional<String> readinessProblem() {
      return readiness;
    }
  }

  @AfterEach
  void stop() {
    testKit.shutdownTestKit();
  }

  @Test
  void aliveUntilARegisteredPartHasALivenessProblem() {
    AgentHealth health = AgentHealth.get(testKit.system());
    assertEquals(Optional.empty(), health.livenessProblem(), "alive while starting");
    Part fleet = new Part();
    Part other = new Part();
    health.register("fleet", fleet);
    health.register("other", other);
    assertEquals(Optional.empty(), health.livenessProblem());
    fleet.liveness = Optional.of("the loop is stuck");
    assertEquals(Optional.of("the loop is stuck"), health.livenessProblem());
    other.liveness = Optional.of("so is this");
    assertEquals(Optional.of("the loop is stuck; so is this"), health.livenessProblem());
    assertTrue(
        health.readinessProblem().orElseThrow().startsWith("the loop is stuck; so is this"),
        "not alive is not ready either: " + health.readinessProblem());
  }

  @Test
  void notReadyWhileStartingWithAPartNotReadyOrWithUnboundEndpoints() {
    AgentHealth health = AgentHealth.get(testKit.system());
    assertEquals(Optional.of("the agent is still starting"), health.readinessProblem());
    Part fleet = new Part();
    fleet.readiness = Optional.of("not registered with sigma-api");
    health.register("fleet", fleet);
    health.expectEndpoint("metrics server");
    health.expectEndpoint("xDS server");
    assertEquals(
        Optional.of(
            "not registered with sigma-api; not bound yet: metrics server, " + "xDS server"),
        health.readinessProblem());
    health.endpointBound("metrics server");
    health.endpointBound("xDS server");
    assertEquals(Optional.of("not registered with sigma-api"), health.readinessProblem());
    fleet.readiness = Optional.empty();
    assertEquals(Optional.empty(), health.readinessProblem());
  }

  @Test
  void aCheckRegisteredAgainUnderItsNameReplacesTheOldOne() {
    AgentHealth health = AgentHealth.get(testKit.system());
    Part stuck = new Part();
    stuck.liveness = Optional.of("stuck");
    health.register("fleet", stuck);
    health.register("fleet", new Part());
    assertEquals(Optional.empty(), health.livenessProblem());
    assertEquals(Optional.empty(), health.readinessProblem());
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
