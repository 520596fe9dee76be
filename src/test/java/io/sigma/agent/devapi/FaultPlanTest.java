package io.sigma.agent.devapi;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class FaultPlanTest {

  private static Optional<Fault> next(FaultPlan plan, EndpointKind kind) {
    return plan.decide(kind).fault();
  }

  @Test
  void healthyByDefault() {
    FaultPlan plan = new FaultPlan();
    for (EndpointKind k : EndpointKind.values()) {
      assertEquals(FaultPlan.Decision.NONE, plan.decide(k));
    }
  }

  @Test
  void failNextCountsDownOnlyForItsKind() {
    FaultPlan plan = new FaultPlan().failNext(EndpointKind.REGISTER, 2, Fault.status(503));
    assertEquals(Optional.empty(), next(plan, EndpointKind.HEARTBEAT));
    assertEquals(2, plan.pendingNext(EndpointKind.REGISTER));
    assertEquals(Optional.of(Fault.status(503)), next(plan, EndpointKind.REGISTER));
    assertEquals(Optional.of(Fault.status(503)), next(plan, EndpointKind.REGISTER));
    assertEquals(Optional.empty(), next(plan, EndpointKind.REGISTER));
    assertEquals(0, plan.pendingNext(EndpointKind.REGISTER));
    assertEquals(2, plan.injected(EndpointKind.REGISTER));
    assertEquals(0, plan.injected(EndpointKind.HEARTBEAT));
  }

  @Test
  void failNextRulesQueueInOrderAndShareACountAcrossKinds() {
    FaultPlan plan =
        new FaultPlan()
            .failNext(
                EnumSet.of(EndpointKind.REGISTER, EndpointKind.HEARTBEAT), 2, Fault.status(500))
            .failNext(EndpointKind.REGISTER, 1, Fault.html(502));
    assertEquals(Optional.of(Fault.status(500)), next(plan, EndpointKind.HEARTBEAT));
    assertEquals(Optional.of(Fault.status(500)), next(plan, EndpointKind.REGISTER));
    assertEquals(Optional.of(Fault.html(502)), next(plan, EndpointKind.REGISTER));
    assertEquals(Optional.empty(), next(plan, EndpointKind.REGISTER));
    assertEquals(Optional.empty(), next(plan, EndpointKind.HEARTBEAT));
  }

  @Test
  void failNextWinsOverFailAlwaysWhichWinsOverSoak() {
    FaultPlan plan =
        new FaultPlan()
            .soak(new SoakFaults(1.0, 0, Duration.ZERO, 0, 0, 0, 1))
            .failAlways(EndpointKind.HEARTBEAT, Fault.status(401))
            .failNext(EndpointKind.HEARTBEAT, 1, Fault.reset());
    assertEquals(Optional.of(Fault.reset()), next(plan, EndpointKind.HEARTBEAT));
    assertEquals(Optional.of(Fault.status(401)), next(plan, EndpointKind.HEARTBEAT));
    plan.clear(EndpointKind.HEARTBEAT);
    Fault soaked = next(plan, EndpointKind.HEARTBEAT).orElseThrow();
    assertTrue(soaked instanceof Fault.Answer a && a.status() >= 500, soaked.toString());
  }

  @Test
  void failAlwaysOverAllKindsUntilCleared() {
    FaultPlan plan = new FaultPlan().failAlways(FaultPlan.ALL_KINDS, Fault.status(503));
    for (int i = 0; i < 3; i++) {
      for (EndpointKind k : EndpointKind.values()) {
        assertEquals(Optional.of(Fault.status(503)), next(plan, k));
      }
    }
    plan.clear();
    for (EndpointKind k : EndpointKind.values()) {
      assertEquals(Optional.empty(), next(plan, k));
    }
  }

  @Test
  void clearingOneKindKeepsTheOthersOfAMultiKindRule() {
    FaultPlan plan =
        new FaultPlan()
            .failNext(
                EnumSet.of(EndpointKind.REGISTER, EndpointKind.HEARTBEAT), 5, Fault.status(500));
    plan.clear(EndpointKind.REGISTER);
    assertEquals(Optional.empty(), next(plan, EndpointKind.REGISTER));
    assertEquals(Optional.of(Fault.status(500)), next(plan, EndpointKind.HEARTBEAT));
    assertEquals(4, plan.pendingNext(EndpointKind.HEARTBEAT));
  }

  @Test
  void concurrentRequestsConsumeExactlyTheCount() throws Exception {
    FaultPlan plan = new FaultPlan().failNext(EndpointKind.REGISTER, 1000, Fault.status(503));
    AtomicInteger faulted = new AtomicInteger();
    ExecutorService pool = Executors.newFixedThreadPool(4);
    try {
      List<Future<?>> done = new ArrayList<>();
      for (int t = 0; t < 4; t++) {
        done.add(
            pool.submit(
                () -> {
                  for (int i = 0; i < 1000; i++) {
                    if (plan.decide(EndpointKind.REGISTER).fault().isPresent()) {
                      faulted.incrementAndGet();
                    }
                  }
                }));
      }
      for (Future<?> f : done) {
        f.get(30, TimeUnit.SECONDS);
      }
    } finally {
      pool.shutdownNow();
    }
    assertEquals(1000, faulted.get());
    assertEquals(1000, plan.injected(EndpointKind.REGISTER));
  }

  @Test
  void soakIsReproducibleForTheSameSeed() {
    SoakFaults profile = new SoakFaults(0.2, 0.1, Duration.ofSeconds(9), 0.1, 0.2, 0.5, 42);
    List<FaultPlan.Decision> a = decisions(new FaultPlan().soak(profile), 300);
    List<FaultPlan.Decision> b = decisions(new FaultPlan().soak(profile), 300);
    assertEquals(a, b);
    List<FaultPlan.Decision> other =
        decisions(
            new FaultPlan()
                .soak(new SoakFaults(0.2, 0.1, Duration.ofSeconds(9), 0.1, 0.2, 0.5, 43)),
            300);
    assertFalse(a.equals(other));
  }

  @Test
  void soakMixesEveryFaultFamilyAndChurnsOnlyOnEnvoyNodePolls() {
    FaultPlan plan =
        new FaultPlan().soak(new SoakFaults(0.2, 0.1, Duration.ofSeconds(9), 0.1, 0.2, 0.5, 7));
    Set<Class<?>> seen = new java.util.HashSet<>();
    Set<Integer> statuses = new java.util.HashSet<>();
    int churnOnNodes = 0;
    int healthy = 0;
    for (int i = 0; i < 2000; i++) {
      FaultPlan.Decision d = plan.decide(EndpointKind.ENVOY_NODES);
      churnOnNodes += d.churnConfig() ? 1 : 0;
      d.fault()
          .ifPresent(
              f -> {
                seen.add(f.getClass());
                if (f instanceof Fault.Answer a) {
                  statuses.add(a.status());
                }
              });
      healthy += d.fault().isEmpty() ? 1 : 0;
      assertFalse(plan.decide(EndpointKind.HEARTBEAT).churnConfig());
    }
    assertEquals(
        Set.of(
            Fault.Answer.class,
            Fault.Delay.class,
            Fault.Reset.class,
            Fault.MissingFields.class,
            Fault.WrongTypes.class),
        seen);
    assertEquals(Set.of(500, 502, 503, 504, 200), statuses);
    assertTrue(churnOnNodes > 800 && churnOnNodes < 1200, "churn " + churnOnNodes);
    assertTrue(healthy > 600 && healthy < 1000, "healthy " + healthy);
  }

  @Test
  void stopSoakMakesTheApiHealthyAgain() {
    FaultPlan plan = new FaultPlan().soak(new SoakFaults(1, 0, Duration.ZERO, 0, 0, 1, 3));
    assertTrue(plan.decide(EndpointKind.ENVOY_NODES).fault().isPresent());
    plan.stopSoak();
    assertEquals(FaultPlan.Decision.NONE, plan.decide(EndpointKind.ENVOY_NODES));
  }

  @Test
  void rejectsBadRules() {
    FaultPlan plan = new FaultPlan();
    assertThrows(
        IllegalArgumentException.class,
        () -> plan.failNext(EndpointKind.REGISTER, -1, Fault.status(500)));
    assertThrows(
        IllegalArgumentException.class, () -> plan.failAlways(Set.of(), Fault.status(500)));
    assertThrows(NullPointerException.class, () -> plan.failAlways(EndpointKind.REGISTER, null));
    assertThrows(
        IllegalArgumentException.class, () -> new SoakFaults(0.6, 0.5, Duration.ZERO, 0, 0, 0, 1));
    assertThrows(
        IllegalArgumentException.class, () -> new SoakFaults(-0.1, 0, Duration.ZERO, 0, 0, 0, 1));
    assertThrows(
        IllegalArgumentException.class,
        () -> new SoakFaults(0, 0, Duration.ZERO, 0, 0, Double.NaN, 1));
    assertThrows(IllegalArgumentException.class, () -> Fault.status(99));
    assertThrows(IllegalArgumentException.class, () -> Fault.delay(Duration.ofSeconds(-1)));
    plan.failNext(EndpointKind.REGISTER, 0, Fault.status(500));
    assertEquals(Optional.empty(), next(plan, EndpointKind.REGISTER));
  }

  @Test
  void faultFactoriesProduceTheDocumentedAnswers() {
    Fault.Answer status = (Fault.Answer) Fault.status(503);
    assertEquals("{\"error\":\"Service Unavailable\"}", status.body());
    assertEquals(Fault.JSON, status.contentType());
    Fault.Answer custom = (Fault.Answer) Fault.status(500, "db \"down\"\n");
    assertEquals("{\"error\":\"db \\\"down\\\"\\n\"}", custom.body());
    Fault.Answer html = (Fault.Answer) Fault.html(502);
    assertEquals(Fault.HTML, html.contentType());
    assertTrue(html.body().contains("<title>502 Bad Gateway</title>"));
    assertEquals(200, ((Fault.Answer) Fault.nonJson()).status());
    assertEquals("", ((Fault.Answer) Fault.empty(504)).body());
  }

  private static List<FaultPlan.Decision> decisions(FaultPlan plan, int n) {
    List<FaultPlan.Decision> out = new ArrayList<>();
    EndpointKind[] kinds = EndpointKind.values();
    for (int i = 0; i < n; i++) {
      out.add(plan.decide(kinds[i % kinds.length]));
    }
    return out;
  }
}
