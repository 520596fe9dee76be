package io.sigma.agent.fleet;

import io.sigma.agent.api.IpAddress;
import io.sigma.agent.api.SigmaApi;
import io.sigma.agent.config.AgentConfig;
import io.sigma.agent.feature.FeatureGuardian;
import io.sigma.agent.feature.MetricsBinder;
import io.sigma.agent.feature.Supervision;
import io.sigma.agent.health.AgentHealth;
import io.sigma.agent.host.PublicIpLookup;
import io.sigma.agent.retry.Backoff;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.SplittableRandom;
import java.util.function.Supplier;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.javadsl.ActorContext;

/**
 * The fleet feature: the agent's membership of sigma-api's fleet. Spawns the supervised {@link
 * RegistrationActor} (register, heartbeat) and, with --public-ip-lookup, the {@link
 * PublicIpWatcher}; exports the loop's series ({@link FleetMetrics}); registers the loop's health
 * with {@link AgentHealth} ({@link FleetHealthCheck}); applies a reloaded --interval. Other
 * features learn the VPS id through {@link #subscribe}.
 */
public final class FleetGuardian implements FeatureGuardian {
  /** The name of the fleet's check in {@link AgentHealth}. */
  static final String HEALTH_CHECK = "fleet";

  /**
   * What the fleet needs from the agent's root.
   *
   * @param api sigma-api's client
   * @param host the facts every request reports
   * @param addresses the host's addresses, read afresh (the public-IP watcher decides by them
   *     whether the host is behind NAT)
   * @param extras more {@code system_info} objects from other features ({@link
   *     SystemInfoExtras#NONE} for none)
   */
  public record Dependencies(
      SigmaApi api, HostFacts host, Supplier<List<IpAddress>> addresses, SystemInfoExtras extras) {
    public Dependencies {
      Objects.requireNonNull(api, "api");
      Objects.requireNonNull(host, "host");
      Objects.requireNonNull(addresses, "addresses");
      Objects.requireNonNull(extras, "extras");
    }
  }

  private final ActorRef<RegistrationActor.Command> registration;
  private final FleetStatus status;
  private final FleetHealthCheck health;
  private final AgentConfig started;

  private FleetGuardian(
      ActorRef<RegistrationActor.Command> registration,
      FleetStatus status,
      FleetHealthCheck health,
      AgentConfig started) {
    this.registration = registration;
    this.status = status;
    this.health = health;
    this.started = started;
  }

  /** Spawns the fleet's actors as children of {@code ctx}'s actor and starts registering. */
  public static FleetGuardian start(ActorContext<?> ctx, AgentConfig config, Dependencies deps) {
    FleetStatus status = new FleetStatus(Clock.systemUTC());
    FleetHealthCheck health =
        new FleetHealthCheck(
            status,
            FleetHealthCheck.stallLimit(
                config.interval(), config.backoffMax(), config.requestTimeout()));
    AgentHealth.get(ctx.getSystem()).register(HEALTH_CHECK, health);
    RegistrationActor.Settings settings =
        new RegistrationActor.Settings(
            config.alias(),
            config.sshPort(),
            config.metricsEnabled() ? config.metricsPort() : null,
            config.interval(),
            new Backoff(config.backoffInitial(), config.backoffMax()));
    HostFacts host = new HostFactsWithExtras(deps.host(), deps.extras(), SystemInfoExtras.TIMEOUT);
    ActorRef<RegistrationActor.Command> registration =
        ctx.spawn(
            RegistrationActor.create(settings, deps.api(), host, status, new SplittableRandom()),
            "registration");
    if (config.publicIpLookup()) {
      PublicIpLookup lookup =
          new PublicIpLookup(
              ctx.getSystem(), config.publicIpServices(), PublicIpLookup.DEFAULT_TIMEOUT);
      ctx.spawn(
          Supervision.restartWithBackoff(
              PublicIpWatcher.create(
                  lookup, deps.addresses(), registration, PublicIpWatcher.Schedule.DEFAULT)),
          "public-ip");
    }
    return new FleetGuardian(registration, status, health, config);
  }

  /**
   * The registration actor, for the parts that follow the VPS id themselves (they send it {@link
   * RegistrationActor.Subscribe}).
   */
  public ActorRef<RegistrationActor.Command> registration() {
    return registration;
  }

  /** {@code subscriber} gets the VPS id now (if registered) and on every (re-)registration. */
  public void subscribe(ActorRef<RegistrationActor.Registered> subscriber) {
    registration.tell(new RegistrationActor.Subscribe(subscriber));
  }

  @Override
  public MetricsBinder metrics() {
    return metrics -> FleetMetrics.register(metrics, status);
  }

  /** --interval is live: the next heartbeat waits one new interval, the stall limit follows. */
  @Override
  public void apply(AgentConfig applied, AgentConfig loaded) {
    Duration interval = loaded.interval();
    if (!interval.equals(applied.interval())) {
      registration.tell(new RegistrationActor.IntervalChanged(interval));
      health.stallLimit(
          FleetHealthCheck.stallLimit(interval, started.backoffMax(), started.requestTimeout()));
    }
  }
}
