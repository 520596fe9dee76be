package io.sigma.agent.health;

import io.sigma.agent.fleet.FleetStatus;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.pekko.actor.AbstractExtensionId;
import org.apache.pekko.actor.ActorSystem;
import org.apache.pekko.actor.ClassicActorSystemProvider;
import org.apache.pekko.actor.CoordinatedShutdown;
import org.apache.pekko.actor.ExtendedActorSystem;
import org.apache.pekko.actor.Extension;
import org.apache.pekko.actor.ExtensionIdProvider;

/**
 * What the health endpoints know about the agent of one actor system. pekko-management creates
 * {@link LivenessCheck} and {@link ReadinessCheck} by reflection with nothing but the actor system;
 * this extension is how they reach the agent's state without static fields. The agent's guardian
 * fills it in as it starts its parts ({@link #watchFleet}, {@link #expectEndpoint}, {@link
 * #endpointBound}). Thread-safe: written by the guardian, read by the checks.
 *
 * <ul>
 *   <li><b>alive</b>: the actor system is running (not terminated, no shutdown under way) and the
 *       registration/heartbeat loop is turning: it got an answer (any answer, failures included)
 *       within {@link #stallLimit}. An agent whose loop got stuck is restarted; one whose sigma-api
 *       is down is not (that is no reason to restart it).
 *   <li><b>ready</b>: alive, registered with sigma-api, and every HTTP endpoint the agent started
 *       (metrics server, xDS server...) is bound.
 * </ul>
 */
public final class AgentHealth implements Extension {
  /** The extension's id; stateless, one {@link AgentHealth} per actor system. */
  public static final Id ID = new Id();

  /** Creates one {@link AgentHealth} per actor system. */
  public static final class Id extends AbstractExtensionId<AgentHealth>
      implements ExtensionIdProvider {
    private Id() {}

    @Override
    public AgentHealth createExtension(ExtendedActorSystem system) {
      return new AgentHealth(system);
    }

    @Override
    public Id lookup() {
      return ID;
    }
  }

  private record FleetWatch(FleetStatus status, Duration stallLimit) {}

  private final ActorSystem system;
  private final Set<String> expected = ConcurrentHashMap.newKeySet();
  private final Set<String> bound = ConcurrentHashMap.newKeySet();
  private volatile FleetWatch fleet;

  private AgentHealth(ActorSystem system) {
    this.system = system;
  }

  public static AgentHealth get(ClassicActorSystemProvider system) {
    return ID.get(system.classicSystem());
  }

  /**
   * The longest the registration loop may go without an answer before it counts as stalled: twice
   * the longest legitimate gap (the larger of 1.5 intervals, the latest first heartbeat after a
   * registration, and the backoff cap, plus one request timeout).
   */
  public static Duration stallLimit(
      Duration interval, Duration backoffMax, Duration requestTimeout) {
    Duration firstBeat = interval.plus(interval.dividedBy(2));
    Duration longestWait = firstBeat.compareTo(backoffMax) >= 0 ? firstBeat : backoffMax;
    return longestWait.plus(requestTimeout).multipliedBy(2);
  }

  /** Liveness and readiness follow {@code status}, stalled after {@code stallLimit}. */
  public void watchFleet(FleetStatus status, Duration stallLimit) {
    fleet =
        new FleetWatch(
            Objects.requireNonNull(status, "status"),
            Objects.requireNonNull(stallLimit, "stallLimit"));
  }

  /** Readiness waits for the endpoint {@code name} (a human name, e.g. "metrics server"). */
  public void expectEndpoint(String name) {
    expected.add(name);
  }

  /** The endpoint {@code name} is bound and serving. */
  public void endpointBound(String name) {
    bound.add(name);
  }

  /** Why the agent is not alive, or empty when it is. */
  public Optional<String> livenessProblem() {
    if (system.whenTerminated().isCompleted()) {
      return Optional.of("the actor system has terminated");
    }
    Optional<CoordinatedShutdown.Reason> shutdown =
        CoordinatedShutdown.get(system).getShutdownReason();
    if (shutdown.isPresent()) {
      return Optional.of("shutting down (" + shutdown.get() + ")");
    }
    FleetWatch watch = fleet;
    if (watch != null && !watch.status().loopTurnedWithin(watch.stallLimit())) {
      return Optional.of(
          "the registration/heartbeat loop got no answer within "
              + watch.stallLimit().toSeconds()
              + "s");
    }
    return Optional.empty();
  }

  /** Why the agent is not ready, or empty when it is. */
  public Optional<String> readinessProblem() {
    List<String> problems = new ArrayList<>();
    livenessProblem().ifPresent(problems::add);
    FleetWatch watch = fleet;
    if (watch == null) {
      problems.add("the agent is still starting");
    } else if (!watch.status().isRegistered()) {
      problems.add(
          "not registered with sigma-api"
              + watch.status().lastError().map(error -> " (last error: " + error + ")").orElse(""));
    }
    Set<String> unbound = new TreeSet<>(expected);
    unbound.removeAll(bound);
    if (!unbound.isEmpty()) {
      problems.add("not bound yet: " + String.join(", ", unbound));
    }
    return problems.isEmpty() ? Optional.empty() : Optional.of(String.join("; ", problems));
  }
}
