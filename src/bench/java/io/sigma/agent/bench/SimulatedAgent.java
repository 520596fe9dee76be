package io.sigma.agent.bench;

import io.sigma.agent.api.SigmaApi;
import io.sigma.agent.feature.Supervision;
import io.sigma.agent.fleet.FleetStatus;
import io.sigma.agent.fleet.HostFacts;
import io.sigma.agent.fleet.RegistrationActor;
import io.sigma.agent.metrics.AgentMetrics;
import io.sigma.agent.xds.ConfigPoller;
import io.sigma.agent.xds.NodeConfigStore;
import io.sigma.agent.xds.SnapshotRegistry;
import io.sigma.agent.xds.XdsMetrics;
import java.nio.file.Path;
import java.time.Clock;
import java.util.SplittableRandom;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.DispatcherSelector;
import org.apache.pekko.actor.typed.javadsl.Behaviors;

/**
 * One simulated agent: the parts of {@code AgentGuardian} that talk to sigma-api, built the same
 * way and each its own (client, host facts, status, metrics registry, state dir, random source; the
 * same supervision and dispatchers): the registration actor, and with xDS on, the snapshot registry
 * and the config poller. Left out is what serves the host rather than calls the API (metrics and
 * ADS servers, port scans, public IP look-up, /proc).
 */
final class SimulatedAgent {
  /**
   * Everything one agent owns; nothing is shared with another agent. {@code seed} seeds the agent's
   * random sources (one per actor, as in the agent); {@code xds} null: no xDS.
   */
  record Parts(
      RegistrationActor.Settings settings,
      SigmaApi api,
      HostFacts host,
      FleetStatus status,
      long seed,
      ConfigPoller.Settings xds,
      Path stateDir) {}

  private SimulatedAgent() {}

  static Behavior<Void> create(Parts parts) {
    return Behaviors.setup(
        ctx -> {
          ActorRef<RegistrationActor.Command> registration =
              ctx.spawn(
                  supervised(
                      RegistrationActor.create(
                          parts.settings(),
                          parts.api(),
                          parts.host(),
                          parts.status(),
                          new SplittableRandom(parts.seed()))),
                  "registration");
          if (parts.xds() != null) {
            Clock clock = Clock.systemUTC();
            XdsMetrics metrics =
                new XdsMetrics(new AgentMetrics(parts.host().hostname(), false, false));
            ActorRef<SnapshotRegistry.Command> registry =
                ctx.spawn(SnapshotRegistry.create(), "xds-registry");
            ActorRef<ConfigPoller.Command> poller =
                ctx.spawn(
                    supervised(
                        ConfigPoller.create(
                            parts.xds(),
                            parts.api(),
                            registry,
                            new NodeConfigStore(parts.stateDir().resolve("xds"), clock),
                            metrics,
                            clock,
                            new SplittableRandom(~parts.seed()))),
                    "xds-poller",
                    DispatcherSelector.fromConfig(ConfigPoller.DISPATCHER));
            registration.tell(
                new RegistrationActor.Subscribe(
                    ctx.spawn(
                        Behaviors.receive(RegistrationActor.Registered.class)
                            .onMessage(
                                RegistrationActor.Registered.class,
                                registered -> {
                                  poller.tell(new ConfigPoller.VpsKnown(registered.vpsId()));
                                  return Behaviors.same();
                                })
                            .build(),
                        "xds-vps-id")));
          }
          return Behaviors.empty();
        });
  }

  /** As the agent's features: a crashed child restarts after a growing pause. */
  private static <T> Behavior<T> supervised(Behavior<T> behavior) {
    return Supervision.restartWithBackoff(behavior);
  }
}
