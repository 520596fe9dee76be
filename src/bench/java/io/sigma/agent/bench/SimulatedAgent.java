package io.sigma.agent.bench;

import io.sigma.agent.api.SigmaApi;
import io.sigma.agent.fleet.FleetStatus;
import io.sigma.agent.fleet.HostFacts;
import io.sigma.agent.fleet.RegistrationActor;
import java.time.Duration;
import java.util.random.RandomGenerator;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.SupervisorStrategy;
import org.apache.pekko.actor.typed.javadsl.Behaviors;

/**
 * One simulated agent: the part of {@code AgentGuardian} that talks to sigma-api, built the same
 * way (its own client, host facts, status and random source; the same supervision), minus what
 * only a real host has (metrics server, public IP look-up, /proc).
 */
final class SimulatedAgent {
  /** Everything one agent owns; nothing is shared with another agent. */
  record Parts(RegistrationActor.Settings settings, SigmaApi api, HostFacts host,
      FleetStatus status, RandomGenerator random) {}

  private SimulatedAgent() {}

  static Behavior<Void> create(Parts parts) {
    return Behaviors.setup(ctx -> {
      ctx.spawn(supervised(RegistrationActor.create(parts.settings(), parts.api(), parts.host(),
          parts.status(), parts.random())), "registration");
      return Behaviors.empty();
    });
  }

  /** As {@code AgentGuardian.supervised}: a crashed child restarts after a growing pause. */
  private static <T> Behavior<T> supervised(Behavior<T> behavior) {
    return Behaviors.supervise(behavior).onFailure(
        SupervisorStrategy.restartWithBackoff(Duration.ofSeconds(1), Duration.ofMinutes(1), 0.2));
  }
}
