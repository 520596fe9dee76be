package io.sigma.agent.staticsync;

import io.sigma.agent.api.SigmaApi;
import io.sigma.agent.config.AgentConfig;
import io.sigma.agent.config.EnvoyConfigSync;
import io.sigma.agent.feature.FeatureGuardian;
import io.sigma.agent.feature.Supervision;
import io.sigma.agent.metrics.AgentMetrics;
import io.sigma.agent.retry.Backoff;
import java.time.Clock;
import java.util.SplittableRandom;
import java.util.concurrent.Executor;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.javadsl.ActorContext;

/**
 * The static-config sync feature ({@code --envoy-config-sync}): spawns the supervised {@link
 * StaticSyncActor} with its metrics, and tells it the VPS id whenever the fleet learns it (the sync
 * waits for it before its first request). Its series are recorded as syncs go, so they are
 * registered at start rather than through {@link #metrics()}.
 */
public final class StaticSyncGuardian implements FeatureGuardian {
  public static final String NAME = "envoy-static-sync";

  private final ActorRef<StaticSyncActor.Command> sync;

  private StaticSyncGuardian(ActorRef<StaticSyncActor.Command> sync) {
    this.sync = sync;
  }

  /**
   * Spawns the sync as a child of {@code parent}, named {@value #NAME}.
   *
   * @param hostname names the nodes the synced files go to ({@code static-<hostname>...})
   * @param blockingReads where the config files are read and hashed (file IO, off the actors)
   */
  public static StaticSyncGuardian start(
      ActorContext<?> parent,
      AgentConfig config,
      SigmaApi api,
      AgentMetrics metrics,
      String hostname,
      Executor blockingReads) {
    EnvoyConfigSync sync = config.envoyConfigSync();
    StaticSyncActor.Settings settings =
        new StaticSyncActor.Settings(
            new ConfigFileSet(sync.paths(), sync.excludes()),
            sync.interval(),
            new Backoff(config.backoffInitial(), config.backoffMax()),
            hostname,
            blockingReads);
    return new StaticSyncGuardian(
        parent.spawn(
            Supervision.restartWithBackoff(
                StaticSyncActor.create(
                    settings,
                    api,
                    new StaticSyncMetrics(metrics),
                    Clock.systemUTC(),
                    new SplittableRandom())),
            NAME));
  }

  @Override
  public void vpsKnown(String vpsId) {
    sync.tell(new StaticSyncActor.VpsKnown(vpsId));
  }
}
