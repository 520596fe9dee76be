package io.sigma.agent.fleet;

import io.sigma.agent.api.IpAddress;
import io.sigma.agent.host.PublicIpLookup;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.DispatcherSelector;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.TimerScheduler;

/**
 * Finds the host's public IP when it has none of its own (NAT): asks the look-up services once at
 * start and then rarely, in the background, and hands each new answer to the registration actor,
 * which sends it with the next heartbeat. Registration never waits for it.
 *
 * <p>The host's addresses are read (from /proc) on Pekko's blocking-IO dispatcher, never on the
 * actor's; a read that stalls longer than {@link RegistrationActor#HOST_READ_TIMEOUT} is retried on
 * the retry schedule, and no second read starts while it still runs.
 */
public final class PublicIpWatcher {
  public sealed interface Command {}

  private enum Tick implements Command {
    INSTANCE
  }

  private record Answered(Optional<String> ip) implements Command {}

  private record AddressesRead(List<IpAddress> addresses, Throwable error) implements Command {}

  /** How often a known public IP is checked again, and how soon a failed look-up is retried. */
  public record Schedule(Duration refresh, Duration retry) {
    public static final Schedule DEFAULT =
        new Schedule(Duration.ofHours(6), Duration.ofMinutes(30));
  }

  private PublicIpWatcher() {}

  public static Behavior<Command> create(
      PublicIpLookup lookup,
      Supplier<List<IpAddress>> addresses,
      ActorRef<RegistrationActor.Command> registration,
      Schedule schedule) {
    return Behaviors.setup(
        ctx ->
            Behaviors.withTimers(
                timers -> {
                  ctx.getSelf().tell(Tick.INSTANCE);
                  AddressReader reader =
                      new AddressReader(
                          addresses,
                          ctx.getSystem().dispatchers().lookup(DispatcherSelector.blocking()));
                  return watching(
                      ctx, Optional.empty(), lookup, reader, registration, schedule, timers);
                }));
  }

  /** Reads the addresses on a blocking executor, at most one read at a time. */
  private static final class AddressReader {
    private final Supplier<List<IpAddress>> addresses;
    private final Executor executor;
    private CompletableFuture<List<IpAddress>> running =
        CompletableFuture.completedFuture(List.of());

    AddressReader(Supplier<List<IpAddress>> addresses, Executor executor) {
      this.addresses = addresses;
      this.executor = executor;
    }

    /** A new read, or the stalled one still running, bounded by the host read timeout. */
    CompletionStage<List<IpAddress>> read() {
      if (running.isDone()) {
        running = CompletableFuture.supplyAsync(addresses, executor);
      }
      return running
          .copy()
          .orTimeout(RegistrationActor.HOST_READ_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
    }
  }

  private static Behavior<Command> watching(
      ActorContext<Command> ctx,
      Optional<String> known,
      PublicIpLookup lookup,
      AddressReader addresses,
      ActorRef<RegistrationActor.Command> registration,
      Schedule schedule,
      TimerScheduler<Command> timers) {
    return Behaviors.receive(Command.class)
        .onMessageEquals(
            Tick.INSTANCE,
            () -> {
              ctx.pipeToSelf(addresses.read(), AddressesRead::new);
              return Behaviors.same();
            })
        .onMessage(
            AddressesRead.class,
            read -> {
              if (read.error() != null) {
                ctx.getLog()
                    .debug(
                        "Host addresses not read ({}); checking the public IP again in {}",
                        read.error().toString(),
                        schedule.retry());
                timers.startSingleTimer(Tick.INSTANCE, schedule.retry());
              } else if (PublicIpLookup.needsLookup(read.addresses())) {
                ctx.pipeToSelf(
                    lookup.lookup(),
                    (ip, error) -> new Answered(error == null ? ip : Optional.empty()));
              } else {
                timers.startSingleTimer(Tick.INSTANCE, schedule.refresh());
              }
              return Behaviors.same();
            })
        .onMessage(
            Answered.class,
            answer -> {
              timers.startSingleTimer(
                  Tick.INSTANCE, answer.ip().isPresent() ? schedule.refresh() : schedule.retry());
              if (answer.ip().isEmpty() || answer.ip().equals(known)) {
                return Behaviors.same();
              }
              ctx.getLog()
                  .info("Public IP (looked up, the host is behind NAT): {}", answer.ip().get());
              registration.tell(new RegistrationActor.PublicIpChanged(answer.ip()));
              return watching(ctx, answer.ip(), lookup, addresses, registration, schedule, timers);
            })
        .build();
  }
}
