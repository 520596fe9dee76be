package io.sigma.agent.ports;

import io.sigma.agent.config.PortRange;
import io.sigma.agent.host.HostFileReader;
import io.sigma.agent.host.HostFileRefusedException;
import java.io.IOException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.BitSet;
import java.util.Objects;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Finds the ports of a range that a TCP bind to {@code 0.0.0.0:port} would hit, from the kernel's
 * socket tables {@code <proc>/net/tcp} and {@code <proc>/net/tcp6} instead of binding every port
 * ({@link BindProbe}, ~20 µs a port). It gives exactly the bind test's answer, and a test holds the
 * cases below open to prove it.
 *
 * <h2>What makes {@code bind(0.0.0.0:port)} fail</h2>
 *
 * Measured on Linux 6.18 (the bind is an IPv4 socket without {@code SO_REUSEADDR}, like {@link
 * BindProbe}):
 *
 * <table>
 *   <caption>socket holding the port → where it shows → bind</caption>
 *   <tr><td>IPv4 listener on 0.0.0.0, or on one address (127.0.0.1)</td>
 *       <td>tcp, LISTEN</td><td>fails</td></tr>
 *   <tr><td>IPv4 outbound connection whose (ephemeral or chosen) local port it is</td>
 *       <td>tcp, ESTABLISHED</td><td>fails</td></tr>
 *   <tr><td>IPv4 TIME_WAIT (left by the side that closed first)</td>
 *       <td>tcp, TIME_WAIT</td><td>fails</td></tr>
 *   <tr><td>IPv6 listener on {@code ::}, dual-stack (Java's default)</td>
 *       <td>tcp6, {@code ::}, LISTEN</td><td>fails</td></tr>
 *   <tr><td>IPv6 listener on {@code ::} with IPV6_V6ONLY (nginx's and sshd's default)</td>
 *       <td>tcp6, {@code ::}, LISTEN — the same row</td><td>succeeds</td></tr>
 *   <tr><td>IPv6 listener on one IPv6 address ({@code ::1}, {@code fd00::2}): the kernel makes
 *       such a socket v6-only when it binds it</td><td>tcp6, LISTEN</td><td>succeeds</td></tr>
 *   <tr><td>IPv6 listener on {@code ::ffff:127.0.0.1}</td>
 *       <td>tcp6, IPv4-mapped</td><td>fails</td></tr>
 *   <tr><td>IPv6 connection (ESTABLISHED or TIME_WAIT) of a dual-stack socket: a client that
 *       did not bind, or bound {@code ::}; a child of a dual-stack listener</td>
 *       <td>tcp6, e.g. {@code ::1}</td><td>fails</td></tr>
 *   <tr><td>IPv6 connection of a v6-only socket: a client that bound {@code ::1} before
 *       connecting; a child of a v6-only listener</td>
 *       <td>tcp6 — the same rows</td><td>succeeds</td></tr>
 *   <tr><td>UDP socket on the port</td><td>udp</td><td>succeeds</td></tr>
 *   <tr><td>IPv4 socket bound but neither listening nor connected</td>
 *       <td><b>nowhere</b></td><td>fails</td></tr>
 * </table>
 *
 * <h2>Rules</h2>
 *
 * <ol>
 *   <li>Every row of {@code tcp}, and every IPv4-mapped row of {@code tcp6}, in any state, occupies
 *       its local port: without {@code SO_REUSEADDR} on the binding side the kernel refuses the
 *       bind against any socket on the port whose address overlaps, and {@code 0.0.0.0} overlaps
 *       all IPv4 addresses.
 *   <li>A {@code tcp6} LISTEN row on one IPv6 address never occupies the port (row 6 above).
 *   <li>Every other {@code tcp6} row is ambiguous: whether it collides with an IPv4 bind depends on
 *       the socket's IPV6_V6ONLY flag, which the tables do not print (rows 4/5, 8/9). The ports
 *       whose only rows are ambiguous ones are bind-probed with the {@link PortBindCheck} given to
 *       the constructor. On a VPS these are a handful (IPv6 listeners inside the range), so the
 *       scan stays table-fast.
 * </ol>
 *
 * <h2>Limits</h2>
 *
 * <ul>
 *   <li>A socket that is bound but neither listening nor connected is in no table, yet blocks the
 *       bind (last row). Such sockets live for the instant between a program's bind and its
 *       listen/connect, so the scan can miss them; port allocation bind-tests every port it hands
 *       out for this reason.
 *   <li>{@code SO_REUSEADDR}: Envoy sets it on its listeners. A bind with {@code SO_REUSEADDR}
 *       succeeds over non-listening sockets (TIME_WAIT, connections) that also set it; the scan,
 *       like the bind test, counts those ports as occupied: it errs on the safe side.
 *   <li>The tables, like binds, are per network namespace, and {@code <proc>/net} is {@code
 *       <proc>/self/net}: the namespace of the reading process. The agent must share the host's
 *       network namespace (as Envoy does) for its answer to be the host's. A host {@code /proc}
 *       mounted elsewhere in a container is passed as {@code procRoot}.
 *   <li>A non-root process's bind of a port below {@code net.ipv4.ip_unprivileged_port_start} fails
 *       however free the port is; the scan reports such ports by their sockets only.
 *   <li>A probe holds its port for a few microseconds; a program binding that very port in that
 *       instant gets EADDRINUSE. The original agent bound every port of the range on every scan;
 *       this scan probes only the ambiguous few.
 * </ul>
 *
 * <p>If {@code <proc>/net/tcp} (or an existing {@code tcp6}) cannot be read, the scan logs one
 * warning per scanner and falls back to bind-probing the whole range; a missing {@code tcp6} just
 * means IPv6 is off. Malformed lines are skipped with one warning per scanner. Thread-safe ({@code
 * scan} is synchronized: it reuses one read buffer).
 */
public final class KernelPortScanner {
  private static final Logger LOG = LoggerFactory.getLogger(KernelPortScanner.class);
  private static final int INITIAL_BUFFER = 64 * 1024;

  private final Path tcpTable;
  private final Path tcp6Table;
  private final PortBindCheck ambiguityCheck;
  private byte[] buffer = new byte[INITIAL_BUFFER];
  private boolean warnedUnreadable;
  private boolean warnedMalformed;

  /**
   * @param procRoot where procfs is mounted, normally {@code /proc}
   * @param ambiguityCheck decides the ports the tables leave ambiguous, normally a {@link
   *     BindProbe}
   */
  public KernelPortScanner(Path procRoot, PortBindCheck ambiguityCheck) {
    Objects.requireNonNull(procRoot, "procRoot");
    this.tcpTable = procRoot.resolve("net").resolve("tcp");
    this.tcp6Table = procRoot.resolve("net").resolve("tcp6");
    this.ambiguityCheck = Objects.requireNonNull(ambiguityCheck, "ambiguityCheck");
  }

  /** The occupied ports of {@code range} at this moment. Never throws for bad or missing tables. */
  public synchronized PortOccupancy scan(PortRange range) {
    BitSet occupied = new BitSet(range.last() + 1);
    BitSet ambiguous = new BitSet(range.last() + 1);
    ProcNetTcpParser.RowVisitor visitor =
        (address, port, state, inode) -> {
          if (port < range.first() || port > range.last()) {
            return;
          }
          if (address.isIpv4()) {
            occupied.set(port);
          } else if (!(state == TcpState.LISTEN && address == LocalAddressKind.V6_SPECIFIC)) {
            ambiguous.set(port);
          }
        };
    int rows;
    try {
      rows = parseTable(tcpTable, visitor, false);
      rows += parseTable(tcp6Table, visitor, true);
    } catch (IOException e) {
      if (!warnedUnreadable) {
        warnedUnreadable = true;
        LOG.warn(
            "cannot read the kernel socket tables ({}); scanning {} with a bind test of every"
                + " port instead (slower, same answer)",
            e instanceof HostFileRefusedException ? e.getMessage() : e.toString(),
            range);
      } else {
        LOG.debug("socket tables still unreadable ({}); bind-testing {}", e, range);
      }
      return fullBindTest(range);
    }
    ambiguous.andNot(occupied);
    int probed = 0;
    for (int port = ambiguous.nextSetBit(0); port >= 0; port = ambiguous.nextSetBit(port + 1)) {
      probed++;
      if (!ambiguityCheck.canBind(port)) {
        occupied.set(port);
      }
    }
    return new PortOccupancy(range, occupied, rows, probed, PortOccupancy.Method.SOCKET_TABLES);
  }

  private PortOccupancy fullBindTest(PortRange range) {
    BitSet occupied = new BitSet(range.last() + 1);
    for (int port = range.first(); port <= range.last(); port++) {
      if (!ambiguityCheck.canBind(port)) {
        occupied.set(port);
      }
    }
    return new PortOccupancy(range, occupied, 0, range.size(), PortOccupancy.Method.BIND_TEST);
  }

  private int parseTable(Path table, ProcNetTcpParser.RowVisitor visitor, boolean optional)
      throws IOException {
    int length;
    try {
      length = readFully(table);
    } catch (NoSuchFileException e) {
      if (optional) {
        return 0; // no tcp6: IPv6 is disabled, nothing can hold a port over IPv6
      }
      throw e;
    } catch (HostFileRefusedException e) {
      throw e; // its message names the table already
    } catch (IOException e) {
      throw new IOException(table + ": " + e.getMessage(), e);
    }
    ProcNetTcpParser.Counts counts = ProcNetTcpParser.parse(buffer, length, visitor);
    if (counts.malformedLines() > 0) {
      if (!warnedMalformed) {
        warnedMalformed = true;
        LOG.warn(
            "skipped {} malformed line(s) of {} (first: '{}'); the ports they hold are not"
                + " counted as occupied",
            counts.malformedLines(),
            table,
            counts.firstMalformedLine().strip());
      } else {
        LOG.debug("skipped {} malformed line(s) of {}", counts.malformedLines(), table);
      }
    }
    return counts.rows();
  }

  /**
   * Reads a table into {@link #buffer}, growing it up to {@link HostFileReader#SOCKET_TABLE_CAP} (a
   * larger table, a FIFO or a device is refused: the scan then bind-tests the range).
   */
  private int readFully(Path file) throws IOException {
    HostFileReader.Bytes read = HostFileReader.read(file, HostFileReader.SOCKET_TABLE_CAP, buffer);
    buffer = read.data();
    return read.length();
  }
}
