package io.sigma.agent.ports;

import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.function.Supplier;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.TimerScheduler;

/**
 * Scans the port range now and then every interval, and publishes each result to a {@link
 * LatestPortScan}. A scan blocks (it reads /proc, may bind-probe, and runs {@code ss}), so it runs
 * on a blocking-IO executor, never on the actor's dispatcher; at most one scan is in flight, and
 * the next one is scheduled an interval after the previous one finished (a slow scan delays the
 * next instead of piling up). A failing scan is logged and the previous result stays published.
 */
public final class PortScanActor {
  /** The dispatcher (in sigma-agent.conf) that runs the blocking scans and the bind tests. */
  public static final String BLOCKING_DISPATCHER = "sigma-agent.blocking-io-dispatcher";

  public sealed interface Command {}

  private enum Tick implements Command {
    INSTANCE
  }

  private record ScanFinished(PortScan scan, Throwable error) implements Command {}

  private static final Object TIMER = "next-scan";

  private PortScanActor() {}

  /**
   * @param scan one blocking scan; may throw (the failure is logged, the last result kept)
   * @param interval pause between the end of one scan and the start of the next
   * @param latest where each successful result is published
   * @param executor where {@code scan} runs
   */
  public static Behavior<Command> create(
      Supplier<PortScan> scan, Duration interval, LatestPortScan latest, Executor executor) {
    return Behaviors.setup(ctx -> behavior(ctx, scan, interval, latest, executor));
  }

  private static Behavior<Command> behavior(
      ActorContext<Command> ctx,
      Supplier<PortScan> scan,
      Duration interval,
      LatestPortScan latest,
      Executor executor) {
    Objects.requireNonNull(scan, "scan");
    Objects.requireNonNull(latest, "latest");
    Objects.requireNonNull(executor, "executor");
    if (interval.isNegative() || interval.isZero()) {
      throw new IllegalArgumentException("scan interval must be positive: " + interval);
    }
    return Behaviors.withTimers(
        timers -> {
          ctx.getSelf().tell(Tick.INSTANCE);
          return idle(ctx, timers, new Loop(scan, interval, latest, executor));
        });
  }

  private record Loop(
      Supplier<PortScan> scan, Duration interval, LatestPortScan latest, Executor executor) {}

  private static Behavior<Command> idle(
      ActorContext<Command> ctx, TimerScheduler<Command> timers, Loop loop) {
    return Behaviors.receive(Command.class)
        .onMessageEquals(
            Tick.INSTANCE,
            () -> {
              ctx.pipeToSelf(
                  CompletableFuture.supplyAsync(loop.scan(), loop.executor()), ScanFinished::new);
              return scanning(ctx, timers, loop);
            })
        .build();
  }

  private static Behavior<Command> scanning(
      ActorContext<Command> ctx, TimerScheduler<Command> timers, Loop loop) {
    return Behaviors.receive(Command.class)
        .onMessage(
            ScanFinished.class,
            finished -> {
              if (finished.error() != null) {
                Throwable cause =
                    finished.error().getCause() != null
                        ? finished.error().getCause()
                        : finished.error();
                ctx.getLog()
                    .warn(
                        "Port scan failed ({}); keeping the previous result{} and "
                            + "scanning again in {}s",
                        cause.toString(),
                        loop.latest().get().map(s -> " from " + s.at()).orElse(" (none yet)"),
                        loop.interval().toSeconds());
              } else {
                PortScan scan = finished.scan();
                boolean first = loop.latest().get().isEmpty();
                loop.latest().set(scan);
                if (first) {
                  ctx.getLog()
                      .info(
                          "First port scan of {}: {} in use, {} available, took {} ms; "
                              + "scanning every {}s",
                          scan.range(),
                          scan.inUse(),
                          scan.available(),
                          scan.took().toMillis(),
                          loop.interval().toSeconds());
                }
                ctx.getLog()
                    .debug(
                        "Port scan of {}: {} in use, {} available, took {} ms",
                        scan.range(),
                        scan.inUse(),
                        scan.available(),
                        scan.took().toMillis());
              }
              timers.startSingleTimer(TIMER, Tick.INSTANCE, loop.interval());
              return idle(ctx, timers, loop);
            })
        // A tick cannot arrive while scanning (the timer is only started after a scan), but
        // ignore one rather than start a second scan.
        .onMessageEquals(Tick.INSTANCE, Behaviors::same)
        .build();
  }
}
