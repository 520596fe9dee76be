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

class IfInet6ReaderTest {

  private static List<InetAddress> ips(String... texts) {
    return Stream.of(texts).map(t -> IpLiterals.parse(t).orElseThrow()).toList();
  }

  @Test
  void onlyGlobalScopeAddressesAreKept() throws Exception {
    ProcAddresses parsed = IfInet6Reader.read(Fixtures.procRoot("typical").resolve("net/if_inet6"));
    assertEquals(ips("2001:db8::7", "fd00::2"), parsed.addresses());
    assertEquals(List.of(), parsed.malformedLines());
  }

  @Test
  void loopbackAndLinkLocalOnlyGivesNothing() throws Exception {
    ProcAddresses parsed = IfInet6Reader.read(Fixtures.procRoot("odd").resolve("net/if_inet6"));
    assertEquals(List.of(), parsed.addresses());
    assertEquals(List.of(), parsed.malformedLines());
  }

  @Test
  void malformedLinesAreSkippedAndReported() throws Exception {
    ProcAddresses parsed =
        IfInet6Reader.read(Fixtures.procRoot("malformed").resolve("net/if_inet6"));
    assertEquals(ips("2001:db8::9"), parsed.addresses());
    assertEquals(2, parsed.malformedLines().size());
  }

  @Test
  void aGlobalScopeLoopbackOrLinkLocalAddressIsStillLeftOut() {
    ProcAddresses parsed =
        IfInet6Reader.parse(
            "00000000000000000000000000000001 01 80 00 80 lo\nfe800000000000000000000000000001 02 40 00 80 eth0\n");
    assertEquals(List.of(), parsed.addresses());
  }

  @Test
  void siteLocalScopeIsNotGlobal() {
    ProcAddresses parsed =
        IfInet6Reader.parse("fec00000000000000000000000000001 02 40 40 80 eth0\n");
    assertEquals(List.of(), parsed.addresses());
    assertEquals(List.of(), parsed.malformedLines());
  }

  @Test
  void duplicatesAcrossInterfacesAreReportedOnce() {
    ProcAddresses parsed =
        IfInet6Reader.parse(
            "20010db8000000000000000000000007 02 40 00 80 eth0\n20010db8000000000000000000000007 03 40 00 80 eth1\n");
    assertEquals(ips("2001:db8::7"), parsed.addresses());
  }

  @Test
  void aMissingFileIsAnIoError(@TempDir Path dir) {
    assertThrows(NoSuchFileException.class, () -> IfInet6Reader.read(dir.resolve("net/if_inet6")));
  }
}
