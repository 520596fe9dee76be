package io.sigma.agent.ports;

import io.sigma.agent.config.PortRange;
import io.sigma.agent.feature.Supervision;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.DispatcherSelector;
import org.apache.pekko.actor.typed.Scheduler;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.StashBuffer;

/**
 * The actor that hands out free ports of a range for {@code POST /ports/allocate}, so that no two
 * answers contain the same port while the first caller is still configuring Envoy on it.
 *
 * <p>A port is handed out only if, at that moment:
 *
 * <ol>
 *   <li>no earlier answer of the last {@code reservation} (default 30 s) contained it,
 *   <li>the latest scan did not see it occupied (the scan is only a hint to skip known-busy ports
 *       fast: a stale scan costs at most a few ports skipped that just became free), and
 *   <li>a TCP bind to {@code 0.0.0.0:port} succeeds ({@link PortBindCheck}, normally a {@link
 *       BindProbe}): the ground truth, which also catches sockets opened since the scan.
 * </ol>
 *
 * Before the first scan completes, rule 2 is simply skipped: every candidate is still bind-tested,
 * so the answer is as correct, only the search is slower.
 *
 * <p>The search starts after the last port handed out and wraps around the range, so a port that
 * comes back from a caller who never used it is reused as late as possible. An answer is
 * all-or-nothing: when fewer than {@code count} ports qualify, nothing is reserved.
 *
 * <p>Requests are served one at a time: the bind tests of one (up to {@value #MAX_COUNT} syscalls)
 * run on the blocking-IO dispatcher while the actor keeps the requests that arrive meanwhile (up to
 * {@value #MAX_WAITING}; past that they are answered {@link Allocation.Busy}), and the reservation
 * is made back on the actor. No lock is held anywhere. A bind check that throws is a bug: the
 * caller is answered {@link Allocation.Failed}, the waiting requests {@link Allocation.Busy}, and
 * the actor restarts ({@link Supervision}); the reservations survive the restart.
 */
public final class PortAllocator {
  /** The most ports one request may ask for. */
  public static final int MAX_COUNT = 1000;

  /** The most requests that wait while one is bind-tested. */
  public static final int MAX_WAITING = 100;

  /** The answer to one request. */
  public sealed interface Allocation {
    /** {@code ports} (distinct, in search order) are now reserved for the caller. */
    record Granted(List<Integer> ports) implements Allocation {
      public Granted {
        ports = List.copyOf(ports);
      }
    }

    /** Only {@code free} of the {@code requested} ports qualified; nothing was reserved. */
    record Insufficient(int requested, int free) implements Allocation {}

    /** Too many requests wait already; nothing was reserved, try again shortly. */
    record Busy() implements Allocation {}

    /** The bind tests failed unexpectedly ({@code reason}); nothing was reserved. */
    record Failed(String reason) implements Allocation {}
  }

  public sealed interface Command {}

  /**
   * Find, bind-test and reserve {@code count} distinct ports.
   *
   * @throws IllegalArgumentException unless {@code 1 <= count <= }{@value #MAX_COUNT}
   */
  public record Allocate(int count, ActorRef<Allocation> replyTo) implements Command {
    public Allocate {
      if (count < 1 || count > MAX_COUNT) {
        throw new IllegalArgumentException(
            "count must be between 1 and " + MAX_COUNT + ", was " + count);
      }
      Objects.requireNonNull(replyTo, "replyTo");
    }
  }

  private record Probed(
      PortReservations.Search search,
      PortReservations.Found found,
      Throwable error,
      ActorRef<Allocation> replyTo)
      implements Command {}

  private PortAllocator() {}

  /** The production allocator: bind tests on {@link PortScanActor#BLOCKING_DISPATCHER}. */
  public static Behavior<Command> create(
      PortRange range,
      LatestPortScan latest,
      PortBindCheck bindCheck,
      Duration reservation,
      Clock clock) {
    checkReservation(reservation);
    return Behaviors.setup(
        ctx ->
            create(
                range,
                latest,
                bindCheck,
                reservation,
                clock,
                ctx.getSystem()
                    .dispatchers()
                    .lookup(DispatcherSelector.fromConfig(PortScanActor.BLOCKING_DISPATCHER))));
  }

  /**
   * @param range the ports to allocate from (the scan range)
   * @param latest the scan results to skip occupied ports by
   * @param bindCheck the bind test every handed-out port passes
   * @param reservation how long a handed-out port is withheld from later answers (0: never)
   * @param clock measures the reservation window
   * @param probes runs the bind tests (a blocking-IO executor)
   */
  public static Behavior<Command> create(
      PortRange range,
      LatestPortScan latest,
      PortBindCheck bindCheck,
      Duration reservation,
      Clock clock,
      Executor probes) {
    Objects.requireNonNull(latest, "latest");
    Objects.requireNonNull(bindCheck, "bindCheck");
    Objects.requireNonNull(probes, "probes");
    Objects.requireNonNull(range, "range");
    Objects.requireNonNull(clock, "clock");
    checkReservation(reservation);
    return Behaviors.setup(
        outer -> {
          // Outside the supervised part: a restart keeps the reservations, so a port is never
          // handed out twice within the window.
          PortReservations reservations = new PortReservations(range, reservation, clock);
          Allocator allocator = new Allocator(reservations, latest, bindCheck, probes);
          return Supervision.restartWithBackoff(
              Behaviors.setup(
                  ctx -> Behaviors.withStash(MAX_WAITING, stash -> allocator.idle(ctx, stash))));
        });
  }

  private static void checkReservation(Duration reservation) {
    if (reservation.isNegative()) {
      throw new IllegalArgumentException("negative reservation " + reservation);
    }
  }

  /**
   * Asks {@code allocator} for {@code count} ports; the stage fails with a {@link
   * java.util.concurrent.TimeoutException} when no answer comes within {@code timeout}.
   */
  public static CompletionStage<Allocation> ask(
      ActorRef<Command> allocator, int count, Duration timeout, Scheduler scheduler) {
    return AskPattern.ask(allocator, replyTo -> new Allocate(count, replyTo), timeout, scheduler);
  }

  private record Allocator(
      PortReservations reservations,
      LatestPortScan latest,
      PortBindCheck bindCheck,
      Executor probes) {

    Behavior<Command> idle(ActorContext<Command> ctx, StashBuffer<Command> stash) {
      return Behaviors.receive(Command.class)
          .onMessage(Allocate.class, allocate -> start(ctx, stash, allocate))
          .build();
    }

    private Behavior<Command> start(
        ActorContext<Command> ctx, StashBuffer<Command> stash, Allocate allocate) {
      PortReservations.Search search = reservations.plan(allocate.count(), latest.get());
      int candidates = reservations.candidates(search);
      if (candidates < allocate.count()) {
        allocate.replyTo().tell(new Allocation.Insufficient(allocate.count(), candidates));
        return Behaviors.same();
      }
      ctx.pipeToSelf(
          CompletableFuture.supplyAsync(() -> search.probe(bindCheck), probes),
          (found, error) -> new Probed(search, found, error, allocate.replyTo()));
      return probing(ctx, stash);
    }

    private Behavior<Command> probing(ActorContext<Command> ctx, StashBuffer<Command> stash) {
      return Behaviors.receive(Command.class)
          .onMessage(
              Allocate.class,
              allocate -> {
                if (stash.isFull()) {
                  allocate.replyTo().tell(new Allocation.Busy());
                } else {
                  stash.stash(allocate);
                }
                return Behaviors.same();
              })
          .onMessage(
              Probed.class,
              probed -> {
                if (probed.error() != null) {
                  Throwable cause =
                      probed.error().getCause() != null
                          ? probed.error().getCause()
                          : probed.error();
                  probed.replyTo().tell(new Allocation.Failed(cause.toString()));
                  stash.forEach(
                      waiting -> {
                        if (waiting instanceof Allocate a) {
                          a.replyTo().tell(new Allocation.Busy());
                        }
                      });
                  throw new IllegalStateException(
                      "the bind check failed; restarting the port allocator", cause);
                }
                probed.replyTo().tell(reservations.reserve(probed.search(), probed.found()));
                return stash.unstashAll(idle(ctx, stash));
              })
          .build();
    }
  }
}
