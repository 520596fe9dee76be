package io.sigma.agent.ports;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sigma.agent.AgentRuntime;
import io.sigma.agent.config.PortRange;
import io.sigma.agent.ports.PortAllocator.Allocation;
import io.sigma.agent.testing.MutableClock;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.StandardProtocolFamily;
import java.nio.channels.ServerSocketChannel;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/**
 * The allocator actor's rules with a bind check the test controls (which ports "are taken" right
 * now, and which ports were bind-tested), plus one run with the real {@link BindProbe}. The bind
 * tests run on the agent's blocking dispatcher, as in production.
 */
class PortAllocatorTest {
  private static final ActorTestKit KIT = ActorTestKit.create(AgentRuntime.pekkoConfig());
  private static final Duration ANSWER = Duration.ofSeconds(10);

  @AfterAll
  static void stopKit() {
    KIT.shutdownTestKit();
  }

  /** A running allocator, asked and awaited like the route asks it. */
  private record Allocator(ActorRef<PortAllocator.Command> actor) {
    Allocation allocate(int count) {
      try {
        return PortAllocator.ask(actor, count, ANSWER, KIT.system().scheduler())
            .toCompletableFuture()
            .get(ANSWER.toSeconds() + 1, TimeUnit.SECONDS);
      } catch (Exception e) {
        throw new AssertionError("no answer to allocate(" + count + ")", e);
      }
    }
  }

  private Allocator spawn(PortRange range, PortBindCheck check, Duration reservation) {
    return new Allocator(KIT.spawn(PortAllocator.create(range, latest, check, reservation, clock)));
  }

  private static final PortRange RANGE = new PortRange(20000, 20009);
  private static final Duration WINDOW = Duration.ofSeconds(30);

  private final MutableClock clock = new MutableClock(Instant.parse("2026-11-26T10:00:00Z"));
  private final LatestPortScan latest = new LatestPortScan();

  /** Ports a bind would fail on now. */
  private final Set<Integer> taken = ConcurrentHashMap.newKeySet();

  /** Every port bind-tested, in order. */
  private final List<Integer> probed = new CopyOnWriteArrayList<>();

  private final PortBindCheck bindCheck =
      port -> {
        probed.add(port);
        return !taken.contains(port);
      };

  private Allocator allocator(Duration reservation) {
    return spawn(RANGE, bindCheck, reservation);
  }

  private static PortScan scan(PortRange range, int... occupied) {
    BitSet bits = new BitSet();
    for (int port : occupied) {
      bits.set(port);
    }
    return new PortScan(range, bits, ListenerAttribution.none(), Instant.EPOCH, Duration.ZERO);
  }

  private static List<Integer> granted(Allocation allocation) {
    return assertInstanceOf(Allocation.Granted.class, allocation).ports();
  }

  @Test
  void grantsDistinctBindTestedPortsFromTheStartOfTheRange() {
    latest.set(scan(RANGE));
    List<Integer> ports = granted(allocator(WINDOW).allocate(3));
    assertEquals(List.of(20000, 20001, 20002), ports);
    assertEquals(List.of(20000, 20001, 20002), probed, "every handed-out port is bind-tested");
  }

  @Test
  void skipsPortsTheScanSawOccupiedWithoutBindTestingThem() {
    latest.set(scan(RANGE, 20000, 20002));
    List<Integer> ports = granted(allocator(WINDOW).allocate(3));
    assertEquals(List.of(20001, 20003, 20004), ports);
    assertFalse(probed.contains(20000) || probed.contains(20002), "probed: " + probed);
  }

  @Test
  void skipsPortsTakenSinceTheScan() {
    latest.set(scan(RANGE));
    taken.add(20001);
    assertEquals(List.of(20000, 20002), granted(allocator(WINDOW).allocate(2)));
  }

  @Test
  void beforeTheFirstScanEveryCandidateIsBindTested() {
    taken.add(20000);
    assertEquals(List.of(20001, 20002), granted(allocator(WINDOW).allocate(2)));
    assertEquals(List.of(20000, 20001, 20002), probed);
  }

  @Test
  void ignoresAScanOfAnotherRange() {
    latest.set(scan(new PortRange(20000, 20001), 20000, 20001));
    assertEquals(List.of(20000, 20001), granted(allocator(WINDOW).allocate(2)));
  }

  @Test
  void reservedPortsAreWithheldUntilTheWindowEnds() {
    latest.set(scan(RANGE));
    Allocator allocator = allocator(WINDOW);
    List<Integer> first = granted(allocator.allocate(10));
    Allocation whileReserved = allocator.allocate(1);
    assertEquals(new Allocation.Insufficient(1, 0), whileReserved);

    clock.advance(WINDOW.minusMillis(1));
    assertInstanceOf(Allocation.Insufficient.class, allocator.allocate(1));
    clock.advance(Duration.ofMillis(1));
    List<Integer> again = granted(allocator.allocate(10));
    assertEquals(new HashSet<>(first), new HashSet<>(again));
  }

  @Test
  void answersNeverShareAPortWithinTheWindow() {
    latest.set(scan(RANGE));
    Allocator allocator = allocator(WINDOW);
    Set<Integer> seen = new HashSet<>();
    for (int i = 0; i < 5; i++) {
      for (int port : granted(allocator.allocate(2))) {
        assertTrue(seen.add(port), "port " + port + " handed out twice");
        assertTrue(RANGE.contains(port));
      }
      clock.advance(Duration.ofSeconds(1));
    }
  }

  @Test
  void searchResumesAfterTheLastPortHandedOutAndWraps() {
    latest.set(scan(RANGE));
    Allocator allocator = allocator(Duration.ZERO);
    assertEquals(
        List.of(20000, 20001, 20002, 20003, 20004, 20005, 20006, 20007),
        granted(allocator.allocate(8)));
    assertEquals(List.of(20008, 20009, 20000), granted(allocator.allocate(3)));
  }

  @Test
  void zeroReservationReservesNothing() {
    latest.set(scan(RANGE));
    Allocator allocator = allocator(Duration.ZERO);
    granted(allocator.allocate(10));
    assertEquals(10, granted(allocator.allocate(10)).size(), "all ten again: none was reserved");
  }

  @Test
  void tooFewFreePortsIsInsufficientWithoutBindTestsWhenTheScanAlreadyShowsIt() {
    latest.set(scan(RANGE, 20000, 20001, 20002, 20003, 20004, 20005, 20006, 20007));
    assertEquals(new Allocation.Insufficient(3, 2), allocator(WINDOW).allocate(3));
    assertEquals(List.of(), probed);
  }

  @Test
  void insufficientReservesNothing() {
    latest.set(scan(RANGE));
    taken.addAll(List.of(20000, 20001, 20002, 20003, 20004, 20005, 20006));
    Allocator allocator = allocator(WINDOW);
    assertEquals(new Allocation.Insufficient(4, 3), allocator.allocate(4));
    assertEquals(List.of(20007, 20008, 20009), granted(allocator.allocate(3)));
  }

  @Test
  void countOutsideOneToAThousandIsRejected() {
    TestProbe<Allocation> replies = KIT.createTestProbe();
    for (int count : new int[] {0, -1, 1001, Integer.MAX_VALUE, Integer.MIN_VALUE}) {
      assertThrows(
          IllegalArgumentException.class,
          () -> new PortAllocator.Allocate(count, replies.ref()),
          "count " + count);
    }
    Allocator allocator = spawn(new PortRange(1024, 65535), bindCheck, WINDOW);
    assertEquals(1000, granted(allocator.allocate(1000)).size());
    assertEquals(1, granted(allocator.allocate(1)).size());
  }

  @Test
  void negativeReservationIsRejected() {
    assertThrows(
        IllegalArgumentException.class,
        () -> PortAllocator.create(RANGE, latest, bindCheck, Duration.ofSeconds(-1), clock));
  }

  @Test
  void concurrentCallersNeverGetTheSamePort() throws Exception {
    PortRange range = new PortRange(20000, 21999);
    Allocator allocator = spawn(range, bindCheck, WINDOW);
    int threads = 8;
    ExecutorService pool = Executors.newFixedThreadPool(threads);
    CountDownLatch start = new CountDownLatch(1);
    List<Future<List<Integer>>> results = new ArrayList<>();
    try {
      for (int t = 0; t < threads; t++) {
        results.add(
            pool.submit(
                () -> {
                  start.await();
                  List<Integer> mine = new ArrayList<>();
                  for (int i = 0; i < 25; i++) {
                    mine.addAll(
                        granted(allocator.allocate(1 + ThreadLocalRandom.current().nextInt(9))));
                  }
                  return mine;
                }));
      }
      start.countDown();
      Map<Integer, Integer> times = new java.util.HashMap<>();
      for (Future<List<Integer>> result : results) {
        for (int port : result.get(30, TimeUnit.SECONDS)) {
          times.merge(port, 1, Integer::sum);
        }
      }
      times.forEach((port, n) -> assertEquals(1, n, "port " + port + " handed out " + n + "x"));
      // Every port handed out is reserved: the rest of the range is all there is left.
      for (int rest = range.size() - times.size(); rest > 0; rest -= PortAllocator.MAX_COUNT) {
        int count = Math.min(rest, PortAllocator.MAX_COUNT);
        assertEquals(count, granted(allocator.allocate(count)).size());
      }
      assertEquals(new Allocation.Insufficient(1, 0), allocator.allocate(1));
    } finally {
      pool.shutdownNow();
    }
  }

  @Test
  void withTheRealBindProbeAPortHeldByAListenerIsNeverHandedOut() throws IOException {
    BindProbe probe = new BindProbe();
    PortRange range = FreePorts.range(8);
    int heldPort = range.first() + 3;
    try (ServerSocketChannel held = ServerSocketChannel.open(StandardProtocolFamily.INET)) {
      held.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), heldPort));
      Allocator allocator = spawn(range, probe, WINDOW);
      List<Integer> ports = granted(allocator.allocate(7));
      assertFalse(ports.contains(heldPort), ports.toString());
      assertEquals(new Allocation.Insufficient(1, 0), allocator.allocate(1));
    }
  }

  /** A bind check that blocks on the port {@code stall} until released, like a hung syscall. */
  private static final class StallingCheck implements PortBindCheck {
    final CountDownLatch entered = new CountDownLatch(1);
    final CountDownLatch release = new CountDownLatch(1);
    final int stall;

    StallingCheck(int stall) {
      this.stall = stall;
    }

    @Override
    public boolean canBind(int port) {
      if (port == stall) {
        entered.countDown();
        try {
          release.await(30, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      }
      return true;
    }
  }

  /**
   * While one request's bind tests hang, the actor is not blocked: requests wait their turn, and
   * past {@value PortAllocator#MAX_WAITING} waiting ones the next is answered Busy at once. Once
   * the bind tests finish, every waiting request is served, none sharing a port.
   */
  @Test
  void requestsWaitWhileOneIsBindTestedAndTheOverflowIsBusy() throws Exception {
    latest.set(scan(new PortRange(20000, 20999)));
    StallingCheck check = new StallingCheck(20000);
    Allocator allocator = spawn(new PortRange(20000, 20999), check, WINDOW);
    TestProbe<Allocation> first = KIT.createTestProbe();
    allocator.actor().tell(new PortAllocator.Allocate(1, first.ref()));
    assertTrue(check.entered.await(10, TimeUnit.SECONDS), "the first bind test started");

    TestProbe<Allocation> waiting = KIT.createTestProbe();
    for (int i = 0; i < PortAllocator.MAX_WAITING; i++) {
      allocator.actor().tell(new PortAllocator.Allocate(1, waiting.ref()));
    }
    TestProbe<Allocation> overflow = KIT.createTestProbe();
    allocator.actor().tell(new PortAllocator.Allocate(1, overflow.ref()));
    assertEquals(new Allocation.Busy(), overflow.receiveMessage(ANSWER));
    waiting.expectNoMessage(Duration.ofMillis(100));
    first.expectNoMessage(Duration.ZERO);

    check.release.countDown();
    assertEquals(List.of(20000), granted(first.receiveMessage(ANSWER)));
    Set<Integer> seen = new HashSet<>(List.of(20000));
    for (int i = 0; i < PortAllocator.MAX_WAITING; i++) {
      for (int port : granted(waiting.receiveMessage(ANSWER))) {
        assertTrue(seen.add(port), "port " + port + " handed out twice");
      }
    }
  }

  /**
   * A bind check that throws is a bug: the caller hears Failed, the waiting callers Busy, the actor
   * restarts, and serves again without handing out the ports it had reserved before.
   */
  @Test
  void aThrowingBindCheckRestartsTheAllocatorWhichKeepsItsReservations() {
    latest.set(scan(RANGE));
    java.util.concurrent.atomic.AtomicBoolean broken =
        new java.util.concurrent.atomic.AtomicBoolean();
    Allocator allocator =
        spawn(
            RANGE,
            port -> {
              if (broken.getAndSet(false)) {
                throw new IllegalStateException("probe bug");
              }
              return bindCheck.canBind(port);
            },
            WINDOW);
    List<Integer> before = granted(allocator.allocate(3));
    assertEquals(List.of(20000, 20001, 20002), before);

    broken.set(true);
    Allocation failed = allocator.allocate(1);
    assertEquals(new Allocation.Failed("java.lang.IllegalStateException: probe bug"), failed);

    // After the restart (about a second), the reserved ports are still withheld.
    List<Integer> after = granted(allocator.allocate(7));
    assertEquals(List.of(20003, 20004, 20005, 20006, 20007, 20008, 20009), after);
    assertEquals(new Allocation.Insufficient(1, 0), allocator.allocate(1));
  }
}
