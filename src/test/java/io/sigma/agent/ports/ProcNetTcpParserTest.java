package io.sigma.agent.ports;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class ProcNetTcpParserTest {

  /** One parsed row, for comparing whole tables. */
  record Row(LocalAddressKind address, int port, int state, long inode) {}

  static byte[] fixture(String path) throws IOException {
    try (InputStream in = ProcNetTcpParserTest.class.getResourceAsStream("/ports/" + path)) {
      if (in == null) {
        throw new IOException("missing fixture " + path);
      }
      return in.readAllBytes();
    }
  }

  static List<Row> parse(byte[] data, ProcNetTcpParser.Counts[] counts) {
    List<Row> rows = new ArrayList<>();
    counts[0] =
        ProcNetTcpParser.parse(
            data,
            data.length,
            (address, port, state, inode) -> rows.add(new Row(address, port, state, inode)));
    return rows;
  }

  @Test
  void parsesCapturedIpv4Table() throws IOException {
    ProcNetTcpParser.Counts[] counts = new ProcNetTcpParser.Counts[1];
    List<Row> rows = parse(fixture("proc-captured/net/tcp"), counts);
    assertEquals(
        List.of(
            new Row(LocalAddressKind.V4_SPECIFIC, 20202, TcpState.LISTEN, 13392),
            new Row(LocalAddressKind.V4_SPECIFIC, 20300, TcpState.LISTEN, 13410),
            new Row(LocalAddressKind.V4_SPECIFIC, 20201, TcpState.LISTEN, 13391),
            new Row(LocalAddressKind.V4_ANY, 20200, TcpState.LISTEN, 13389),
            new Row(LocalAddressKind.V4_ANY, 20207, TcpState.LISTEN, 13399),
            new Row(LocalAddressKind.V4_ANY, 2024, TcpState.LISTEN, 562),
            new Row(LocalAddressKind.V4_SPECIFIC, 20109, TcpState.TIME_WAIT, 0),
            new Row(LocalAddressKind.V4_SPECIFIC, 44506, TcpState.ESTABLISHED, 13418),
            new Row(LocalAddressKind.V4_SPECIFIC, 20301, TcpState.ESTABLISHED, 13411),
            new Row(LocalAddressKind.V4_SPECIFIC, 20302, TcpState.TIME_WAIT, 0),
            new Row(LocalAddressKind.V4_SPECIFIC, 20300, TcpState.ESTABLISHED, 13412)),
        rows);
    assertEquals(new ProcNetTcpParser.Counts(11, 0, null), counts[0]);
  }

  @Test
  void parsesCapturedIpv6TableWithItsAddressKinds() throws IOException {
    ProcNetTcpParser.Counts[] counts = new ProcNetTcpParser.Counts[1];
    List<Row> rows = parse(fixture("proc-captured/net/tcp6"), counts);
    assertEquals(
        List.of(
            new Row(LocalAddressKind.V6_ANY, 20303, TcpState.LISTEN, 13415),
            new Row(LocalAddressKind.V6_ANY, 20200, TcpState.LISTEN, 13390),
            new Row(LocalAddressKind.V6_ANY, 20203, TcpState.LISTEN, 13393),
            new Row(LocalAddressKind.V6_SPECIFIC, 20204, TcpState.LISTEN, 13394),
            new Row(LocalAddressKind.V6_SPECIFIC, 20209, TcpState.LISTEN, 13395),
            new Row(LocalAddressKind.V6_SPECIFIC, 20112, TcpState.TIME_WAIT, 0),
            new Row(LocalAddressKind.V6_V4_MAPPED, 36113, TcpState.TIME_WAIT, 0),
            new Row(LocalAddressKind.V6_SPECIFIC, 20111, TcpState.TIME_WAIT, 0),
            new Row(LocalAddressKind.V6_SPECIFIC, 20110, TcpState.TIME_WAIT, 0),
            new Row(LocalAddressKind.V6_SPECIFIC, 20303, TcpState.ESTABLISHED, 13417),
            new Row(LocalAddressKind.V6_V4_MAPPED, 33168, TcpState.TIME_WAIT, 0),
            new Row(LocalAddressKind.V6_V4_MAPPED, 54514, TcpState.TIME_WAIT, 0),
            new Row(LocalAddressKind.V6_SPECIFIC, 33844, TcpState.ESTABLISHED, 13416),
            new Row(LocalAddressKind.V6_V4_MAPPED, 20303, TcpState.ESTABLISHED, 13419),
            new Row(LocalAddressKind.V6_V4_MAPPED, 32829, TcpState.TIME_WAIT, 0)),
        rows);
    assertEquals(new ProcNetTcpParser.Counts(15, 0, null), counts[0]);
  }

  @Test
  void parsesUdpTablesWhichShareTheLayout() throws IOException {
    ProcNetTcpParser.Counts[] counts = new ProcNetTcpParser.Counts[1];
    assertEquals(
        List.of(
            new Row(LocalAddressKind.V4_SPECIFIC, 20205, TcpState.CLOSE, 13396),
            new Row(LocalAddressKind.V4_ANY, 20206, TcpState.CLOSE, 13397)),
        parse(fixture("proc-captured/net/udp"), counts));
    assertEquals(
        List.of(new Row(LocalAddressKind.V6_ANY, 20206, TcpState.CLOSE, 13398)),
        parse(fixture("proc-captured/net/udp6"), counts));
  }

  @Test
  void skipsAndCountsMalformedIpv4Lines() throws IOException {
    ProcNetTcpParser.Counts[] counts = new ProcNetTcpParser.Counts[1];
    List<Row> rows = parse(fixture("proc-handmade/net/tcp"), counts);
    assertEquals(
        List.of(
            new Row(LocalAddressKind.V4_ANY, 20000, TcpState.LISTEN, 1001),
            new Row(LocalAddressKind.V4_SPECIFIC, 20001, TcpState.ESTABLISHED, 1002),
            new Row(LocalAddressKind.V4_SPECIFIC, 20007, TcpState.TIME_WAIT, 0),
            new Row(LocalAddressKind.V4_SPECIFIC, 65535, TcpState.ESTABLISHED, 1008)),
        rows);
    // the free-text line, a 3-digit port, a 'G' in the address, a row cut after the state,
    // a non-numeric inode and a row number that is not a number
    assertEquals(6, counts[0].malformedLines());
    assertEquals("this line is not a socket row", counts[0].firstMalformedLine());
  }

  @Test
  void recognisesIpv4MappedAddressesInBothByteOrders() throws IOException {
    ProcNetTcpParser.Counts[] counts = new ProcNetTcpParser.Counts[1];
    List<Row> rows = parse(fixture("proc-handmade/net/tcp6"), counts);
    assertEquals(
        List.of(
            new Row(LocalAddressKind.V6_V4_MAPPED, 20016, TcpState.ESTABLISHED, 2001),
            new Row(LocalAddressKind.V6_V4_MAPPED, 20017, TcpState.ESTABLISHED, 2002),
            new Row(LocalAddressKind.V6_V4_MAPPED, 20018, TcpState.LISTEN, 2003),
            new Row(LocalAddressKind.V6_SPECIFIC, 20019, TcpState.LISTEN, 2004),
            new Row(LocalAddressKind.V6_SPECIFIC, 20020, TcpState.LISTEN, 2005),
            new Row(LocalAddressKind.V6_ANY, 20022, TcpState.LISTEN, 2007)),
        rows);
    assertEquals(1, counts[0].malformedLines(), "the 31-digit address");
  }

  @Test
  void parsesOnlyTheGivenLengthOfTheBuffer() {
    byte[] data =
        ("   0: 00000000:0016 00000000:0000 0A 00000000:00000000 00:00000000 00000000"
                + "     0        0 77 1\n   1: 00000000:0050 00000000:0000 0A 00000000:00000000"
                + " 00:00000000 00000000     0        0 78 1\n")
            .getBytes(StandardCharsets.US_ASCII);
    int firstLine = new String(data, StandardCharsets.US_ASCII).indexOf('\n') + 1;
    List<Row> rows = new ArrayList<>();
    ProcNetTcpParser.Counts counts =
        ProcNetTcpParser.parse(
            data,
            firstLine,
            (address, port, state, inode) -> rows.add(new Row(address, port, state, inode)));
    assertEquals(List.of(new Row(LocalAddressKind.V4_ANY, 22, TcpState.LISTEN, 77)), rows);
    assertEquals(1, counts.rows());
  }

  @Test
  void aRowCutShortDoesNotBorrowFieldsFromTheNextLine() {
    byte[] data =
        ("   0: 0100007F:4E24 00000000:0000 0A\n"
                + "   1: 0100007F:4E25 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0\n"
                + "   2: 00000000:0016 00000000:0000 0A 00000000:00000000 00:00000000 00000000"
                + "     0        0 77 1\n")
            .getBytes(StandardCharsets.US_ASCII);
    List<Row> rows = new ArrayList<>();
    ProcNetTcpParser.Counts counts =
        ProcNetTcpParser.parse(
            data,
            data.length,
            (address, port, state, inode) -> rows.add(new Row(address, port, state, inode)));
    assertEquals(List.of(new Row(LocalAddressKind.V4_ANY, 22, TcpState.LISTEN, 77)), rows);
    assertEquals(2, counts.malformedLines());
    assertEquals("   0: 0100007F:4E24 00000000:0000 0A", counts.firstMalformedLine());
  }

  @Test
  void emptyAndHeaderOnlyTablesHaveNoRows() {
    for (String text : new String[] {"", "\n", "  sl  local_address rem_address   st\n"}) {
      byte[] data = text.getBytes(StandardCharsets.US_ASCII);
      List<Row> rows = new ArrayList<>();
      ProcNetTcpParser.Counts counts =
          ProcNetTcpParser.parse(
              data,
              data.length,
              (address, port, state, inode) -> rows.add(new Row(address, port, state, inode)));
      assertTrue(rows.isEmpty());
      assertEquals(0, counts.malformedLines());
      assertNull(counts.firstMalformedLine());
    }
  }

  @Test
  void binaryGarbageIsMalformedNotAnException() {
    byte[] garbage = new byte[4096];
    new Random(42).nextBytes(garbage);
    ProcNetTcpParser.Counts counts =
        ProcNetTcpParser.parse(
            garbage,
            garbage.length,
            (address, port, state, inode) -> {
              throw new AssertionError("no row expected in random bytes");
            });
    assertEquals(0, counts.rows());
    assertTrue(counts.malformedLines() > 0);
  }
}
