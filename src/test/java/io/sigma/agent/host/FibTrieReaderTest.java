package io.sigma.agent.host;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.net.InetAddress;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FibTrieReaderTest {

  private static List<InetAddress> ips(String... texts) {
    return Stream.of(texts).map(t -> IpLiterals.parse(t).orElseThrow()).toList();
  }

  @Test
  void typicalFileGivesEveryLocalHostAddressOnceInTrieOrder() throws Exception {
    ProcAddresses parsed = FibTrieReader.read(Fixtures.procRoot("typical").resolve("net/fib_trie"));
    // 127.0.0.0 is "/8 host LOCAL" (not /32), broadcast and link entries are not addresses;
    // Main and Local list the same addresses.
    assertEquals(
        ips("10.0.0.5", "127.0.0.1", "172.17.0.1", "192.168.1.20", "203.0.113.7"),
        parsed.addresses());
    assertEquals(List.of(), parsed.malformedLines());
  }

  @Test
  void localEntryAfterAnotherPrefixOfTheSameLeafAndExtraTablesCount() throws Exception {
    ProcAddresses parsed = FibTrieReader.read(Fixtures.procRoot("odd").resolve("net/fib_trie"));
    assertEquals(ips("127.0.0.1", "198.51.100.10", "100.100.1.2"), parsed.addresses());
    assertEquals(List.of(), parsed.malformedLines());
  }

  @Test
  void unreadableAddressesAreSkippedAndReportedTheRestIsKept() throws Exception {
    ProcAddresses parsed =
        FibTrieReader.read(Fixtures.procRoot("malformed").resolve("net/fib_trie"));
    assertEquals(ips("198.51.100.1"), parsed.addresses());
    assertEquals(List.of("|-- 10.0.0.999"), parsed.malformedLines());
  }

  @Test
  void aLocalEntryWithoutAnAddressLineIsMalformed() {
    ProcAddresses parsed =
        FibTrieReader.parse("Local:\n  +-- 10.0.0.0/8 2 0 2\n     /32 host LOCAL\n");
    assertEquals(List.of(), parsed.addresses());
    assertEquals(1, parsed.malformedLines().size());
  }

  @Test
  void anIpv6LookingLeafIsNotAnIpv4Address() {
    ProcAddresses parsed =
        FibTrieReader.parse("Local:\n     |-- fd00::1\n        /32 host LOCAL\n");
    assertEquals(List.of(), parsed.addresses());
    assertEquals(List.of("|-- fd00::1"), parsed.malformedLines());
  }

  @Test
  void emptyOrForeignTextGivesNothing() {
    assertEquals(new ProcAddresses(List.of(), List.of()), FibTrieReader.parse(""));
    assertEquals(
        new ProcAddresses(List.of(), List.of()),
        FibTrieReader.parse("<html><body>nope</body></html>"));
  }

  @Test
  void aMissingFileIsAnIoError(@TempDir Path dir) {
    assertThrows(NoSuchFileException.class, () -> FibTrieReader.read(dir.resolve("net/fib_trie")));
  }
}
