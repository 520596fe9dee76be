package io.sigma.agent.host;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The edge cases sigma-api's "every ip must parse" rule meets (from the dev API's checks). */
class IpLiteralsContractTest {

  @ParameterizedTest
  @ValueSource(
      strings = {
        "10.0.0.5",
        "203.0.113.7",
        "0.0.0.0",
        "255.255.255.255",
        "127.0.0.1",
        "::",
        "::1",
        "2001:db8::1",
        "fe80::1ff:fe23:4567:890a",
        "2001:0db8:0000:0000:0000:ff00:0042:8329",
        "::ffff:192.0.2.128",
        "1:2:3:4:5:6:7::",
        "1::",
        "1:2:3:4:5:6:1.2.3.4",
        "ABCD:EF01::"
      })
  void acceptsIpLiterals(String ip) {
    assertTrue(IpLiterals.parse(ip).isPresent(), ip);
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "",
        " ",
        "not-an-ip",
        "example.com",
        "10.0.0",
        "10.0.0.5.6",
        "256.1.1.1",
        "10.0.0.-1",
        "01.2.3.4",
        "1.2.3.4 ",
        " 1.2.3.4",
        "1.2.3.4/24",
        "1..2.3",
        "a.b.c.d",
        "1.2.3.",
        ":",
        ":::",
        "1:2",
        "1::2::3",
        "12345::",
        "g::1",
        "1:2:3:4:5:6:7:8:9",
        "1:2:3:4:5:6:7:8::",
        "fe80::1%eth0",
        "[::1]",
        "1.2.3.4::",
        "::1.2.3",
        ":1::",
        "1::2:",
        "1:2:3:4:5:6:7"
      })
  void rejectsEverythingElse(String ip) {
    assertFalse(IpLiterals.parse(ip).isPresent(), ip);
  }

  @org.junit.jupiter.api.Test
  void rejectsNull() {
    assertFalse(IpLiterals.parse(null).isPresent());
  }
}
