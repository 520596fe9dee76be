package io.sigma.agent.devapi;

import java.util.EnumMap;
import java.util.EnumSet;
import java.util.Iterator;
import java.util.LinkedList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLongArray;

/**
 * Which requests the dev API answers badly, changeable at any time from any thread. One plan per
 * {@link DevSigmaApi} instance.
 *
 * <p>For each request, the first matching rule wins, in this order: the oldest {@link #failNext}
 * rule that still has requests left (it then counts one down), the {@link #failAlways} rule of the
 * request's kind, then the random {@link #soak} mode. No rule: the request is answered normally.
 */
public final class FaultPlan {
  /** Every endpoint kind, for rules that hit the whole API. */
  public static final Set<EndpointKind> ALL_KINDS = Set.of(EndpointKind.values());

  /** What to do with one request: a fault (or none), and whether to churn config first. */
  public record Decision(Optional<Fault> fault, boolean churnConfig) {
    static final Decision NONE = new Decision(Optional.empty(), false);
  }

  private static final class NextRule {
    final Set<EndpointKind> kinds;
    final Fault fault;
    int remaining;

    NextRule(Set<EndpointKind> kinds, Fault fault, int remaining) {
      this.kinds = kinds;
      this.fault = fault;
      this.remaining = remaining;
    }
  }

  private static final Fault[] SERVER_ERRORS = {
    Fault.status(500), Fault.html(502), Fault.status(503), Fault.html(504)
  };
  private static final Fault[] BAD_BODIES = {
    Fault.nonJson(), Fault.missingFields(), Fault.wrongTypes()
  };

  private final List<NextRule> nextRules = new LinkedList<>();
  private final Map<EndpointKind, Fault> always = new EnumMap<>(EndpointKind.class);
  private final AtomicLongArray injected = new AtomicLongArray(EndpointKind.values().length);
  private SoakFaults soak;
  private Random random;

  /** Answers the next {@code times} requests of {@code kind} with {@code fault}. */
  public FaultPlan failNext(EndpointKind kind, int times, Fault fault) {
    return failNext(Set.of(kind), times, fault);
  }

  /**
   * Answers the next {@code times} requests whose kind is in {@code kinds} with {@code fault} (one
   * shared count). Queued behind earlier {@code failNext} rules that match the same kinds.
   */
  public synchronized FaultPlan failNext(Set<EndpointKind> kinds, int times, Fault fault) {
    if (times < 0) {
      throw new IllegalArgumentException("times must not be negative: " + times);
    }
    if (times > 0) {
      nextRules.add(
          new NextRule(EnumSet.copyOf(requireKinds(kinds)), Objects.requireNonNull(fault), times));
    }
    return this;
  }

  /** Answers every request of {@code kind} with {@code fault} until cleared. */
  public FaultPlan failAlways(EndpointKind kind, Fault fault) {
    return failAlways(Set.of(kind), fault);
  }

  /** Answers every request whose kind is in {@code kinds} with {@code fault} until cleared. */
  public synchronized FaultPlan failAlways(Set<EndpointKind> kinds, Fault fault) {
    Objects.requireNonNull(fault);
    requireKinds(kinds).forEach(k -> always.put(k, fault));
    return this;
  }

  /** Switches the random soak mode on (replacing an earlier profile and its random sequence). */
  public synchronized FaultPlan soak(SoakFaults profile) {
    soak = Objects.requireNonNull(profile);
    random = new Random(profile.seed());
    return this;
  }

  public synchronized FaultPlan stopSoak() {
    soak = null;
    random = null;
    return this;
  }

  /** Drops the rules aimed at {@code kind} (a multi-kind rule keeps its other kinds). */
  public synchronized FaultPlan clear(EndpointKind kind) {
    always.remove(kind);
    for (Iterator<NextRule> it = nextRules.iterator(); it.hasNext(); ) {
      NextRule r = it.next();
      r.kinds.remove(kind);
      if (r.kinds.isEmpty()) {
        it.remove();
      }
    }
    return this;
  }

  /** Back to a healthy API: no rules, no soak mode. */
  public synchronized FaultPlan clear() {
    nextRules.clear();
    always.clear();
    return stopSoak();
  }

  /** How many more requests of {@code kind} the {@link #failNext} rules will fault. */
  public synchronized int pendingNext(EndpointKind kind) {
    return nextRules.stream().filter(r -> r.kinds.contains(kind)).mapToInt(r -> r.remaining).sum();
  }

  /** How many requests of {@code kind} got a fault (config churn not counted). */
  public long injected(EndpointKind kind) {
    return injected.get(kind.ordinal());
  }

  /** The decision for one request of {@code kind}; consumes a {@link #failNext} count. */
  public Decision decide(EndpointKind kind) {
    Decision d = decideLocked(kind);
    if (d.fault().isPresent()) {
      injected.incrementAndGet(kind.ordinal());
    }
    return d;
  }

  private synchronized Decision decideLocked(EndpointKind kind) {
    for (Iterator<NextRule> it = nextRules.iterator(); it.hasNext(); ) {
      NextRule r = it.next();
      if (r.kinds.contains(kind)) {
        if (--r.remaining == 0) {
          it.remove();
        }
        return new Decision(Optional.of(r.fault), false);
      }
    }
    Fault a = always.get(kind);
    if (a != null) {
      return new Decision(Optional.of(a), false);
    }
    if (soak == null) {
      return Decision.NONE;
    }
    double draw = random.nextDouble();
    int variant = random.nextInt(12);
    boolean churn = kind == EndpointKind.ENVOY_NODES && random.nextDouble() < soak.configChurn();
    Fault fault = null;
    double edge = soak.serverError();
    if (draw < edge) {
      fault = SERVER_ERRORS[variant % SERVER_ERRORS.length];
    } else if (draw < (edge += soak.slow())) {
      fault = Fault.delay(soak.slowDelay());
    } else if (draw < (edge += soak.reset())) {
      fault = Fault.reset();
    } else if (draw < edge + soak.badBody()) {
      fault = BAD_BODIES[variant % BAD_BODIES.length];
    }
    return new Decision(Optional.ofNullable(fault), churn);
  }

  private static Set<EndpointKind> requireKinds(Set<EndpointKind> kinds) {
    if (kinds == null || kinds.isEmpty()) {
      throw new IllegalArgumentException("at least one endpoint kind is needed");
    }
    return kinds;
  }
}
