package io.sigma.agent;

import io.sigma.agent.config.ConfigLoader;
import io.sigma.agent.config.ConfigLoader.Outcome;
import io.sigma.agent.logging.AgentLogConfigurator;
import io.sigma.agent.metrics.Version;
import io.sigma.agent.reload.ProcessSignals;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.pekko.actor.CoordinatedShutdown;
import org.apache.pekko.actor.typed.ActorSystem;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code java -jar sigma-agent.jar [flags]}: parse the settings, then run until SIGTERM or SIGINT.
 * SIGHUP re-reads the settings (flags as given, the environment, the config file).
 */
public final class Main {
  private Main() {}

  public static void main(String[] args) {
    Outcome outcome = ConfigLoader.load(args, System.getenv(), Version.describe());
    if (outcome instanceof Outcome.Exit exit) {
      (exit.status() == 0 ? System.out : System.err).println(exit.message());
      System.exit(exit.status());
      return;
    }
    Outcome.Run run = (Outcome.Run) outcome;
    AgentLogConfigurator.apply(run.config().logLevel(), run.config().logFormat());
    Logger log = LoggerFactory.getLogger(Main.class);
    AtomicReference<ActorSystem<AgentGuardian.Command>> agent = new AtomicReference<>();
    // Installed first: the JVM's own SIGHUP handling would stop the agent while it starts.
    ProcessSignals.onHangup(
        () -> {
          ActorSystem<AgentGuardian.Command> system = agent.get();
          if (system == null) {
            log.info("SIGHUP: the agent is still starting; send it again once it runs");
            return;
          }
          log.info("SIGHUP: re-reading the configuration");
          system.tell(
              new AgentGuardian.ReloadConfig(
                  ConfigLoader.load(args, System.getenv(), Version.describe())));
        });
    log.info("sigma-agent {} starting: {}", Version.describe(), run.config().summary());
    // SIGTERM and SIGINT run Pekko's CoordinatedShutdown (named after the signal; the JVM then
    // exits with 143 or 130). The system also stops by itself when the agent cannot start (a
    // port it must bind is taken): exit 1 then.
    ActorSystem<AgentGuardian.Command> system =
        ActorSystem.create(
            AgentGuardian.create(run.config()),
            "sigma-agent",
            AgentRuntime.pekkoConfig(run.config()));
    agent.set(system);
    ProcessSignals.onStop(signal -> CoordinatedShutdown.get(system).runAll(new StopSignal(signal)));
    system.getWhenTerminated().toCompletableFuture().join();
    boolean failed =
        CoordinatedShutdown.get(system)
            .getShutdownReason()
            .map(StartupFailure.INSTANCE::equals)
            .orElse(false);
    System.exit(failed ? 1 : 0);
  }
}
