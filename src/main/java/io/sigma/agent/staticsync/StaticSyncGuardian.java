package io.sigma.agent.staticsync;

import io.sigma.agent.api.SigmaApi;
import io.sigma.agent.config.EnvoyConfigSync;
import io.sigma.agent.metrics.AgentMetrics;
import io.sigma.agent.retry.Backoff;
import java.time.Clock;
import java.time.Duration;
import java.util.SplittableRandom;
import java.util.concurrent.Executor;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.SupervisorStrategy;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;

/**
 * Starts the static-config sync ({@code --envoy-config-sync}) under a parent: its metrics and its
 * supervised {@link StaticSyncActor}. The caller tells the returned actor {@link
 * StaticSyncActor.VpsKnown} once registration knows the VPS id.
 */
public final class StaticSyncGuardian {
  public static final String NAME = "envoy-static-sync";

  private StaticSyncGuardian() {}

  public static ActorRef<StaticSyncActor.Command> spawn(
      ActorContext<?> parent,
      EnvoyConfigSync config,
      SigmaApi api,
      AgentMetrics metrics,
      Backoff backoff,
      String hostname,
      Executor blockingReads) {
    StaticSyncActor.Settings settings =
        new StaticSyncActor.Settings(
            new ConfigFileSet(config.paths(), config.excludes()),
            config.interval(),
            backoff,
            hostname,
            blockingReads);
    return parent.spawn(
        Behaviors.supervise(
                StaticSyncActor.create(
                    settings,
                    api,
                    new StaticSyncMetrics(metrics),
                    Clock.systemUTC(),
                    new SplittableRandom()))
            .onFailure(
                SupervisorStrategy.restartWithBackoff(
                    Duration.ofSeconds(1), Duration.ofMinutes(1), 0.2)),
        NAME);
  }
}
