package io.sigma.agent.fleet;

import io.sigma.agent.api.IpAddress;
import io.sigma.agent.host.PublicIpLookup;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.function.Supplier;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.TimerScheduler;

/**
 * Finds the host's public IP when it has none of its own (NAT): asks the look-up services once
 * at start and then rarely, in the background, and hands each new answer to the registration
 * actor, which sends it with the next heartbeat. Registration never waits for it.
 */
public final class PublicIpWatcher {
  public sealed interface Command {}

  private enum Tick implements Command { INSTANCE }

  private record Answered(Optional<String> ip) implements Command {}

  /** How often a known public IP is checked again, and how soon a failed look-up is retried. */
  public record Schedule(Duration refresh, Duration retry) {
    public static final Schedule DEFAULT = new Schedule(Duration.ofHours(6), Duration.ofMinutes(30));
  }

  private PublicIpWatcher() {}

  public static Behavior<Command> create(PublicIpLookup lookup,
      Supplier<List<IpAddress>> addresses, ActorRef<RegistrationActor.Command> registration,
      Schedule schedule) {
    return Behaviors.setup(ctx -> Behaviors.withTimers(timers -> {
      ctx.getSelf().tell(Tick.INSTANCE);
      return watching(ctx, Optional.empty(), lookup, addresses, registration, schedule, timers);
    }));
  }

  private static Behavior<Command> watching(ActorContext<Command> ctx, Optional<String> known, PublicIpLookup lookup,
      Supplier<List<IpAddress>> addresses, ActorRef<RegistrationActor.Command> registration,
      Schedule schedule, TimerScheduler<Command> timers) {
    return Behaviors.receive(Command.class)
        .onMessageEquals(Tick.INSTANCE, () -> {
          if (PublicIpLookup.needsLookup(addresses.get())) {
            ctx.pipeToSelf(lookup.lookup(),
                (ip, error) -> new Answered(error == null ? ip : Optional.empty()));
          } else {
            timers.startSingleTimer(Tick.INSTANCE, schedule.refresh());
          }
          return Behaviors.same();
        })
        .onMessage(Answered.class, answer -> {
          timers.startSingleTimer(Tick.INSTANCE,
              answer.ip().isPresent() ? schedule.refresh() : schedule.retry());
          if (answer.ip().isEmpty() || answer.ip().equals(known)) {
            return Behaviors.same();
          }
          ctx.getLog().info("Public IP (looked up, the host is behind NAT): {}", answer.ip().get());
          registration.tell(new RegistrationActor.PublicIpChanged(answer.ip()));
          return watching(ctx, answer.ip(), lookup, addresses, registration, schedule, timers);
        })
        .build();
  }
}
