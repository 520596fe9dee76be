package io.sigma.agent.bench;

import io.sigma.agent.config.PortRange;
import io.sigma.agent.ports.BindProbe;
import io.sigma.agent.ports.KernelPortScanner;
import io.sigma.agent.ports.ListenerAttribution;
import io.sigma.agent.ports.ListenerAttributor;
import io.sigma.agent.ports.PortOccupancy;
import io.sigma.agent.ports.ProcNetTcpParser;
import io.sigma.agent.ports.ProcessCommandRunner;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.BitSet;
import java.util.Comparator;
import java.util.Random;
import java.util.stream.Stream;

/**
 * Scans the default range 10000-30000 with the fast path ({@link KernelPortScanner} over this
 * machine's /proc) and with the bind test ({@link BindProbe}, every port) in the same run, and
 * prints median/p90 of each side by side; then the parse-only cost of the real tables, the same on
 * a synthetic "busy VPS" /proc (15,000 sockets), and the cost of one attribution (ss).
 *
 * <p>Run: {@code mvn -B -Pbench verify -Dbench=ports}
 */
public final class PortScanBenchmark {
  private static final PortRange RANGE = PortRange.DEFAULT;
  private static final Path PROC = Path.of("/proc");

  private PortScanBenchmark() {}

  public static void main(String[] args) throws Exception {
    BindProbe probe = new BindProbe();
    KernelPortScanner fast = new KernelPortScanner(PROC, probe);
    System.out.printf(
        "machine: %d cores, %s %s, Java %s; range %s (%d ports)%n",
        Runtime.getRuntime().availableProcessors(),
        System.getProperty("os.name"),
        System.getProperty("os.version"),
        System.getProperty("java.version"),
        RANGE,
        RANGE.size());

    // 1. fast path vs bind test, same run
    PortOccupancy sample = fast.scan(RANGE);
    System.out.printf(
        "real tables: %d socket rows, %d ambiguous port(s) probed, %d occupied%n",
        sample.socketRows(), sample.probedPorts(), sample.inUse());
    long[] fastNanos = Timings.measure(300, 500, () -> fast.scan(RANGE).inUse());
    long[] bindNanos = Timings.measure(3, 15, () -> probe.occupied(RANGE).cardinality());
    BitSet truth = probe.occupied(RANGE);
    BitSet scanned = fast.scan(RANGE).occupied();
    System.out.println();
    System.out.printf(
        "%-34s %12s %12s %8s%n", "default range 10000-30000", "median", "p90", "runs");
    row("fast scan (/proc/net/tcp{,6})", fastNanos);
    row("bind test (20,001 binds)", bindNanos);
    System.out.printf(
        "%-34s %12s %12s%n",
        "ratio bind/fast",
        String.format("%.0fx", (double) median(bindNanos) / median(fastNanos)),
        String.format("%.0fx", (double) p90(bindNanos) / p90(fastNanos)));
    System.out.printf(
        "fast scan == bind test on the last pair: %s (%d occupied)%n",
        truth.equals(scanned), truth.cardinality());

    // 2. parse-only on the real tables
    byte[] tcp = Files.readAllBytes(PROC.resolve("net/tcp"));
    byte[] tcp6 =
        Files.exists(PROC.resolve("net/tcp6"))
            ? Files.readAllBytes(PROC.resolve("net/tcp6"))
            : new byte[0];
    long[] parseReal = Timings.measure(2000, 5000, () -> parse(tcp) + parse(tcp6));
    System.out.println();
    row("parse only, real tables (" + (tcp.length + tcp6.length) + " B)", parseReal);

    // 3. a busy VPS: synthetic tables with 10,000 IPv4 + 5,000 IPv6 sockets
    Path busy = Files.createTempDirectory("sigma-bench-proc");
    try {
      writeBusyTables(busy, 10_000, 5_000);
      byte[] busyTcp = Files.readAllBytes(busy.resolve("net/tcp"));
      byte[] busyTcp6 = Files.readAllBytes(busy.resolve("net/tcp6"));
      KernelPortScanner busyScanner = new KernelPortScanner(busy, probe);
      PortOccupancy busySample = busyScanner.scan(RANGE);
      long[] busyParse = Timings.measure(50, 300, () -> parse(busyTcp) + parse(busyTcp6));
      long[] busyScan = Timings.measure(50, 300, () -> busyScanner.scan(RANGE).inUse());
      row(
          "parse only, busy tables (" + (busyTcp.length + busyTcp6.length) / 1024 + " KiB)",
          busyParse);
      row("fast scan, busy tables", busyScan);
      System.out.printf(
          "busy tables: %d socket rows, %d ambiguous port(s) probed, %d occupied%n",
          busySample.socketRows(), busySample.probedPorts(), busySample.inUse());
    } finally {
      try (Stream<Path> files = Files.walk(busy)) {
        files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
      }
    }

    // 4. attribution (spawns ss, and nsenter/fd walk when names are missing)
    ListenerAttributor attributor = new ListenerAttributor(new ProcessCommandRunner(), PROC);
    ListenerAttribution[] last = new ListenerAttribution[1];
    long[] attribution =
        Timings.measure(
            3,
            20,
            () -> {
              last[0] = attributor.attribute();
              return last[0].countsBySource().size();
            });
    System.out.println();
    row("attribution (ss -tulnp + fallbacks)", attribution);
    System.out.println(
        "listening ports by source: "
            + last[0].countsBySource()
            + ", other: "
            + last[0].otherByProcess());
  }

  private static int parse(byte[] table) {
    int[] count = {0};
    ProcNetTcpParser.parse(table, table.length, (address, port, state, inode) -> count[0]++);
    return count[0];
  }

  private static long median(long[] sorted) {
    return sorted[sorted.length / 2];
  }

  private static long p90(long[] sorted) {
    return sorted[(int) Math.ceil(sorted.length * 0.9) - 1];
  }

  private static void row(String name, long[] sorted) {
    System.out.printf(
        "%-34s %12s %12s %8d%n", name, format(median(sorted)), format(p90(sorted)), sorted.length);
  }

  private static String format(long nanos) {
    return nanos >= 1_000_000
        ? String.format("%.2f ms", nanos / 1e6)
        : String.format("%.1f µs", nanos / 1e3);
  }

  /**
   * Writes /proc-like tables: a few hundred listeners (some IPv6 [::] ones inside the range, which
   * the scan must probe) and thousands of connections and TIME_WAITs, like a busy proxy.
   */
  private static void writeBusyTables(Path root, int ipv4Rows, int ipv6Rows) throws IOException {
    Files.createDirectories(root.resolve("net"));
    Random random = new Random(7);
    StringBuilder tcp =
        new StringBuilder(
            "  sl  local_address rem_address   st tx_queue "
                + "rx_queue tr tm->when retrnsmt   uid  timeout inode\n");
    for (int i = 0; i < ipv4Rows; i++) {
      boolean listener = i < 300;
      int port = listener ? 10000 + random.nextInt(20001) : 32768 + random.nextInt(28000);
      int state = listener ? 0x0A : (random.nextBoolean() ? 0x01 : 0x06);
      tcp.append(
          String.format(
              "%4d: %08X:%04X %08X:%04X %02X 00000000:00000000 00:00000000"
                  + " 00000000     0        0 %d 1 0000000000000000 100 0 0 10 0%n",
              i,
              listener ? 0 : 0x0A00000A,
              port,
              listener ? 0 : random.nextInt(),
              listener ? 0 : random.nextInt(65535),
              state,
              state == 0x06 ? 0 : 100000 + i));
    }
    Files.writeString(root.resolve("net/tcp"), tcp);
    StringBuilder tcp6 =
        new StringBuilder(
            "  sl  local_address                         "
                + "remote_address                        st tx_queue rx_queue tr tm->when retrnsmt"
                + "   uid  timeout inode\n");
    for (int i = 0; i < ipv6Rows; i++) {
      boolean listener = i < 20;
      String local =
          listener
              ? "00000000000000000000000000000000"
              : "0000000000000000FFFF0000" + String.format("%08X", random.nextInt());
      int port = listener ? 10000 + random.nextInt(20001) : 32768 + random.nextInt(28000);
      tcp6.append(
          String.format(
              "%4d: %s:%04X 0000000000000000FFFF00000100007F:%04X %02X"
                  + " 00000000:00000000 00:00000000 00000000     0        0 %d 1 0000000000000000"
                  + " 20 0 0 10 -1%n",
              i, local, port, random.nextInt(65535), listener ? 0x0A : 0x01, 200000 + i));
    }
    Files.writeString(root.resolve("net/tcp6"), tcp6);
  }
}
