package io.sigma.agent;

import io.sigma.agent.config.ConfigLoader;
import io.sigma.agent.config.ConfigLoader.Outcome;
import org.apache.pekko.actor.CoordinatedShutdown;
import org.apache.pekko.actor.typed.ActorSystem;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** {@code java -jar sigma-agent.jar [flags]}: parse the settings, then run until SIGTERM. */
public final class Main {
  private Main() {}

  public static void main(String[] args) {
    Outcome outcome = ConfigLoader.load(args, System.getenv(), Version.current());
    if (outcome instanceof Outcome.Exit exit) {
      (exit.status() == 0 ? System.out : System.err).println(exit.message());
      System.exit(exit.status());
      return;
    }
    Outcome.Run run = (Outcome.Run) outcome;
    Logger log = LoggerFactory.getLogger(Main.class);
    log.info("sigma-agent {} starting: {}", Version.current(), run.config().summary());
    // SIGTERM runs Pekko's CoordinatedShutdown from its JVM shutdown hook. The system also
    // stops by itself when the agent cannot start (a port it must bind is taken): exit 1 then.
    ActorSystem<AgentGuardian.Command> system =
        ActorSystem.create(AgentGuardian.create(run.config()), "sigma-agent",
            AgentRuntime.pekkoConfig(run.config()));
    system.getWhenTerminated().toCompletableFuture().join();
    boolean failed = CoordinatedShutdown.get(system).getShutdownReason()
        .map(StartupFailure.INSTANCE::equals).orElse(false);
    System.exit(failed ? 1 : 0);
  }
}
