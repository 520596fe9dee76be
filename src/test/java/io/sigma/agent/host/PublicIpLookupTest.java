package io.sigma.agent.host;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sigma.agent.api.IpAddress;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class PublicIpLookupTest {

  @Test
  void aBarePublicIpv4AddressIsTheAnswer() {
    assertEquals(Optional.of("203.0.113.7"), PublicIpLookup.parseAnswer("203.0.113.7"));
    assertEquals(Optional.of("203.0.113.7"), PublicIpLookup.parseAnswer("203.0.113.7\n"));
    assertEquals(Optional.of("198.51.100.4"), PublicIpLookup.parseAnswer("  198.51.100.4\r\n"));
    assertEquals(Optional.of("8.8.8.8"), PublicIpLookup.parseAnswer("8.8.8.8"));
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "",
        "   ",
        "<html><body>203.0.113.7</body></html>",
        "ip=203.0.113.7",
        "203.0.113.7 extra",
        "10.0.0.5",
        "192.168.1.1",
        "100.64.0.1",
        "127.0.0.1",
        "169.254.1.1",
        "0.0.0.0",
        "224.0.0.1",
        "2001:db8::1",
        "fd00::1",
        "api.ipify.org",
        "Too Many Requests",
        "{\"ip\":\"203.0.113.7\"}"
      })
  void anythingElseIsNot(String body) {
    assertEquals(Optional.empty(), PublicIpLookup.parseAnswer(body));
  }

  @Test
  void aLocalPublicIpv4AddressMeansNoLookup() {
    assertFalse(
        PublicIpLookup.needsLookup(
            List.of(
                new IpAddress("10.0.0.5", IpAddress.INTERNAL),
                new IpAddress("203.0.113.7", IpAddress.PUBLIC))));
  }

  @Test
  void onlyPrivateOrIpv6PublicAddressesMeansNat() {
    assertTrue(PublicIpLookup.needsLookup(List.of()));
    assertTrue(
        PublicIpLookup.needsLookup(
            List.of(
                new IpAddress("10.0.0.5", IpAddress.INTERNAL),
                new IpAddress("fd00::2", IpAddress.INTERNAL),
                new IpAddress("2001:db8::7", IpAddress.PUBLIC))));
  }

  @Test
  void theLabelDecidesNotTheAddress() {
    // labels come from AddressFilter; an address labelled internal is not a public one
    assertTrue(
        PublicIpLookup.needsLookup(List.of(new IpAddress("203.0.113.7", IpAddress.INTERNAL))));
    assertTrue(PublicIpLookup.needsLookup(List.of(new IpAddress("not-an-ip", IpAddress.PUBLIC))));
  }
}
