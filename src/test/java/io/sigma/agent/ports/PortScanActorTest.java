package io.sigma.agent.ports;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sigma.agent.AgentRuntime;
import io.sigma.agent.config.PortRange;
import java.time.Duration;
import java.time.Instant;
import java.util.BitSet;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The scan loop with scans the test scripts: cadence, failures, one scan at a time. */
class PortScanActorTest {
  private static final Duration INTERVAL = Duration.ofMillis(20);
  private static final Duration AWAIT = Duration.ofSeconds(10);
  private static final PortRange RANGE = new PortRange(20000, 20009);
  private static ActorTestKit testKit;

  private final ExecutorService executor = Executors.newCachedThreadPool();
  private final LatestPortScan latest = new LatestPortScan();

  @BeforeAll
  static void startKit() {
    testKit = ActorTestKit.create(AgentRuntime.pekkoConfig());
  }

  @AfterAll
  static void stopKit() {
    testKit.shutdownTestKit();
  }

  @AfterEach
  void stopExecutor() {
    executor.shutdownNow();
  }

  /** A scan whose in-use count tells which call produced it. */
  private static PortScan scanNumber(int n) {
    BitSet occupied = new BitSet();
    occupied.set(RANGE.first(), RANGE.first() + n);
    return new PortScan(
        RANGE, occupied, ListenerAttribution.none(), Instant.EPOCH, Duration.ofMillis(n));
  }

  @Test
  void publishesTheFirstScanAtOnceThenRescansEveryInterval() {
    AtomicInteger calls = new AtomicInteger();
    testKit.spawn(
        PortScanActor.create(
            () -> scanNumber(calls.incrementAndGet() % 10), INTERVAL, latest, executor));
    TestProbe<Object> probe = testKit.createTestProbe();
    probe.awaitAssert(
        AWAIT,
        () -> {
          assertTrue(latest.get().isPresent());
          return null;
        });
    probe.awaitAssert(
        AWAIT,
        () -> {
          assertTrue(calls.get() >= 3, "scans so far: " + calls.get());
          return null;
        });
  }

  @Test
  void aFailingScanKeepsThePreviousResultAndTheLoopGoesOn() throws Exception {
    AtomicInteger calls = new AtomicInteger();
    CompletableFuture<Optional<PortScan>> seenByThirdScan = new CompletableFuture<>();
    Supplier<PortScan> scans =
        () ->
            switch (calls.incrementAndGet()) {
              case 1 -> scanNumber(1);
              case 2 -> throw new IllegalStateException("ss went away");
              case 3 -> {
                seenByThirdScan.complete(latest.get());
                yield scanNumber(3);
              }
              default -> scanNumber(4);
            };
    testKit.spawn(PortScanActor.create(scans, INTERVAL, latest, executor));
    assertEquals(
        Optional.of(1),
        seenByThirdScan.get(AWAIT.toSeconds(), TimeUnit.SECONDS).map(PortScan::inUse),
        "after the failed second scan the first result is still published");
    TestProbe<Object> probe = testKit.createTestProbe();
    probe.awaitAssert(
        AWAIT,
        () -> {
          assertTrue(latest.get().orElseThrow().inUse() >= 3);
          return null;
        });
  }

  @Test
  void neverRunsTwoScansAtOnce() throws Exception {
    TestProbe<String> started = testKit.createTestProbe();
    CountDownLatch release = new CountDownLatch(1);
    AtomicInteger running = new AtomicInteger();
    AtomicInteger mostAtOnce = new AtomicInteger();
    testKit.spawn(
        PortScanActor.create(
            () -> {
              mostAtOnce.accumulateAndGet(running.incrementAndGet(), Math::max);
              started.getRef().tell("started");
              try {
                release.await(AWAIT.toSeconds(), TimeUnit.SECONDS);
              } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
              }
              running.decrementAndGet();
              return scanNumber(1);
            },
            INTERVAL,
            latest,
            executor));
    started.expectMessage(AWAIT, "started");
    // Ten intervals pass while the first scan hangs: no second scan may start.
    started.expectNoMessage(INTERVAL.multipliedBy(10));
    release.countDown();
    started.expectMessage(AWAIT, "started");
    assertEquals(1, mostAtOnce.get());
  }
}
