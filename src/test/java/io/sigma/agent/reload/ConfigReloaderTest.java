package io.sigma.agent.reload;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sigma.agent.AgentRuntime;
import io.sigma.agent.config.AgentConfig;
import io.sigma.agent.config.ConfigLoader;
import io.sigma.agent.config.LogLevel;
import io.sigma.agent.fleet.RegistrationActor;
import io.sigma.agent.ports.AllocationToken;
import io.sigma.agent.xds.ConfigPoller;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

class ConfigReloaderTest {
  private static final ActorTestKit KIT = ActorTestKit.create(AgentRuntime.pekkoConfig());

  private final TestProbe<RegistrationActor.Command> registration = KIT.createTestProbe();
  private final TestProbe<ConfigPoller.Command> poller = KIT.createTestProbe();
  private final AtomicReference<Optional<AllocationToken>> token =
      new AtomicReference<>(Optional.empty());
  private final List<LogLevel> levels = new CopyOnWriteArrayList<>();
  private final List<Duration> heartbeatIntervals = new CopyOnWriteArrayList<>();

  @AfterAll
  static void stop() {
    KIT.shutdownTestKit();
  }

  private ActorRef<ConfigReloader.Command> reloader(AgentConfig started) {
    return KIT.spawn(
        ConfigReloader.create(
            started,
            new ConfigReloader.Targets(
                registration.ref(),
                Optional.of(poller.ref()),
                token,
                levels::add,
                heartbeatIntervals::add)));
  }

  private static ConfigReloader.Reload reload(String... args) {
    return new ConfigReloader.Reload(
        ConfigLoader.load(
            args, java.util.Map.of(), "test", java.nio.file.Path.of("/nonexistent/agent.conf")));
  }

  @Test
  void liveSettingsReachTheirOwners() {
    ActorRef<ConfigReloader.Command> reloader = reloader(ConfigChangesTest.config());
    reloader.tell(
        reload(
            "--interval",
            "5",
            "--xds-poll-interval",
            "2",
            "--log-level",
            "trace",
            "--allocate-token",
            "t0k"));
    assertEquals(
        new RegistrationActor.IntervalChanged(Duration.ofSeconds(5)),
        registration.expectMessageClass(RegistrationActor.IntervalChanged.class));
    assertEquals(
        new ConfigPoller.IntervalChanged(Duration.ofSeconds(2)),
        poller.expectMessageClass(ConfigPoller.IntervalChanged.class));
    registration.awaitAssert(
        () -> {
          assertEquals(List.of(LogLevel.TRACE), levels);
          assertEquals(List.of(Duration.ofSeconds(5)), heartbeatIntervals);
          assertTrue(token.get().orElseThrow().matches("t0k"));
          return null;
        });

    // The same again changes nothing; a bad config keeps the running one.
    reloader.tell(
        reload(
            "--interval",
            "5",
            "--xds-poll-interval",
            "2",
            "--log-level",
            "trace",
            "--allocate-token",
            "t0k"));
    reloader.tell(reload("--interval", "0"));
    reloader.tell(reload("--interval", "5", "--xds-poll-interval", "2", "--log-level", "trace"));
    registration.awaitAssert(
        () -> {
          assertEquals(Optional.empty(), token.get(), "removed by the last reload");
          return null;
        });
    registration.expectNoMessage(Duration.ofMillis(100));
    poller.expectNoMessage(Duration.ZERO);
    assertEquals(1, levels.size());
  }
}
