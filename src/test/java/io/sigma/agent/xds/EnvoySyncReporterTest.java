package io.sigma.agent.xds;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

class EnvoySyncReporterTest {

  private static final ActorTestKit kit = ActorTestKit.create();
  private static final Duration AWAIT = Duration.ofSeconds(10);

  @AfterAll
  static void stop() {
    kit.shutdownTestKit();
  }

  @Test
  void publishesTheReportOfTheRegistryAndClearsItWhenTheRegistryStopsAnswering() {
    TestProbe<SnapshotRegistry.Command> registry = kit.createTestProbe();
    EnvoySyncReporter.Latest latest =
        new EnvoySyncReporter.Latest(Clock.systemUTC(), Duration.ofMinutes(1));
    EnvoySyncReporter.Settings settings =
        new EnvoySyncReporter.Settings(
            Duration.ofMillis(200), Duration.ofMillis(300), Duration.ofMinutes(1));
    kit.spawn(EnvoySyncReporter.create(registry.ref(), latest, settings));

    answer(registry, new XdsStatus(List.of(new NodeStatus("edge", 4L, "40", 1, 1, 1, List.of()))));
    kit.createTestProbe()
        .awaitAssert(
            AWAIT,
            () -> {
              assertEquals(
                  4L, latest.current().orElseThrow().get("edge").get("config_version").asLong());
              return null;
            });

    // The next asks go unanswered: after the ask timeout the report is gone, and the heartbeat
    // (reading current()) goes without it instead of waiting.
    registry.expectMessageClass(SnapshotRegistry.GetStatus.class, AWAIT);
    kit.createTestProbe()
        .awaitAssert(
            AWAIT,
            () -> {
              assertTrue(latest.current().isEmpty());
              return null;
            });

    // Answering again brings it back (an ask that timed out meanwhile is answered in vain: the
    // next one is answered then).
    kit.createTestProbe()
        .awaitAssert(
            AWAIT,
            () -> {
              answer(registry, new XdsStatus(List.of()));
              kit.createTestProbe()
                  .awaitAssert(
                      Duration.ofMillis(500),
                      () -> {
                        assertEquals(0, latest.current().orElseThrow().size());
                        return null;
                      });
              return null;
            });
  }

  @Test
  void aReportOlderThanMaxAgeIsNotHandedOut() {
    MutableClock clock = new MutableClock(Instant.parse("2026-11-26T10:00:00Z"));
    EnvoySyncReporter.Latest latest = new EnvoySyncReporter.Latest(clock, Duration.ofSeconds(30));
    latest.publish(EnvoySyncReport.of(new XdsStatus(List.of())));

    clock.now = clock.now.plusSeconds(30);
    assertTrue(latest.current().isPresent(), "30 s old: still fresh");
    clock.now = clock.now.plusMillis(1);
    assertTrue(latest.current().isEmpty(), "older than 30 s: a stuck reporter");
  }

  @Test
  void readersGetACopyTheyCannotChange() {
    EnvoySyncReporter.Latest latest =
        new EnvoySyncReporter.Latest(Clock.systemUTC(), Duration.ofMinutes(1));
    latest.publish(EnvoySyncReport.of(new XdsStatus(List.of())));

    latest.current().orElseThrow().put("injected", 1);

    assertEquals(0, latest.current().orElseThrow().size());
  }

  @Test
  void settingsMustBePositive() {
    assertThrows(
        IllegalArgumentException.class,
        () ->
            new EnvoySyncReporter.Settings(
                Duration.ZERO, Duration.ofSeconds(1), Duration.ofSeconds(1)));
    assertThrows(
        IllegalArgumentException.class,
        () ->
            new EnvoySyncReporter.Settings(
                Duration.ofSeconds(1), Duration.ofSeconds(-1), Duration.ofSeconds(1)));
    assertThrows(
        IllegalArgumentException.class,
        () ->
            new EnvoySyncReporter.Settings(
                Duration.ofSeconds(1), Duration.ofSeconds(1), Duration.ZERO));
  }

  private static void answer(TestProbe<SnapshotRegistry.Command> registry, XdsStatus status) {
    SnapshotRegistry.GetStatus ask =
        registry.expectMessageClass(SnapshotRegistry.GetStatus.class, AWAIT);
    ActorRef<XdsStatus> replyTo = ask.replyTo();
    replyTo.tell(status);
  }

  private static final class MutableClock extends Clock {
    Instant now;

    MutableClock(Instant now) {
      this.now = now;
    }

    @Override
    public Instant instant() {
      return now;
    }

    @Override
    public java.time.ZoneId getZone() {
      return ZoneOffset.UTC;
    }

    @Override
    public Clock withZone(java.time.ZoneId zone) {
      return this;
    }
  }
}
