package io.sigma.agent.host;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.Level;
import io.sigma.agent.api.IpAddress;
import java.net.InetAddress;
import java.net.NetworkInterface;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

class HostAddressDiscoveryTest {

  @Test
  void typicalHostGivesPrivateAndPublicV4ThenGlobalV6WithoutLoopbackOrDocker() {
    List<IpAddress> found =
        new HostAddressDiscovery(Fixtures.procRoot("typical"), AddressFilter.DEFAULT_IGNORED)
            .discover();
    assertEquals(
        List.of(
            new IpAddress("10.0.0.5", "internal"),
            new IpAddress("192.168.1.20", "internal"),
            new IpAddress("203.0.113.7", ""),
            new IpAddress("2001:db8::7", ""),
            new IpAddress("fd00::2", "internal")),
        found);
  }

  @Test
  void configuredIgnoredRangesApply() {
    List<IpAddress> found =
        new HostAddressDiscovery(
                Fixtures.procRoot("typical"),
                List.of(Cidr.parse("10.0.0.0/8"), Cidr.parse("2001:db8::/32")))
            .discover();
    assertEquals(
        List.of(
            new IpAddress("172.17.0.1", "internal"),
            new IpAddress("192.168.1.20", "internal"),
            new IpAddress("203.0.113.7", ""),
            new IpAddress("fd00::2", "internal")),
        found);
  }

  @Test
  void missingFilesGiveNoAddressesAndOneWarningEachHoweverOftenAsked(@TempDir Path emptyProc) {
    try (LogCapture logs = new LogCapture(HostAddressDiscovery.class)) {
      HostAddressDiscovery discovery =
          new HostAddressDiscovery(emptyProc, AddressFilter.DEFAULT_IGNORED);
      for (int i = 0; i < 3; i++) {
        assertEquals(List.of(), discovery.discover());
      }
      List<String> warnings = logs.messages(Level.WARN);
      assertEquals(2, warnings.size(), warnings.toString());
      assertTrue(
          warnings.get(0).contains("fib_trie") && warnings.get(0).contains("file is missing"),
          warnings.get(0));
      assertTrue(
          warnings.get(1).contains("if_inet6") && warnings.get(1).contains("file is missing"),
          warnings.get(1));
    }
  }

  /**
   * A 3 GiB fib_trie: refused unread (reading it whole throws OutOfMemoryError, which no caller
   * catches: the agent would die), with one warning; the IPv6 addresses are still reported.
   */
  @Test
  @Timeout(value = 20, unit = TimeUnit.SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
  void aHugeFibTrieIsRefusedAndTheIpv6AddressesAreStillReported(@TempDir Path dir)
      throws Exception {
    Path proc = HostileProcRoot.create(dir.resolve("proc"));
    try (LogCapture logs = new LogCapture(HostAddressDiscovery.class)) {
      HostAddressDiscovery discovery =
          new HostAddressDiscovery(proc, AddressFilter.DEFAULT_IGNORED);
      List<IpAddress> expected =
          List.of(new IpAddress("2001:db8::7", ""), new IpAddress("fd00::2", "internal"));
      assertEquals(expected, discovery.discover());
      assertEquals(expected, discovery.discover());
      assertEquals(
          List.of(
              "IPv4 addresses: cannot read "
                  + proc.resolve("net/fib_trie")
                  + ": it is larger than 4 MiB (the most the agent reads from it); reporting no IPv4 address"
                  + " until it can be read"),
          logs.messages(Level.WARN));
    }
  }

  @Test
  @Timeout(value = 10, unit = TimeUnit.SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
  void aFifoIfInet6IsRefusedWithoutBlocking(@TempDir Path proc) throws Exception {
    Files.createDirectories(proc.resolve("net"));
    Files.copy(Fixtures.procRoot("typical").resolve("net/fib_trie"), proc.resolve("net/fib_trie"));
    HostileProcRoot.mkfifo(proc.resolve("net/if_inet6"));
    try (LogCapture logs = new LogCapture(HostAddressDiscovery.class)) {
      assertEquals(
          List.of(
              new IpAddress("10.0.0.5", "internal"),
              new IpAddress("192.168.1.20", "internal"),
              new IpAddress("203.0.113.7", "")),
          new HostAddressDiscovery(proc, AddressFilter.DEFAULT_IGNORED).discover());
      assertEquals(
          List.of(
              "IPv6 addresses: cannot read "
                  + proc.resolve("net/if_inet6")
                  + ": it is a FIFO, not a regular file; reporting no IPv6 address until it can be read"),
          logs.messages(Level.WARN));
    }
  }

  @Test
  void aMissingIfInet6StillGivesTheIpv4Addresses(@TempDir Path proc) throws Exception {
    Files.createDirectories(proc.resolve("net"));
    Files.copy(Fixtures.procRoot("typical").resolve("net/fib_trie"), proc.resolve("net/fib_trie"));
    List<IpAddress> found =
        new HostAddressDiscovery(proc, AddressFilter.DEFAULT_IGNORED).discover();
    assertEquals(
        List.of(
            new IpAddress("10.0.0.5", "internal"),
            new IpAddress("192.168.1.20", "internal"),
            new IpAddress("203.0.113.7", "")),
        found);
  }

  @Test
  void malformedLinesAreSkippedWithOneWarningPerFile() {
    try (LogCapture logs = new LogCapture(HostAddressDiscovery.class)) {
      HostAddressDiscovery discovery =
          new HostAddressDiscovery(Fixtures.procRoot("malformed"), AddressFilter.DEFAULT_IGNORED);
      List<IpAddress> expected =
          List.of(new IpAddress("198.51.100.1", ""), new IpAddress("2001:db8::9", ""));
      assertEquals(expected, discovery.discover());
      assertEquals(expected, discovery.discover());
      List<String> warnings = logs.messages(Level.WARN);
      assertEquals(2, warnings.size(), warnings.toString());
      assertTrue(
          warnings.get(0).contains("skipped 1 unreadable line(s)")
              && warnings.get(0).contains("10.0.0.999"),
          warnings.get(0));
      assertTrue(warnings.get(1).contains("skipped 2 unreadable line(s)"), warnings.get(1));
    }
  }

  @Test
  void aFibTrieWithoutLocalEntriesIsWarnedAboutOnce(@TempDir Path proc) throws Exception {
    Files.createDirectories(proc.resolve("net"));
    Files.writeString(proc.resolve("net/fib_trie"), "Main:\nLocal:\n");
    Files.writeString(proc.resolve("net/if_inet6"), "");
    try (LogCapture logs = new LogCapture(HostAddressDiscovery.class)) {
      HostAddressDiscovery discovery =
          new HostAddressDiscovery(proc, AddressFilter.DEFAULT_IGNORED);
      assertEquals(List.of(), discovery.discover());
      assertEquals(List.of(), discovery.discover());
      List<String> warnings = logs.messages(Level.WARN);
      assertEquals(1, warnings.size(), warnings.toString());
      assertTrue(warnings.get(0).contains("no '/32 host LOCAL' entry"), warnings.get(0));
    }
  }

  @Test
  void aDirectoryInPlaceOfTheFileIsAnotherReadError(@TempDir Path proc) throws Exception {
    Files.createDirectories(proc.resolve("net/fib_trie"));
    Files.createDirectories(proc.resolve("net/if_inet6"));
    try (LogCapture logs = new LogCapture(HostAddressDiscovery.class)) {
      assertEquals(
          List.of(), new HostAddressDiscovery(proc, AddressFilter.DEFAULT_IGNORED).discover());
      assertEquals(2, logs.messages(Level.WARN).size(), logs.messages(Level.WARN).toString());
    }
  }

  /**
   * The real /proc of this machine against the JDK's own view of the interfaces (which asks the
   * kernel through ioctl/netlink, not these files): the same addresses, after the same filter.
   */
  @Test
  void realProcMatchesTheAddressesOfTheUpInterfaces() throws Exception {
    AddressFilter filter = new AddressFilter(AddressFilter.DEFAULT_IGNORED);
    Set<String> expected = new HashSet<>();
    for (NetworkInterface ni : Collections.list(NetworkInterface.getNetworkInterfaces())) {
      if (!ni.isUp()) {
        continue;
      }
      for (InetAddress address : Collections.list(ni.getInetAddresses())) {
        filter.classify(address).ifPresent(ip -> expected.add(ip.ip() + "/" + ip.label()));
      }
    }
    List<IpAddress> found =
        new HostAddressDiscovery(Path.of("/proc"), AddressFilter.DEFAULT_IGNORED).discover();
    Set<String> actual =
        found.stream().map(ip -> ip.ip() + "/" + ip.label()).collect(Collectors.toSet());
    assertEquals(expected, actual);
    assertEquals(found.size(), actual.size(), "no duplicates");
    assertTrue(found.stream().noneMatch(ip -> ip.ip().startsWith("127.") || ip.ip().equals("::1")));
  }
}
