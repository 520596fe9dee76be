package io.sigma.agent.ports;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

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
import org.junit.jupiter.api.Test;

/**
 * The allocator's rules with a bind check the test controls (which ports "are taken" right now, and
 * which ports were bind-tested), plus one run with the real {@link BindProbe}.
 */
class PortAllocatorTest {
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

  private PortAllocator allocator(Duration reservation) {
    return new PortAllocator(RANGE, latest, bindCheck, reservation, clock);
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
    PortAllocator allocator = allocator(WINDOW);
    List<Integer> first = granted(allocator.allocate(10));
    assertEquals(10, allocator.reservedCount());
    Allocation whileReserved = allocator.allocate(1);
    assertEquals(new Allocation.Insufficient(1, 0), whileReserved);

    clock.advance(WINDOW.minusMillis(1));
    assertInstanceOf(Allocation.Insufficient.class, allocator.allocate(1));
    clock.advance(Duration.ofMillis(1));
    assertEquals(0, allocator.reservedCount());
    List<Integer> again = granted(allocator.allocate(10));
    assertEquals(new HashSet<>(first), new HashSet<>(again));
  }

  @Test
  void answersNeverShareAPortWithinTheWindow() {
    latest.set(scan(RANGE));
    PortAllocator allocator = allocator(WINDOW);
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
    PortAllocator allocator = allocator(Duration.ZERO);
    assertEquals(
        List.of(20000, 20001, 20002, 20003, 20004, 20005, 20006, 20007),
        granted(allocator.allocate(8)));
    assertEquals(List.of(20008, 20009, 20000), granted(allocator.allocate(3)));
  }

  @Test
  void zeroReservationReservesNothing() {
    latest.set(scan(RANGE));
    PortAllocator allocator = allocator(Duration.ZERO);
    granted(allocator.allocate(10));
    assertEquals(0, allocator.reservedCount());
    assertEquals(10, granted(allocator.allocate(10)).size());
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
    PortAllocator allocator = allocator(WINDOW);
    assertEquals(new Allocation.Insufficient(4, 3), allocator.allocate(4));
    assertEquals(0, allocator.reservedCount());
    assertEquals(List.of(20007, 20008, 20009), granted(allocator.allocate(3)));
  }

  @Test
  void countOutsideOneToAThousandIsRejected() {
    PortAllocator allocator =
        new PortAllocator(new PortRange(1024, 65535), latest, bindCheck, WINDOW, clock);
    for (int count : new int[] {0, -1, 1001, Integer.MAX_VALUE, Integer.MIN_VALUE}) {
      assertThrows(
          IllegalArgumentException.class, () -> allocator.allocate(count), "count " + count);
    }
    assertEquals(1000, granted(allocator.allocate(1000)).size());
  }

  @Test
  void negativeReservationIsRejected() {
    assertThrows(
        IllegalArgumentException.class,
        () -> new PortAllocator(RANGE, latest, bindCheck, Duration.ofSeconds(-1), clock));
  }

  @Test
  void concurrentCallersNeverGetTheSamePort() throws Exception {
    PortRange range = new PortRange(20000, 21999);
    PortAllocator allocator = new PortAllocator(range, latest, bindCheck, WINDOW, clock);
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
      assertEquals(times.size(), allocator.reservedCount());
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
      PortAllocator allocator =
          new PortAllocator(range, new LatestPortScan(), probe, WINDOW, clock);
      List<Integer> ports = granted(allocator.allocate(7));
      assertFalse(ports.contains(heldPort), ports.toString());
      assertEquals(new Allocation.Insufficient(1, 0), allocator.allocate(1));
    }
  }
}
