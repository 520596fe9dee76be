package io.sigma.agent.reload;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;

import io.sigma.agent.AgentRuntime;
import io.sigma.agent.config.AgentConfig;
import io.sigma.agent.config.ConfigLoader;
import java.time.Duration;
import java.util.List;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/**
 * The reloader hands every valid config to every target with the config in effect before it; an
 * invalid one reaches no target and changes nothing.
 */
class ConfigReloaderTest {
  private static final ActorTestKit KIT = ActorTestKit.create(AgentRuntime.pekkoConfig());

  /** What one target was called with. */
  private record Applied(AgentConfig applied, AgentConfig loaded) {}

  private final TestProbe<Applied> first = KIT.createTestProbe();
  private final TestProbe<Applied> second = KIT.createTestProbe();

  @AfterAll
  static void stop() {
    KIT.shutdownTestKit();
  }

  private ActorRef<ConfigReloader.Command> reloader(AgentConfig started) {
    return KIT.spawn(
        ConfigReloader.create(
            started,
            List.of(
                (applied, loaded) -> first.ref().tell(new Applied(applied, loaded)),
                (applied, loaded) -> second.ref().tell(new Applied(applied, loaded)))));
  }

  private static ConfigLoader.Outcome load(String... args) {
    return ConfigLoader.load(
        args, java.util.Map.of(), "test", java.nio.file.Path.of("/nonexistent/agent.conf"));
  }

  @Test
  void everyTargetGetsTheConfigInEffectAndTheOneJustRead() {
    AgentConfig started = ConfigChangesTest.config();
    ActorRef<ConfigReloader.Command> reloader = reloader(started);

    ConfigLoader.Outcome once = load("--interval", "5");
    reloader.tell(new ConfigReloader.Reload(once));
    Applied toFirst = first.receiveMessage();
    assertSame(started, toFirst.applied());
    assertEquals(Duration.ofSeconds(5), toFirst.loaded().interval());
    assertEquals(toFirst, second.receiveMessage(), "the second target is told the same");

    // The next reload compares with the last one applied, not with the start.
    ConfigLoader.Outcome twice = load("--interval", "7");
    reloader.tell(new ConfigReloader.Reload(twice));
    Applied next = first.receiveMessage();
    assertEquals(toFirst.loaded(), next.applied());
    assertEquals(Duration.ofSeconds(7), next.loaded().interval());
    second.receiveMessage();
  }

  @Test
  void anInvalidConfigReachesNoTargetAndKeepsTheRunningOne() {
    ActorRef<ConfigReloader.Command> reloader = reloader(ConfigChangesTest.config());
    ConfigLoader.Outcome good = load("--interval", "5");
    reloader.tell(new ConfigReloader.Reload(good));
    AgentConfig applied = first.receiveMessage().loaded();
    second.receiveMessage();

    reloader.tell(new ConfigReloader.Reload(load("--interval", "0")));
    first.expectNoMessage(Duration.ofMillis(200));
    second.expectNoMessage(Duration.ZERO);

    reloader.tell(new ConfigReloader.Reload(load("--interval", "9")));
    Applied after = first.receiveMessage();
    assertEquals(applied, after.applied(), "the invalid config was never applied");
    assertEquals(Duration.ofSeconds(9), after.loaded().interval());
  }
}
