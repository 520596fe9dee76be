package io.sigma.agent.health;

import java.util.Optional;

/**
 * One part of the agent as the health endpoints see it, registered with {@link AgentHealth} by the
 * part itself (e.g. the fleet feature: is the registration loop turning, is the agent registered).
 * Called from any thread on every probe: read volatile state, never block.
 */
public interface HealthCheck {
  /** Why the part is stuck so that only a restart helps, or empty. */
  Optional<String> livenessProblem();

  /** Why the part cannot serve yet (beyond its liveness problem), or empty. */
  Optional<String> readinessProblem();
}
