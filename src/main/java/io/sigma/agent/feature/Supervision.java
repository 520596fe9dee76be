package io.sigma.agent.feature;

import java.time.Duration;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.SupervisorStrategy;
import org.apache.pekko.actor.typed.javadsl.Behaviors;

/** How the agent's long-lived actors are supervised. */
public final class Supervision {
  /**
   * The pause before the first restart; it doubles on repeated crashes up to {@link #MAX_PAUSE}.
   */
  public static final Duration MIN_PAUSE = Duration.ofSeconds(1);

  public static final Duration MAX_PAUSE = Duration.ofMinutes(1);

  private Supervision() {}

  /**
   * A crashed actor restarts after a pause that grows on repeated crashes (with 20% jitter); the
   * messages that arrive meanwhile wait for it.
   */
  public static <T> Behavior<T> restartWithBackoff(Behavior<T> behavior) {
    return Behaviors.supervise(behavior)
        .onFailure(SupervisorStrategy.restartWithBackoff(MIN_PAUSE, MAX_PAUSE, 0.2));
  }
}
