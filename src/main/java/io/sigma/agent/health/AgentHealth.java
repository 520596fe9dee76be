package io.sigma.agent.health;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentSkipListMap;
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
 * this extension is how they reach the agent's state without static fields. The agent's parts fill
 * it in as they start ({@link #register} a {@link HealthCheck}, {@link #expectEndpoint}, {@link
 * #endpointBound}); it knows no feature. Thread-safe: written by the parts, read by the checks.
 *
 * <ul>
 *   <li><b>alive</b>: the actor system is running (not terminated, no shutdown under way) and no
 *       registered check has a liveness problem (the fleet's: the registration/heartbeat loop got
 *       no answer in time).
 *   <li><b>ready</b>: alive, at least one part registered (before that the agent is still
 *       starting), no check has a readiness problem (the fleet's: not registered with sigma-api),
 *       and every HTTP endpoint the agent started (metrics server, xDS server...) is bound.
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

  private final ActorSystem system;
  private final Set<String> expected = ConcurrentHashMap.newKeySet();
  private final Set<String> bound = ConcurrentHashMap.newKeySet();

  /** By name, so that problems are listed in a stable order. */
  private final Map<String, HealthCheck> checks = new ConcurrentSkipListMap<>();

  private AgentHealth(ActorSystem system) {
    this.system = system;
  }

  public static AgentHealth get(ClassicActorSystemProvider system) {
    return ID.get(system.classicSystem());
  }

  /**
   * Liveness and readiness follow {@code check} from now on; a check registered under the same
   * {@code name} before is replaced.
   */
  public void register(String name, HealthCheck check) {
    checks.put(Objects.requireNonNull(name, "name"), Objects.requireNonNull(check, "check"));
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
    List<String> problems = new ArrayList<>();
    for (HealthCheck check : checks.values()) {
      check.livenessProblem().ifPresent(problems::add);
    }
    if (!problems.isEmpty()) {
      return Optional.of(String.join("; ", problems));
    }
    return Optional.empty();
  }

  /** Why the agent is not ready, or empty when it is. */
  public Optional<String> readinessProblem() {
    List<String> problems = new ArrayList<>();
    livenessProblem().ifPresent(problems::add);
    if (checks.isEmpty()) {
      problems.add("the agent is still starting");
    }
    for (HealthCheck check : checks.values()) {
      check.readinessProblem().ifPresent(problems::add);
    }
    Set<String> unbound = new TreeSet<>(expected);
    unbound.removeAll(bound);
    if (!unbound.isEmpty()) {
      problems.add("not bound yet: " + String.join(", ", unbound));
    }
    return problems.isEmpty() ? Optional.empty() : Optional.of(String.join("; ", problems));
  }
}
