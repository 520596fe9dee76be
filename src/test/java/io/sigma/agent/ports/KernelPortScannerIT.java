package io.sigma.agent.ports;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.sigma.agent.config.PortRange;
import java.io.BufferedReader;
import java.io.Closeable;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ProtocolFamily;
import java.net.SocketAddress;
import java.net.StandardProtocolFamily;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.BitSet;
import java.util.Deque;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Holds real sockets of every kind inside a small range of free ports and checks that the fast scan
 * of /proc equals the bind-test ground truth over that range, port for port.
 */
class KernelPortScannerIT {
  private static final Path PROC = Path.of("/proc");
  private static final int RANGE_SIZE = 16;
  private static final Duration STATE_DEADLINE = Duration.ofSeconds(10);

  private final BindProbe probe = new BindProbe();
  private final KernelPortScanner scanner = new KernelPortScanner(PROC, probe);
  private final Deque<Closeable> held = new ArrayDeque<>();

  @AfterEach
  void release() {
    while (!held.isEmpty()) {
      try {
        held.pop().close();
      } catch (IOException e) {
        // best effort: the test is over
      }
    }
  }

  @Test
  void fastScanEqualsBindTestWithIpv4ListenersTimeWaitAndAnOutboundConnection() throws Exception {
    PortRange range = freeRange();
    int anyListener = range.first();
    int loopbackListener = range.first() + 1;
    int timeWait = range.first() + 2;
    int outbound = range.first() + 3;

    listen(StandardProtocolFamily.INET, "0.0.0.0", anyListener);
    listen(StandardProtocolFamily.INET, "127.0.0.1", loopbackListener);
    leaveTimeWait(StandardProtocolFamily.INET, "127.0.0.1", timeWait, "127.0.0.1");
    connectFrom(StandardProtocolFamily.INET, "127.0.0.1", outbound, "127.0.0.1");

    PortOccupancy fast = scanner.scan(range);
    BitSet truth = probe.occupied(range);

    assertEquals(truth, fast.occupied(), "fast scan vs bind test over " + range);
    assertEquals(ports(anyListener, loopbackListener, timeWait, outbound), truth);
    assertEquals(PortOccupancy.Method.SOCKET_TABLES, fast.method());
  }

  @Test
  void fastScanEqualsBindTestWithIpv6SocketsOfEveryKind() throws Exception {
    assumeTrue(hasIpv6(), "this machine has no IPv6 loopback");
    PortRange range = freeRange();
    int ipv4Listener = range.first();
    int v6OnlyAny = range.first() + 1;
    int dualStackAny = range.first() + 2;
    int v6Loopback = range.first() + 3;
    int mappedLoopback = range.first() + 4;
    int dualStackTimeWait = range.first() + 5;
    int v6OnlyConnection = range.first() + 6;
    int loopbackListener = range.first() + 7;
    int ipv4TimeWait = range.first() + 8;
    int ipv4Outbound = range.first() + 9;

    listen(StandardProtocolFamily.INET, "0.0.0.0", ipv4Listener);
    boolean v6OnlyHeld = listenV6OnlyInAnotherProcess(v6OnlyAny);
    listen(StandardProtocolFamily.INET6, "::", dualStackAny);
    listen(StandardProtocolFamily.INET6, "::1", v6Loopback);
    listen(StandardProtocolFamily.INET6, "::ffff:127.0.0.1", mappedLoopback);
    leaveTimeWait(StandardProtocolFamily.INET6, "::", dualStackTimeWait, "::1");
    connectFrom(StandardProtocolFamily.INET6, "::1", v6OnlyConnection, "::1");
    listen(StandardProtocolFamily.INET, "127.0.0.1", loopbackListener);
    leaveTimeWait(StandardProtocolFamily.INET, "127.0.0.1", ipv4TimeWait, "127.0.0.1");
    connectFrom(StandardProtocolFamily.INET, "127.0.0.1", ipv4Outbound, "127.0.0.1");

    PortOccupancy fast = scanner.scan(range);
    BitSet truth = probe.occupied(range);

    assertEquals(truth, fast.occupied(), "fast scan vs bind test over " + range);
    assertEquals(
        ports(
            ipv4Listener,
            dualStackAny,
            mappedLoopback,
            dualStackTimeWait,
            loopbackListener,
            ipv4TimeWait,
            ipv4Outbound),
        truth);
    // every held IPv6 port is in the tables; the v6-only ones leave 0.0.0.0 free to bind
    BitSet inTables = portsInTables(range);
    for (int port :
        new int[] {dualStackAny, v6Loopback, mappedLoopback, dualStackTimeWait, v6OnlyConnection}) {
      assertTrue(inTables.get(port), "port " + port + " is in /proc/net/tcp6");
    }
    if (v6OnlyHeld) {
      assertTrue(inTables.get(v6OnlyAny), "the v6-only listener is in /proc/net/tcp6");
      assertFalse(fast.isOccupied(v6OnlyAny));
    }
    // the ambiguous IPv6 rows (:: listeners, connections on ::1) were settled by probes
    assertTrue(fast.probedPorts() >= 2, "probed " + fast.probedPorts());
  }

  @Test
  void aBoundButIdleSocketIsInNoTableTheDocumentedBlindSpot() throws Exception {
    PortRange range = freeRange();
    int idle = range.first();
    var channel = SocketChannel.open(StandardProtocolFamily.INET);
    held.push(channel);
    channel.bind(new InetSocketAddress("127.0.0.1", idle));

    assertEquals(BindProbe.Outcome.REFUSED, probe.probe(idle));
    assertFalse(
        scanner.scan(range).isOccupied(idle),
        "if the kernel ever lists bound-only sockets, update KernelPortScanner's javadoc");
  }

  // ---- holding sockets ----

  private void listen(ProtocolFamily family, String address, int port) throws IOException {
    var server = ServerSocketChannel.open(family);
    held.push(server);
    server.bind(new InetSocketAddress(InetAddress.getByName(address), port));
  }

  /** An established connection whose local side is {@code localAddress:localPort}. */
  private void connectFrom(
      ProtocolFamily family, String localAddress, int localPort, String serverAddress)
      throws IOException {
    var server = ServerSocketChannel.open(family);
    held.push(server);
    server.bind(new InetSocketAddress(InetAddress.getByName(serverAddress), 0));
    var client = SocketChannel.open(family);
    held.push(client);
    client.bind(new InetSocketAddress(InetAddress.getByName(localAddress), localPort));
    client.connect(server.getLocalAddress());
    held.push(server.accept());
  }

  /**
   * Connects from {@code localAddress:localPort} and closes the client first (the active closer
   * keeps the TIME_WAIT), then waits until the kernel lists the TIME_WAIT row.
   */
  private void leaveTimeWait(
      ProtocolFamily family, String localAddress, int localPort, String serverAddress)
      throws IOException, InterruptedException {
    try (var server = ServerSocketChannel.open(family)) {
      server.bind(new InetSocketAddress(InetAddress.getByName(serverAddress), 0));
      SocketAddress serverSide = server.getLocalAddress();
      var client = SocketChannel.open(family);
      client.bind(new InetSocketAddress(InetAddress.getByName(localAddress), localPort));
      client.connect(serverSide);
      try (var accepted = server.accept()) {
        client.close();
        assertEquals(-1, accepted.read(ByteBuffer.allocate(1)), "server sees the client's FIN");
      }
    }
    awaitRow(localPort, TcpState.TIME_WAIT);
  }

  /**
   * A {@code [::]} listener with IPV6_V6ONLY set, which Java cannot set: a Perl one-liner holds it
   * until its stdin closes. Returns false (and the test still checks everything else) when Perl is
   * missing.
   */
  private boolean listenV6OnlyInAnotherProcess(int port) throws Exception {
    String script =
        "use Socket qw(:all); socket(my $s, AF_INET6, SOCK_STREAM, 0) or die $!;"
            + " setsockopt($s, IPPROTO_IPV6, IPV6_V6ONLY, 1) or die $!;"
            + " bind($s, pack_sockaddr_in6("
            + port
            + ", IN6ADDR_ANY)) or die $!;"
            + " listen($s, 8) or die $!; $| = 1; print \"listening\\n\"; <STDIN>;";
    Process perl;
    try {
      perl =
          new ProcessBuilder("perl", "-e", script)
              .redirectError(ProcessBuilder.Redirect.INHERIT)
              .start();
    } catch (IOException e) {
      return false;
    }
    held.push(
        () -> {
          perl.getOutputStream().close();
          try {
            if (!perl.waitFor(5, TimeUnit.SECONDS)) {
              perl.destroyForcibly();
            }
          } catch (InterruptedException e) {
            perl.destroyForcibly();
            Thread.currentThread().interrupt();
          }
        });
    BufferedReader out =
        new BufferedReader(new InputStreamReader(perl.getInputStream(), StandardCharsets.UTF_8));
    String line =
        CompletableFuture.supplyAsync(
                () -> {
                  try {
                    return out.readLine();
                  } catch (IOException e) {
                    return null;
                  }
                })
            .get(STATE_DEADLINE.toSeconds(), TimeUnit.SECONDS);
    assertEquals("listening", line, "perl v6-only listener on [::]:" + port);
    return true;
  }

  // ---- observing ----

  /** Polls /proc/net/tcp{,6} until a row with this local port and state shows up. */
  private static void awaitRow(int port, int state) throws IOException, InterruptedException {
    long deadline = System.nanoTime() + STATE_DEADLINE.toNanos();
    while (System.nanoTime() < deadline) {
      if (hasRow(port, state)) {
        return;
      }
      Thread.onSpinWait();
    }
    fail("no socket in state " + state + " on port " + port + " within " + STATE_DEADLINE);
  }

  private static boolean hasRow(int port, int state) throws IOException {
    boolean[] found = {false};
    for (String table : new String[] {"tcp", "tcp6"}) {
      Path file = PROC.resolve("net").resolve(table);
      if (Files.exists(file)) {
        byte[] data = Files.readAllBytes(file);
        ProcNetTcpParser.parse(
            data, data.length, (address, p, s, inode) -> found[0] |= p == port && s == state);
      }
    }
    return found[0];
  }

  private static BitSet portsInTables(PortRange range) throws IOException {
    BitSet ports = new BitSet();
    for (String table : new String[] {"tcp", "tcp6"}) {
      byte[] data = Files.readAllBytes(PROC.resolve("net").resolve(table));
      ProcNetTcpParser.parse(
          data,
          data.length,
          (address, p, s, inode) -> {
            if (range.contains(p)) {
              ports.set(p);
            }
          });
    }
    return ports;
  }

  /**
   * A random block of {@value #RANGE_SIZE} ports in 20000..31999 (below the usual ephemeral range,
   * so other processes' outbound connections do not wander in) that binds completely now.
   */
  private PortRange freeRange() {
    for (int attempt = 0; attempt < 50; attempt++) {
      int first = ThreadLocalRandom.current().nextInt(20000, 32000 - RANGE_SIZE);
      PortRange range = new PortRange(first, first + RANGE_SIZE - 1);
      if (probe.occupied(range).isEmpty()) {
        return range;
      }
    }
    throw new IllegalStateException("no free block of " + RANGE_SIZE + " ports in 20000..31999");
  }

  private static boolean hasIpv6() {
    try (var channel = ServerSocketChannel.open(StandardProtocolFamily.INET6)) {
      channel.bind(new InetSocketAddress(InetAddress.getByName("::1"), 0));
      return Files.exists(PROC.resolve("net/tcp6"));
    } catch (IOException | UnsupportedOperationException e) {
      return false;
    }
  }

  private static BitSet ports(int... ports) {
    BitSet set = new BitSet();
    for (int port : ports) {
      set.set(port);
    }
    return set;
  }
}
