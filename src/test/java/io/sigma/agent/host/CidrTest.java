package io.sigma.agent.host;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetAddress;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class CidrTest {

  private static InetAddress ip(String text) {
    return IpLiterals.parse(text).orElseThrow();
  }

  @ParameterizedTest
  @CsvSource({
    "10.0.0.0/8,       10.0.0.0,    8",
    "172.16.0.0/12,    172.16.0.0,  12",
    "0.0.0.0/0,        0.0.0.0,     0",
    "203.0.113.7,      203.0.113.7, 32",
    " 192.168.0.0/16 , 192.168.0.0, 16",
    "fc00::/7,         fc00::,      7",
    "::1/128,          ::1,         128",
    "2001:db8::,       2001:db8::,  128"
  })
  void parsesRangesAndBareAddresses(String text, String network, int prefix) {
    Cidr cidr = Cidr.parse(text);
    assertEquals(ip(network), cidr.network());
    assertEquals(prefix, cidr.prefixLength());
    assertEquals(network + "/" + prefix, cidr.toString());
  }

  @ParameterizedTest
  @CsvSource({
    "172.16.0.0/12, 172.16.0.0,      true",
    "172.16.0.0/12, 172.31.255.255,  true",
    "172.16.0.0/12, 172.32.0.0,      false",
    "172.16.0.0/12, 172.15.255.255,  false",
    "100.64.0.0/10, 100.127.1.1,     true",
    "100.64.0.0/10, 100.128.0.1,     false",
    "0.0.0.0/0,     203.0.113.7,     true",
    "0.0.0.0/0,     2001:db8::1,     false",
    "10.0.0.5/32,   10.0.0.5,        true",
    "10.0.0.5/32,   10.0.0.6,        false",
    "fc00::/7,      fd12:3456::1,    true",
    "fc00::/7,      fe00::1,         false",
    "::1/128,       ::1,             true",
    "::1/128,       127.0.0.1,       false",
    "::/0,          2001:db8::1,     true"
  })
  void containsExactlyTheAddressesOfTheRange(String range, String address, boolean expected) {
    assertEquals(expected, Cidr.parse(range).contains(ip(address)));
  }

  @Test
  void badInputGivesAMessageNamingTheTextAndTheProblem() {
    assertMessage("", "empty");
    assertMessage("   ", "empty");
    assertMessage(null, "empty");
    assertMessage("10.0.0/8", "'10.0.0' is not an IPv4 or IPv6 address");
    assertMessage("example.com/24", "'example.com' is not an IPv4 or IPv6 address");
    assertMessage("10.0.0.0/33", "prefix length '33' must be a number from 0 to 32");
    assertMessage("fd00::/129", "prefix length '129' must be a number from 0 to 128");
    assertMessage("10.0.0.0/", "prefix length '' must be");
    assertMessage("10.0.0.0/-1", "prefix length '-1' must be");
    assertMessage("10.0.0.0/8/8", "prefix length '8/8' must be");
    assertMessage("10.0.0.0/abc", "prefix length 'abc' must be");
    assertMessage("10.1.2.3/8", "did you mean 10.0.0.0/8?");
    assertMessage("fd00::1/8", "did you mean fd00::/8?");
  }

  private static void assertMessage(String text, String fragment) {
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> Cidr.parse(text));
    assertTrue(e.getMessage().contains(fragment), e.getMessage());
  }

  @Test
  void theConstructorRejectsInconsistentRanges() {
    assertThrows(IllegalArgumentException.class, () -> new Cidr(ip("10.0.0.0"), 33));
    assertThrows(IllegalArgumentException.class, () -> new Cidr(ip("10.0.0.1"), 24));
    assertThrows(NullPointerException.class, () -> new Cidr(null, 8));
  }

  @Test
  void equalRangesAreEqual() {
    assertEquals(Cidr.parse("10.0.0.0/8"), Cidr.parse("10.0.0.0/8"));
    assertFalse(Cidr.parse("10.0.0.0/8").equals(Cidr.parse("10.0.0.0/16")));
  }
}
