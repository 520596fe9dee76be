package io.sigma.agent.reload;

import io.sigma.agent.config.AgentConfig;
import io.sigma.agent.config.ConfigLoader;
import io.sigma.agent.config.LogLevel;
import io.sigma.agent.fleet.RegistrationActor;
import io.sigma.agent.ports.AllocationToken;
import io.sigma.agent.xds.ConfigPoller;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.slf4j.Logger;

/**
 * Applies a config re-read on SIGHUP: a bad one is logged with its reason and the running one
 * stays; of a good one, the heartbeat and xDS poll intervals go to their actors as messages, the
 * log level and the allocation token take effect at once, and every other change is logged as
 * taking effect after a restart.
 */
public final class ConfigReloader {
  public sealed interface Command {}

  /** The outcome of {@link ConfigLoader#load} run again with the original flags. */
  public record Reload(ConfigLoader.Outcome outcome) implements Command {}

  /**
   * What the live settings are applied to.
   *
   * @param poller empty without --xds-enabled
   * @param allocateToken read by POST /ports/allocate on every request
   * @param heartbeatInterval told the new heartbeat interval besides the registration actor (the
   *     liveness check's stall limit follows it)
   */
  public record Targets(
      ActorRef<RegistrationActor.Command> registration,
      Optional<ActorRef<ConfigPoller.Command>> poller,
      AtomicReference<Optional<AllocationToken>> allocateToken,
      Consumer<LogLevel> logLevel,
      Consumer<Duration> heartbeatInterval) {}

  private ConfigReloader() {}

  /**
   * @param started the config the agent started with, as loaded (before --dev changes it)
   */
  public static Behavior<Command> create(AgentConfig started, Targets targets) {
    return Behaviors.setup(ctx -> running(ctx.getLog(), started, started, targets));
  }

  private static Behavior<Command> running(
      Logger log, AgentConfig started, AgentConfig applied, Targets targets) {
    return Behaviors.receive(Command.class)
        .onMessage(
            Reload.class,
            reload -> {
              if (reload.outcome() instanceof ConfigLoader.Outcome.Exit invalid) {
                log.warn(
                    "SIGHUP: the configuration is invalid, keeping the running one: {}",
                    invalid.message().replaceFirst("^sigma-agent: ", ""));
                return Behaviors.same();
              }
              AgentConfig loaded = ((ConfigLoader.Outcome.Run) reload.outcome()).config();
              ConfigChanges changes = ConfigChanges.between(applied, started, loaded);
              apply(applied, loaded, targets);
              String from = "config file " + loaded.configFile().map(Path::toString).orElse("none");
              if (changes.isEmpty()) {
                log.info("SIGHUP: configuration re-read ({}): no changes", from);
              } else {
                log.info(
                    "SIGHUP: configuration re-read ({}): {}{}",
                    from,
                    changes.live().isEmpty()
                        ? "nothing to apply live"
                        : "applied " + String.join(", ", changes.live()),
                    changes.restart().isEmpty()
                        ? ""
                        : "; changed, takes effect after a restart: "
                            + String.join(", ", changes.restart()));
              }
              return running(log, started, loaded, targets);
            })
        .build();
  }

  private static void apply(AgentConfig applied, AgentConfig loaded, Targets targets) {
    if (!loaded.interval().equals(applied.interval())) {
      targets.registration().tell(new RegistrationActor.IntervalChanged(loaded.interval()));
      targets.heartbeatInterval().accept(loaded.interval());
    }
    if (!loaded.xdsPollInterval().equals(applied.xdsPollInterval())) {
      targets
          .poller()
          .ifPresent(p -> p.tell(new ConfigPoller.IntervalChanged(loaded.xdsPollInterval())));
    }
    if (loaded.logLevel() != applied.logLevel()) {
      targets.logLevel().accept(loaded.logLevel());
    }
    targets.allocateToken().set(loaded.allocateToken());
  }
}
