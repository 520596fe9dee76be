package io.sigma.agent.host;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class IpLiteralsTest {

  @ParameterizedTest
  @ValueSource(strings = {"0.0.0.0", "10.0.0.5", "203.0.113.7", "255.255.255.255"})
  void parsesDottedQuads(String text) {
    InetAddress address = IpLiterals.parse(text).orElseThrow();
    assertTrue(address instanceof Inet4Address);
    assertEquals(text, IpLiterals.format(address));
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "",
        " 10.0.0.1",
        "10.0.0.1 ",
        "256.0.0.1",
        "10.0.0",
        "10.0.0.1.2",
        "127.1",
        "010.0.0.1",
        "1.2.3.-4",
        "localhost",
        "example.com",
        "<html>",
        "10.0.0.1/8",
        "fe80::1%eth0",
        ".::1",
        "1:2:3:4:5:6:7:8:9",
        "::g",
        "12345::1",
        "0x7f.0.0.1",
        "abcd"
      })
  void rejectsEverythingElseWithoutResolvingIt(String text) {
    assertTrue(IpLiterals.parse(text).isEmpty(), text);
  }

  @Test
  void rejectsNull() {
    assertTrue(IpLiterals.parse(null).isEmpty());
  }

  @ParameterizedTest
  @CsvSource({
    "2001:0db8:0000:0000:0000:0000:0000:0001, 2001:db8::1",
    "2001:DB8:0:0:1:0:0:1,                    2001:db8::1:0:0:1",
    "2001:0:0:1:0:0:0:1,                      2001:0:0:1::1",
    "2001:db8:0:1:1:1:1:1,                    2001:db8:0:1:1:1:1:1",
    "0:0:0:0:0:0:0:0,                         ::",
    "0:0:0:0:0:0:0:1,                         ::1",
    "fd00:0:0:0:0:0:0:2,                      fd00::2",
    "1:0:0:0:0:0:0:0,                         1::",
    "fe80:0:0:0:fc:ff:fe00:1,                 fe80::fc:ff:fe00:1"
  })
  void formatsIpv6InRfc5952Form(String text, String canonical) {
    InetAddress address = IpLiterals.parse(text).orElseThrow();
    assertTrue(address instanceof Inet6Address);
    assertEquals(canonical, IpLiterals.format(address));
  }

  @Test
  void byAddressBuildsBothFamilies() {
    assertEquals(
        "192.0.2.1", IpLiterals.format(IpLiterals.byAddress(new byte[] {(byte) 192, 0, 2, 1})));
    byte[] v6 = new byte[16];
    v6[0] = 0x20;
    v6[1] = 0x01;
    v6[15] = 1;
    assertEquals("2001::1", IpLiterals.format(IpLiterals.byAddress(v6)));
  }
}
