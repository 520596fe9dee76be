package io.sigma.agent.xds;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.SupervisorStrategy;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;

/**
 * Keeps the {@link EnvoySyncReport} of the {@link SnapshotRegistry} ready for the heartbeat: asks
 * the registry for its status every {@link Settings#refreshEvery} (one ask at a time, with {@link
 * Settings#askTimeout}) and publishes the report in a {@link Latest}, which the heartbeat reads
 * without waiting. A registry that does not answer in time, or fails, clears the report; a report
 * older than {@link Settings#maxAge} is not handed out (the reporter is stuck or stopped). Either
 * way the heartbeat goes without {@code system_info.envoy}, never later.
 */
public final class EnvoySyncReporter {

  /** The reporter's protocol. */
  public sealed interface Command {}

  private enum Refresh implements Command {
    INSTANCE
  }

  private record StatusAnswered(XdsStatus status, Throwable error) implements Command {}

  /**
   * @param refreshEvery how often the registry is asked
   * @param askTimeout how long one ask may take
   * @param maxAge a report older than this is not handed out
   */
  public record Settings(Duration refreshEvery, Duration askTimeout, Duration maxAge) {
    /** Every 10 s, 2 s per ask, a report at most 35 s old (three refreshes missed). */
    public static final Settings DEFAULT =
        new Settings(Duration.ofSeconds(10), Duration.ofSeconds(2), Duration.ofSeconds(35));

    public Settings {
      if (!positive(refreshEvery) || !positive(askTimeout) || !positive(maxAge)) {
        throw new IllegalArgumentException("Envoy sync report durations must be positive");
      }
    }

    private static boolean positive(Duration duration) {
      return !duration.isNegative() && !duration.isZero();
    }
  }

  /**
   * The report last built, for readers on any thread (the heartbeat): {@link #current} never
   * blocks.
   */
  public static final class Latest {
    private record Published(ObjectNode report, Instant at) {}

    private final AtomicReference<Published> published = new AtomicReference<>();
    private final Clock clock;
    private final Duration maxAge;

    public Latest(Clock clock, Duration maxAge) {
      this.clock = clock;
      this.maxAge = maxAge;
    }

    /** The {@code system_info.envoy} object, unless none was built or the last is too old. */
    public Optional<ObjectNode> current() {
      Published last = published.get();
      if (last == null || clock.instant().isAfter(last.at().plus(maxAge))) {
        return Optional.empty();
      }
      return Optional.of(last.report().deepCopy());
    }

    void publish(ObjectNode report) {
      published.set(new Published(report, clock.instant()));
    }

    void clear() {
      published.set(null);
    }
  }

  private EnvoySyncReporter() {}

  /** Refreshes {@code latest} from {@code registry} at once, then every refresh period. */
  public static Behavior<Command> create(
      ActorRef<SnapshotRegistry.Command> registry, Latest latest, Settings settings) {
    return Behaviors.supervise(
            Behaviors.<Command>setup(
                context ->
                    Behaviors.withTimers(
                        timers -> {
                          timers.startTimerWithFixedDelay(
                              Refresh.INSTANCE, Duration.ZERO, settings.refreshEvery());
                          return new Reporter(context, registry, latest, settings).behavior();
                        })))
        .onFailure(Exception.class, SupervisorStrategy.restart());
  }

  private static final class Reporter {
    private final ActorContext<Command> context;
    private final ActorRef<SnapshotRegistry.Command> registry;
    private final Latest latest;
    private final Settings settings;
    private boolean asking;
    private int failures;

    Reporter(
        ActorContext<Command> context,
        ActorRef<SnapshotRegistry.Command> registry,
        Latest latest,
        Settings settings) {
      this.context = context;
      this.registry = registry;
      this.latest = latest;
      this.settings = settings;
    }

    Behavior<Command> behavior() {
      return Behaviors.receive(Command.class)
          .onMessageEquals(Refresh.INSTANCE, this::refresh)
          .onMessage(StatusAnswered.class, this::onAnswer)
          .build();
    }

    private Behavior<Command> refresh() {
      if (!asking) {
        asking = true;
        context.ask(
            XdsStatus.class,
            registry,
            settings.askTimeout(),
            SnapshotRegistry.GetStatus::new,
            StatusAnswered::new);
      }
      return Behaviors.same();
    }

    private Behavior<Command> onAnswer(StatusAnswered answer) {
      asking = false;
      if (answer.error() != null) {
        latest.clear();
        if (failures++ == 0) {
          context
              .getLog()
              .warn(
                  "Envoy sync status: the xDS registry did not answer ({}); heartbeats go without "
                      + "system_info.envoy until it does, asking again every {} s",
                  answer.error().getMessage(),
                  settings.refreshEvery().toSeconds());
        }
        return Behaviors.same();
      }
      if (failures > 0) {
        context
            .getLog()
            .info(
                "Envoy sync status: the xDS registry answers again after {} failure(s)", failures);
        failures = 0;
      }
      latest.publish(EnvoySyncReport.of(answer.status()));
      return Behaviors.same();
    }
  }
}
