package io.sigma.agent.testing;

import io.sigma.agent.config.AgentConfig;
import io.sigma.agent.config.ConfigLoader;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.function.Function;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;

/**
 * Starting a feature guardian in a test as the agent's root does: settings from flags, a parent.
 */
public final class FeatureStart {
  private FeatureStart() {}

  /** The settings of these flags alone (no config file, no environment); invalid ones fail. */
  public static AgentConfig config(String... args) {
    ConfigLoader.Outcome outcome =
        ConfigLoader.load(args, Map.of(), "test", Path.of("/nonexistent/agent.conf"));
    if (outcome instanceof ConfigLoader.Outcome.Exit exit) {
      throw new AssertionError(exit.message());
    }
    return ((ConfigLoader.Outcome.Run) outcome).config();
  }

  /**
   * Runs {@code start} in the setup of a new actor (the feature's children become its children) and
   * returns what it returned.
   */
  public static <F> F start(ActorTestKit kit, Function<ActorContext<Void>, F> start) {
    TestProbe<F> started = kit.createTestProbe();
    kit.spawn(
        Behaviors.<Void>setup(
            ctx -> {
              started.ref().tell(start.apply(ctx));
              return Behaviors.empty();
            }));
    return started.receiveMessage(Duration.ofSeconds(20));
  }
}
