package io.sigma.agent.host;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sigma.agent.api.IpAddress;
import java.net.InetAddress;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class AddressFilterTest {

  private static List<InetAddress> ips(String... texts) {
    return Stream.of(texts).map(t -> IpLiterals.parse(t).orElseThrow()).toList();
  }

  @Test
  void defaultsDropLoopbackAndDockerBridgeAndLabelTheRest() {
    List<IpAddress> result =
        new AddressFilter(AddressFilter.DEFAULT_IGNORED)
            .apply(
                ips(
                    "127.0.0.1",
                    "172.17.0.1",
                    "10.0.0.5",
                    "192.168.1.20",
                    "203.0.113.7",
                    "100.64.3.4",
                    "172.31.0.9",
                    "::1",
                    "fd00::2",
                    "2001:db8::7",
                    "fe80::1"));
    assertEquals(
        List.of(
            new IpAddress("10.0.0.5", "internal"),
            new IpAddress("192.168.1.20", "internal"),
            new IpAddress("203.0.113.7", ""),
            new IpAddress("100.64.3.4", "internal"),
            new IpAddress("172.31.0.9", "internal"),
            new IpAddress("fd00::2", "internal"),
            new IpAddress("2001:db8::7", "")),
        result);
  }

  @Test
  void duplicatesAreReportedOnceInFirstSeenOrder() {
    List<IpAddress> result =
        new AddressFilter(AddressFilter.DEFAULT_IGNORED)
            .apply(ips("203.0.113.7", "10.0.0.5", "203.0.113.7", "2001:db8:0:0::7", "2001:db8::7"));
    assertEquals(
        List.of(
            new IpAddress("203.0.113.7", ""),
            new IpAddress("10.0.0.5", "internal"),
            new IpAddress("2001:db8::7", "")),
        result);
  }

  @Test
  void aConfiguredListReplacesTheDefaultRangesButLoopbackStaysOut() {
    AddressFilter filter = new AddressFilter(List.of(Cidr.parse("10.8.0.0/16")));
    List<IpAddress> result =
        filter.apply(ips("127.0.0.1", "::1", "172.17.0.1", "10.8.1.1", "10.9.1.1"));
    assertEquals(
        List.of(new IpAddress("172.17.0.1", "internal"), new IpAddress("10.9.1.1", "internal")),
        result);
  }

  @Test
  void anEmptyIgnoredListStillNeverReportsLinkLocalOrMulticast() {
    AddressFilter filter = new AddressFilter(List.of());
    assertEquals(
        List.of(),
        filter.apply(ips("169.254.1.1", "fe80::1", "224.0.0.1", "ff02::1", "0.0.0.0", "::")));
  }

  @ParameterizedTest
  @CsvSource({
    "10.0.0.1, true",
    "10.255.255.255, true",
    "11.0.0.1, false",
    "172.16.0.1, true",
    "172.31.255.254, true",
    "172.32.0.1, false",
    "172.15.0.1, false",
    "192.168.0.1, true",
    "192.169.0.1, false",
    "100.64.0.1, true",
    "100.127.255.255, true",
    "100.128.0.1, false",
    "100.63.255.255, false",
    "fc00::1, true",
    "fdff::1, true",
    "fe00::1, false",
    "2001:db8::1, false"
  })
  void privateRanges(String address, boolean expected) {
    assertEquals(expected, AddressFilter.isPrivate(IpLiterals.parse(address).orElseThrow()));
  }

  @ParameterizedTest
  @ValueSource(strings = {"203.0.113.7", "8.8.8.8", "2001:db8::1", "192.0.2.2"})
  void publicAddresses(String address) {
    assertTrue(AddressFilter.isPublic(IpLiterals.parse(address).orElseThrow()));
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "10.0.0.1",
        "127.0.0.1",
        "::1",
        "169.254.0.1",
        "fe80::1",
        "fd00::1",
        "0.0.0.0",
        "239.1.1.1",
        "100.64.0.1"
      })
  void notPublicAddresses(String address) {
    assertFalse(AddressFilter.isPublic(IpLiterals.parse(address).orElseThrow()));
  }
}
