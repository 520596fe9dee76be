package io.sigma.agent.ports;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sigma.agent.config.PortRange;
import io.sigma.agent.host.HostFileReader;
import io.sigma.agent.host.HostileProcRoot;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** The scan's rules on fixture tables; KernelPortScannerIT proves them against real binds. */
class KernelPortScannerTest {

  @TempDir Path procRoot;

  /** A bind check answering from a fixed set of refused ports, remembering what it was asked. */
  static final class CannedBindCheck implements PortBindCheck {
    final Set<Integer> refused;
    final List<Integer> asked = new ArrayList<>();

    CannedBindCheck(Set<Integer> refused) {
      this.refused = refused;
    }

    @Override
    public boolean canBind(int port) {
      asked.add(port);
      return !refused.contains(port);
    }
  }

  void copyFixture(String from, String table) throws IOException {
    Files.createDirectories(procRoot.resolve("net"));
    try (InputStream in = getClass().getResourceAsStream("/ports/" + from)) {
      Files.copy(in, procRoot.resolve("net").resolve(table));
    }
  }

  static BitSet ports(int... ports) {
    BitSet set = new BitSet();
    IntStream.of(ports).forEach(set::set);
    return set;
  }

  @Test
  void capturedTablesGiveTheBindTestAnswerProbingOnlyAmbiguousIpv6Ports() throws IOException {
    copyFixture("proc-captured/net/tcp", "tcp");
    copyFixture("proc-captured/net/tcp6", "tcp6");
    // What a bind of each ambiguous port answered at capture time (fixtures README):
    // 20203 dual-stack listener, 20111/20112 dual-stack TIME_WAITs refuse; 20110 (v6-only) binds.
    CannedBindCheck check = new CannedBindCheck(Set.of(20203, 20111, 20112));
    KernelPortScanner scanner = new KernelPortScanner(procRoot, check);

    PortOccupancy occupancy = scanner.scan(new PortRange(20100, 20400));

    assertEquals(
        ports(20109, 20111, 20112, 20200, 20201, 20202, 20203, 20207, 20300, 20301, 20302, 20303),
        occupancy.occupied());
    // 20200 and 20303 have IPv4 rows too, 20204/20209 are v6 listeners on ::1: none is probed
    assertEquals(List.of(20110, 20111, 20112, 20203), check.asked);
    assertEquals(4, occupancy.probedPorts());
    assertEquals(26, occupancy.socketRows());
    assertEquals(PortOccupancy.Method.SOCKET_TABLES, occupancy.method());
    assertEquals(12, occupancy.inUse());
  }

  @Test
  void rowsOutsideTheRangeAreIgnored() throws IOException {
    copyFixture("proc-captured/net/tcp", "tcp");
    copyFixture("proc-captured/net/tcp6", "tcp6");
    CannedBindCheck check = new CannedBindCheck(Set.of());
    PortOccupancy occupancy =
        new KernelPortScanner(procRoot, check).scan(new PortRange(20200, 20202));
    assertEquals(ports(20200, 20201, 20202), occupancy.occupied());
    assertEquals(List.of(), check.asked);
  }

  @Test
  void ipv6SpecificListenersNeverOccupyAndMappedRowsAlwaysDo() throws IOException {
    copyFixture("proc-handmade/net/tcp6", "tcp6");
    Files.writeString(procRoot.resolve("net/tcp"), "");
    CannedBindCheck check = new CannedBindCheck(Set.of());
    PortOccupancy occupancy =
        new KernelPortScanner(procRoot, check).scan(new PortRange(20000, 20100));
    // 20016..20018 are IPv4-mapped; 20019 (fe80::) and 20020 are v6 listeners on one address;
    // 20022 is a [::] listener: ambiguous, and the canned check says it binds
    assertEquals(ports(20016, 20017, 20018), occupancy.occupied());
    assertEquals(List.of(20022), check.asked);
  }

  @Test
  void missingTcp6MeansNoIpv6NotAFailure() throws IOException {
    copyFixture("proc-captured/net/tcp", "tcp");
    CannedBindCheck check = new CannedBindCheck(Set.of());
    PortOccupancy occupancy =
        new KernelPortScanner(procRoot, check).scan(new PortRange(20000, 20400));
    assertEquals(PortOccupancy.Method.SOCKET_TABLES, occupancy.method());
    assertEquals(
        ports(20109, 20200, 20201, 20202, 20207, 20300, 20301, 20302), occupancy.occupied());
    assertEquals(List.of(), check.asked);
  }

  @Test
  void unreadableTablesFallBackToBindTestingTheWholeRange() {
    // procRoot has no net/ directory at all
    CannedBindCheck check = new CannedBindCheck(Set.of(31001, 31003));
    KernelPortScanner scanner = new KernelPortScanner(procRoot, check);
    PortRange range = new PortRange(31000, 31004);

    PortOccupancy first = scanner.scan(range);
    PortOccupancy second = scanner.scan(range);

    assertEquals(PortOccupancy.Method.BIND_TEST, first.method());
    assertEquals(ports(31001, 31003), first.occupied());
    assertEquals(5, first.probedPorts());
    assertEquals(first, second);
    assertEquals(10, check.asked.size());
  }

  @Test
  void anExistingButUnreadableTcp6AlsoFallsBack() throws IOException {
    copyFixture("proc-captured/net/tcp", "tcp");
    Files.createDirectory(procRoot.resolve("net/tcp6")); // reading a directory fails
    CannedBindCheck check = new CannedBindCheck(Set.of(20200));
    PortOccupancy occupancy =
        new KernelPortScanner(procRoot, check).scan(new PortRange(20199, 20201));
    assertEquals(PortOccupancy.Method.BIND_TEST, occupancy.method());
    assertEquals(ports(20200), occupancy.occupied());
  }

  /** A FIFO tcp or a tcp6 linked to /dev/zero would block or never end: refused, bind test. */
  @Test
  @Timeout(value = 10, unit = TimeUnit.SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
  void aFifoOrDeviceInPlaceOfATableFallsBackToTheBindTest() throws Exception {
    Files.createDirectories(procRoot.resolve("net"));
    HostileProcRoot.mkfifo(procRoot.resolve("net/tcp"));
    CannedBindCheck check = new CannedBindCheck(Set.of(20200));
    PortOccupancy occupancy =
        new KernelPortScanner(procRoot, check).scan(new PortRange(20199, 20201));
    assertEquals(PortOccupancy.Method.BIND_TEST, occupancy.method());
    assertEquals(ports(20200), occupancy.occupied());

    Files.delete(procRoot.resolve("net/tcp"));
    copyFixture("proc-captured/net/tcp", "tcp");
    Files.createSymbolicLink(procRoot.resolve("net/tcp6"), Path.of("/dev/zero"));
    assertEquals(
        PortOccupancy.Method.BIND_TEST,
        new KernelPortScanner(procRoot, check).scan(new PortRange(20199, 20201)).method());
  }

  @Test
  void aTableOverTheCapFallsBackToTheBindTest() throws Exception {
    Files.createDirectories(procRoot.resolve("net"));
    HostileProcRoot.sparse(procRoot.resolve("net/tcp"), HostFileReader.SOCKET_TABLE_CAP + 1L);
    PortOccupancy occupancy =
        new KernelPortScanner(procRoot, new CannedBindCheck(Set.of()))
            .scan(new PortRange(20199, 20201));
    assertEquals(PortOccupancy.Method.BIND_TEST, occupancy.method());
  }

  @Test
  void malformedLinesAreSkippedAndTheRestCounts() throws IOException {
    copyFixture("proc-handmade/net/tcp", "tcp");
    copyFixture("proc-handmade/net/tcp6", "tcp6");
    CannedBindCheck check = new CannedBindCheck(Set.of(20022));
    KernelPortScanner scanner = new KernelPortScanner(procRoot, check);
    PortOccupancy occupancy = scanner.scan(new PortRange(20000, 20100));
    assertEquals(ports(20000, 20001, 20007, 20016, 20017, 20018, 20022), occupancy.occupied());
    // a second scan (warning already given) answers the same
    assertEquals(occupancy.occupied(), scanner.scan(new PortRange(20000, 20100)).occupied());
  }

  @Test
  void tablesLargerThanTheReadBufferAreReadWhole() throws IOException {
    Files.createDirectories(procRoot.resolve("net"));
    StringBuilder table = new StringBuilder("  sl  local_address rem_address   st tx_queue\n");
    for (int i = 0; i < 3000; i++) { // ~450 KB, several times the initial 64 KB buffer
      table.append(
          String.format(
              "%4d: 0100007F:%04X 0100007F:0050 01 00000000:00000000"
                  + " 00:00000000 00000000     0        0 %d 1 0000000000000000 20 4 30 10 -1"
                  + "                   %n",
              i, 20000 + 2 * i, 100000 + i));
    }
    Files.writeString(procRoot.resolve("net/tcp"), table);
    PortOccupancy occupancy =
        new KernelPortScanner(procRoot, new CannedBindCheck(Set.of()))
            .scan(new PortRange(20000, 30000));
    assertEquals(3000, occupancy.socketRows());
    assertEquals(3000, occupancy.inUse());
    assertTrue(occupancy.isOccupied(20000 + 2 * 2999));
    assertFalse(occupancy.isOccupied(20001));
  }

  @Test
  void occupancyCopiesItsBitSet() {
    BitSet occupied = ports(10);
    PortOccupancy occupancy =
        new PortOccupancy(new PortRange(1, 20), occupied, 1, 0, PortOccupancy.Method.SOCKET_TABLES);
    occupied.set(11);
    occupancy.occupied().set(12);
    assertEquals(ports(10), occupancy.occupied());
  }

  @Test
  void occupancyRejectsPortsOutsideItsRange() {
    assertThrows(
        IllegalArgumentException.class,
        () ->
            new PortOccupancy(
                new PortRange(5, 20), ports(4), 1, 0, PortOccupancy.Method.SOCKET_TABLES));
    assertThrows(
        IllegalArgumentException.class,
        () ->
            new PortOccupancy(
                new PortRange(5, 20), ports(21), 1, 0, PortOccupancy.Method.SOCKET_TABLES));
  }
}
