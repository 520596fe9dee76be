package io.sigma.agent.health;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.Supplier;
import org.apache.pekko.actor.ActorSystem;

/**
 * pekko-management readiness check ({@code pekko.management.health-checks.readiness-checks}):
 * {@link AgentHealth#readinessProblem()}. Instantiated by reflection with the actor system. A
 * failing check answers {@code false} rather than failing its future: pekko-management logs the
 * former at INFO (off by default) and the latter at WARN on every probe. {@link HealthRoutes} puts
 * the reason in the answer.
 */
public final class ReadinessCheck implements Supplier<CompletionStage<Boolean>> {
  private final AgentHealth health;

  public ReadinessCheck(ActorSystem system) {
    this.health = AgentHealth.get(system);
  }

  @Override
  public CompletionStage<Boolean> get() {
    return CompletableFuture.completedFuture(health.readinessProblem().isEmpty());
  }
}
