package io.sigma.agent.ports;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class SsOutputParserTest {

  static String fixture(String name) throws IOException {
    try (InputStream in = SsOutputParserTest.class.getResourceAsStream("/ports/ss/" + name)) {
      if (in == null) {
        throw new IOException("missing fixture " + name);
      }
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
  }

  static List<SocketUser> nginx(int fd) {
    return List.of(new SocketUser("nginx", 5879, fd), new SocketUser("nginx", 5877, fd));
  }

  @Test
  void parsesCapturedTulnpWithNetidColumnAndSharedSockets() throws IOException {
    SsOutput output = SsOutputParser.parse(fixture("captured-tulnp.txt"));
    assertEquals(
        List.of(
            new SsListener("udp", "UNCONN", "127.0.0.53", "lo", 20205, nginx(11)),
            new SsListener("udp", "UNCONN", "0.0.0.0", "", 20206, nginx(12)),
            new SsListener("udp", "UNCONN", "::", "", 20206, nginx(13)),
            new SsListener("tcp", "LISTEN", "127.0.0.53", "lo", 20202, nginx(6)),
            new SsListener("tcp", "LISTEN", "127.0.0.1", "", 20201, nginx(5)),
            new SsListener("tcp", "LISTEN", "0.0.0.0", "", 20200, nginx(3)),
            new SsListener("tcp", "LISTEN", "0.0.0.0", "", 20207, nginx(14)),
            new SsListener("tcp", "LISTEN", "0.0.0.0", "", 2024, List.of()),
            new SsListener("tcp", "LISTEN", "::", "", 20200, nginx(4)),
            new SsListener("tcp", "LISTEN", "*", "", 20203, nginx(7)),
            new SsListener("tcp", "LISTEN", "::1", "", 20204, nginx(8)),
            new SsListener("tcp", "LISTEN", "::1", "lo", 20209, nginx(9))),
        output.sockets());
    assertEquals(0, output.oddLines());
    assertNull(output.firstOddLine());
  }

  @Test
  void parsesCapturedTlnpWithoutNetidColumnAsTcp() throws IOException {
    SsOutput output = SsOutputParser.parse(fixture("captured-tlnp.txt"));
    assertEquals(9, output.sockets().size());
    assertTrue(output.sockets().stream().allMatch(SsListener::isTcpListener));
    assertTrue(output.sockets().stream().allMatch(s -> s.netid().isEmpty()));
    assertEquals(
        new SsListener("", "LISTEN", "127.0.0.53", "lo", 20202, nginx(6)), output.sockets().get(0));
    assertEquals(
        new SsListener("", "LISTEN", "0.0.0.0", "", 2024, List.of()), output.sockets().get(4));
    assertEquals(0, output.oddLines());
  }

  @Test
  void parsesCapturedOutputWithoutHeader() throws IOException {
    SsOutput withHeader = SsOutputParser.parse(fixture("captured-tulnp.txt"));
    SsOutput withoutHeader = SsOutputParser.parse(fixture("captured-tulnpH-no-header.txt"));
    assertEquals(withHeader, withoutHeader);
  }

  @Test
  void parsesCapturedOutputWithoutProcessColumn() throws IOException {
    SsOutput output = SsOutputParser.parse(fixture("captured-tuln-without-p.txt"));
    assertEquals(12, output.sockets().size());
    assertTrue(output.sockets().stream().allMatch(s -> s.users().isEmpty()));
    assertEquals(0, output.oddLines());
  }

  @Test
  void parsesHandMadeEdgeCasesAndCountsOddLines() throws IOException {
    SsOutput output = SsOutputParser.parse(fixture("handmade-tulnp-edge-cases.txt"));
    assertEquals(
        List.of(
            new SsListener(
                "tcp", "LISTEN", "0.0.0.0", "", 22, List.of(new SocketUser("sshd", 612, 3))),
            new SsListener("tcp", "LISTEN", "::", "", 22, List.of(new SocketUser("sshd", 612, 4))),
            new SsListener(
                "tcp",
                "LISTEN",
                "*",
                "",
                10000,
                List.of(new SocketUser("Envoy", 900, 41), new SocketUser("envoy", 900, 42))),
            new SsListener(
                "tcp", "LISTEN", "*", "", 9100, List.of(new SocketUser("prometheus-node", 700, 3))),
            new SsListener(
                "tcp", "LISTEN", "127.0.0.1", "", 10085, List.of(new SocketUser("xray", 801, 7))),
            new SsListener(
                "tcp",
                "LISTEN",
                "0.0.0.0",
                "",
                80,
                List.of(
                    new SocketUser("nginx", 1000, 6),
                    new SocketUser("nginx", 1001, 6),
                    new SocketUser("nginx", 1002, 6))),
            new SsListener(
                "tcp",
                "LISTEN",
                "::ffff:127.0.0.1",
                "",
                8080,
                List.of(new SocketUser("my (app) x", 77, 3))),
            new SsListener("tcp", "LISTEN", "0.0.0.0", "", 2024, List.of()),
            new SsListener(
                "tcp",
                "LISTEN",
                "127.0.0.1",
                "lo",
                5432,
                List.of(new SocketUser("postgres", 55, 5))),
            new SsListener(
                "udp",
                "UNCONN",
                "fe80::1",
                "eth0",
                546,
                List.of(new SocketUser("dhclient", 400, 6))),
            new SsListener(
                "udp",
                "UNCONN",
                "127.0.0.53",
                "lo",
                53,
                List.of(new SocketUser("systemd-resolve", 390, 13)))),
        output.sockets());
    // free text, port '*', port 'ssh', a cut line, no pid, a cut users list, port 99999,
    // a non-numeric queue
    assertEquals(8, output.oddLines());
    assertEquals("this is not a socket line", output.firstOddLine());
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "",
        "Cannot open netlink socket: Permission denied",
        "tcp LISTEN 0 128 0.0.0.0:22",
        "tcp LISTEN 0 128 [::1:22 [::]:*",
        "tcp LISTEN 0 128 :22 0.0.0.0:*",
        "tcp LISTEN 0 128 0.0.0.0%:22 0.0.0.0:*",
        "tcp LISTEN 0 128 0.0.0.0:-1 0.0.0.0:*",
        "tcp LISTEN 0 128 0.0.0.0:22 0.0.0.0:* users:(nginx,pid=1,fd=2)",
        "tcp LISTEN 0 128 0.0.0.0:22 0.0.0.0:* users:((\"nginx\",pid=x,fd=2))",
        "tcp LISTEN 0 128 0.0.0.0:22 0.0.0.0:* users:((\"nginx\",pid=1,fd=2)x",
        "tcp WAITING 0 128 0.0.0.0:22 0.0.0.0:*",
      })
  void oddLinesAreNotSockets(String line) {
    assertNull(SsOutputParser.parseLine(line), line);
    if (!line.isEmpty()) {
      SsOutput output = SsOutputParser.parse("Netid State\n" + line + "\n");
      assertEquals(List.of(), output.sockets());
      assertEquals(1, output.oddLines());
    }
  }

  @Test
  void onlyTcpListenLinesAreTcpListeners() {
    assertTrue(new SsListener("tcp", "LISTEN", "*", "", 1, List.of()).isTcpListener());
    assertTrue(new SsListener("", "LISTEN", "*", "", 1, List.of()).isTcpListener());
    assertFalse(new SsListener("udp", "UNCONN", "*", "", 1, List.of()).isTcpListener());
    assertFalse(new SsListener("tcp", "ESTAB", "*", "", 1, List.of()).isTcpListener());
    assertFalse(new SsListener("mptcp", "LISTEN", "*", "", 1, List.of()).isTcpListener());
  }

  @Test
  void windowsLineEndingsAndEmptyOutputAreFine() {
    SsOutput output =
        SsOutputParser.parse(
            "State Recv-Q Send-Q Local Address:Port Peer Address:Port Process\r\n"
                + "LISTEN 0 128 0.0.0.0:22 0.0.0.0:* users:((\"sshd\",pid=1,fd=3))\r\n");
    assertEquals(
        List.of(
            new SsListener("", "LISTEN", "0.0.0.0", "", 22, List.of(new SocketUser("sshd", 1, 3)))),
        output.sockets());
    assertEquals(new SsOutput(List.of(), 0, null), SsOutputParser.parse(""));
  }
}
