package io.sigma.agent.reload;

import io.sigma.agent.config.AgentConfig;
import io.sigma.agent.config.ConfigLoader;
import java.nio.file.Path;
import java.util.List;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.slf4j.Logger;

/**
 * Applies a config re-read on SIGHUP: a bad one is logged with its reason and the running one
 * stays; a good one goes to every {@link LiveSettings} target (the features tell their actors the
 * new intervals, the log level and the allocation token take effect at once), and every other
 * change is logged as taking effect after a restart. Knows the config only: the agent's root hands
 * it the targets.
 */
public final class ConfigReloader {
  public sealed interface Command {}

  /** The outcome of {@link ConfigLoader#load} run again with the original flags. */
  public record Reload(ConfigLoader.Outcome outcome) implements Command {}

  private ConfigReloader() {}

  /**
   * @param started the config the agent started with, as loaded (before --dev changes it)
   */
  public static Behavior<Command> create(AgentConfig started, List<LiveSettings> targets) {
    List<LiveSettings> all = List.copyOf(targets);
    return Behaviors.setup(ctx -> running(ctx.getLog(), started, started, all));
  }

  private static Behavior<Command> running(
      Logger log, AgentConfig started, AgentConfig applied, List<LiveSettings> targets) {
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
              targets.forEach(target -> target.apply(applied, loaded));
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
}
