package io.sigma.agent.ports;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sigma.agent.config.PortRange;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.BitSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PortScanTest {
  private static final Instant AT = Instant.parse("2026-11-26T10:00:00Z");

  @TempDir Path procRoot;

  static PortScan scan(PortRange range, int... occupied) {
    BitSet set = new BitSet();
    for (int port : occupied) {
      set.set(port);
    }
    return new PortScan(range, set, ListenerAttribution.none(), AT, Duration.ofMillis(3));
  }

  @Test
  void countsTotalAvailableAndInUse() {
    PortScan scan = scan(new PortRange(100, 109), 100, 105, 109);
    assertEquals(10, scan.total());
    assertEquals(3, scan.inUse());
    assertEquals(7, scan.available());
    assertTrue(scan.occupied().get(105));
    assertFalse(scan.occupied().get(106));
  }

  @Test
  void copiesItsBitSetAndRejectsBadInput() {
    BitSet occupied = new BitSet();
    occupied.set(100);
    PortScan scan =
        new PortScan(
            new PortRange(100, 200), occupied, ListenerAttribution.none(), AT, Duration.ZERO);
    occupied.set(101);
    scan.occupied().set(102);
    assertEquals(1, scan.inUse());
    assertThrows(IllegalArgumentException.class, () -> scan(new PortRange(100, 200), 99));
    assertThrows(
        IllegalArgumentException.class,
        () ->
            new PortScan(
                new PortRange(1, 2),
                new BitSet(),
                ListenerAttribution.none(),
                AT,
                Duration.ofMillis(-1)));
  }

  @Test
  void attributionHasEverySourceAndRejectsNegativeCounts() {
    ListenerAttribution attribution =
        new ListenerAttribution(Map.of(ListenerSource.SSHD, 2), Map.of("java", 1));
    assertEquals(2, attribution.count(ListenerSource.SSHD));
    assertEquals(0, attribution.count(ListenerSource.ENVOY));
    assertEquals(Set.of(ListenerSource.values()), attribution.countsBySource().keySet());
    assertThrows(
        IllegalArgumentException.class,
        () -> new ListenerAttribution(Map.of(ListenerSource.XRAY, -1), Map.of()));
    assertThrows(
        IllegalArgumentException.class,
        () -> new ListenerAttribution(Map.of(), Map.of("java", -1)));
    assertThrows(
        UnsupportedOperationException.class,
        () -> attribution.countsBySource().put(ListenerSource.ENVOY, 1));
  }

  @Test
  void scannerCombinesOccupancyAndAttributionOfTheCapturedMachine() throws IOException {
    Files.createDirectories(procRoot.resolve("net"));
    for (String table : List.of("tcp", "tcp6")) {
      try (InputStream in = getClass().getResourceAsStream("/ports/proc-captured/net/" + table)) {
        Files.copy(in, procRoot.resolve("net").resolve(table));
      }
    }
    String ss = SsOutputParserTest.fixture("captured-tulnp-with-java.txt");
    CommandRunner runner =
        command ->
            command.equals(ListenerAttributor.SS)
                ? CommandResult.ok(ss)
                : new CommandResult(1, "", "denied", false);
    Set<Integer> refused = Set.of(20203, 20111, 20112);
    PortScanner scanner =
        new PortScanner(
            new KernelPortScanner(procRoot, port -> !refused.contains(port)),
            new ListenerAttributor(runner, procRoot),
            Clock.fixed(AT, ZoneOffset.UTC));

    PortScan scan = scanner.scan(new PortRange(20100, 20399));

    assertEquals(300, scan.total());
    assertEquals(12, scan.inUse());
    assertEquals(288, scan.available());
    assertEquals(AT, scan.at());
    assertFalse(scan.took().isNegative());
    assertEquals(7, scan.listeners().count(ListenerSource.NGINX));
    assertEquals(1, scan.listeners().count(ListenerSource.UNKNOWN));
    assertEquals(Map.of("java", 2), scan.listeners().otherByProcess());
  }
}
