package io.sigma.agent.ports;

import java.nio.charset.StandardCharsets;

/**
 * Parses the kernel's socket tables {@code <proc>/net/tcp} and {@code tcp6} (and {@code udp},
 * {@code udp6}, which share the layout) straight from their bytes, without building a String per
 * line: the scan of a busy machine's tables must stay within a few milliseconds.
 *
 * <p>A row looks like ({@code tcp6} has 32 hex digits per address):
 *
 * <pre>
 *   sl  local_address rem_address   st tx_queue rx_queue tr tm-&gt;when retrnsmt   uid  …
 *    0: 0100007F:4E85 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0  …
 *   (then: timeout, inode, refcount, pointer, …; e.g. "0 11610 1 0000000020ec2d")
 * </pre>
 *
 * Only the local address and port, the state and the inode are read. The header line is skipped;
 * any other line that does not have this shape is counted as malformed and skipped. Stateless and
 * thread-safe.
 */
public final class ProcNetTcpParser {

  /** Receives every well-formed row of a table. */
  @FunctionalInterface
  public interface RowVisitor {
    /**
     * @param address what the local address is (any/specific, IPv4/IPv6/IPv4-mapped)
     * @param localPort the local port, 0..65535
     * @param state the TCP state number, see {@link TcpState}
     * @param inode the socket's inode (0 for TIME_WAIT rows, which no process holds)
     */
    void row(LocalAddressKind address, int localPort, int state, long inode);
  }

  /**
   * How a table parse went.
   *
   * @param rows well-formed rows handed to the visitor
   * @param malformedLines lines skipped because they did not look like a row
   * @param firstMalformedLine the first skipped line (for a log line), or null
   */
  public record Counts(int rows, int malformedLines, String firstMalformedLine) {}

  /** Index of the inode among a row's whitespace-separated fields ("sl:" is field 0). */
  private static final int INODE_FIELD = 9;

  /** What {@code parseRow} made of a line that is not a row. */
  private static final int SKIPPED = -1;

  private static final int MALFORMED = -2;

  private ProcNetTcpParser() {}

  /** Parses {@code data[0, length)} and calls {@code visitor} once per row. */
  public static Counts parse(byte[] data, int length, RowVisitor visitor) {
    int rows = 0;
    int malformed = 0;
    String firstMalformed = null;
    int pos = 0;
    while (pos < length) {
      // one pass: the row is parsed up to its inode, then only the rest is scanned for '\n'
      int result = parseRow(data, pos, length, visitor);
      int end = Math.max(result, pos);
      while (end < length && data[end] != '\n') {
        end++;
      }
      if (result >= 0) {
        rows++;
      } else if (result == MALFORMED) {
        malformed++;
        if (firstMalformed == null) {
          firstMalformed =
              new String(data, pos, Math.min(end - pos, 200), StandardCharsets.US_ASCII);
        }
      }
      pos = end + 1;
    }
    return new Counts(rows, malformed, firstMalformed);
  }

  /**
   * Parses the line starting at {@code start} (it ends at the next '\n' or at {@code end}).
   *
   * @return the position just after the inode for a row, or {@link #SKIPPED} / {@link #MALFORMED}
   */
  private static int parseRow(byte[] d, int start, int end, RowVisitor visitor) {
    int p = skipSpaces(d, start, end);
    if (atLineEnd(d, p, end)) {
      return SKIPPED; // blank line (e.g. a trailing newline)
    }
    if (d[p] == 's' && p + 1 < end && d[p + 1] == 'l') {
      return SKIPPED; // the header
    }
    // "sl:" — a decimal row number and a colon
    int digits = p;
    while (p < end && d[p] >= '0' && d[p] <= '9') {
      p++;
    }
    if (p == digits || p == end || d[p] != ':') {
      return MALFORMED;
    }
    p = skipSpaces(d, p + 1, end);
    // local address: 8 or 32 hex digits, ':', 4 hex digits
    int addressStart = p;
    while (p < end && hex(d[p]) >= 0) {
      p++;
    }
    int addressLength = p - addressStart;
    if ((addressLength != 8 && addressLength != 32) || p == end || d[p] != ':') {
      return MALFORMED;
    }
    LocalAddressKind kind =
        addressLength == 8
            ? (allZero(d, addressStart, 8) ? LocalAddressKind.V4_ANY : LocalAddressKind.V4_SPECIFIC)
            : ipv6Kind(d, addressStart);
    int port = parseHex(d, p + 1, 4, end);
    p += 5;
    if (port < 0 || p >= end || d[p] != ' ') {
      return MALFORMED;
    }
    // remote address: skip the token
    p = skipSpaces(d, p, end);
    p = skipToken(d, p, end);
    p = skipSpaces(d, p, end);
    int state = parseHex(d, p, 2, end);
    if (state < 0 || p + 2 < end && d[p + 2] != ' ') {
      return MALFORMED;
    }
    p += 2;
    // fields 4..8 (tx:rx queues, timer, retransmits, uid, timeout), then the inode
    for (int field = 4; field < INODE_FIELD; field++) {
      p = skipSpaces(d, p, end);
      int tokenStart = p;
      p = skipToken(d, p, end);
      if (p == tokenStart) {
        return MALFORMED;
      }
    }
    p = skipSpaces(d, p, end);
    long inode = 0;
    int inodeStart = p;
    while (p < end && d[p] >= '0' && d[p] <= '9' && p - inodeStart < 19) {
      inode = inode * 10 + (d[p] - '0');
      p++;
    }
    if (p == inodeStart || !(atLineEnd(d, p, end) || d[p] == ' ' || d[p] == '\r')) {
      return MALFORMED;
    }
    visitor.row(kind, port, state, inode);
    return p;
  }

  private static boolean atLineEnd(byte[] d, int p, int end) {
    return p >= end || d[p] == '\n';
  }

  /**
   * The kernel prints an IPv6 address as four 32-bit words in host byte order, so {@code
   * ::ffff:127.0.0.1} reads {@code 0000000000000000FFFF00000100007F} on little-endian machines and
   * {@code 00000000000000000000FFFF7F000001} on big-endian ones.
   */
  private static LocalAddressKind ipv6Kind(byte[] d, int start) {
    if (!allZero(d, start, 16)) {
      return LocalAddressKind.V6_SPECIFIC;
    }
    if (allZero(d, start + 16, 16)) {
      return LocalAddressKind.V6_ANY;
    }
    boolean littleEndianMapped = isFs(d, start + 16, 4) && allZero(d, start + 20, 4);
    boolean bigEndianMapped = allZero(d, start + 16, 4) && isFs(d, start + 20, 4);
    return littleEndianMapped || bigEndianMapped
        ? LocalAddressKind.V6_V4_MAPPED
        : LocalAddressKind.V6_SPECIFIC;
  }

  private static boolean allZero(byte[] d, int start, int count) {
    for (int i = start; i < start + count; i++) {
      if (d[i] != '0') {
        return false;
      }
    }
    return true;
  }

  private static boolean isFs(byte[] d, int start, int count) {
    for (int i = start; i < start + count; i++) {
      if (d[i] != 'F' && d[i] != 'f') {
        return false;
      }
    }
    return true;
  }

  private static int parseHex(byte[] d, int start, int count, int end) {
    if (start + count > end) {
      return -1;
    }
    int value = 0;
    for (int i = start; i < start + count; i++) {
      int h = hex(d[i]);
      if (h < 0) {
        return -1;
      }
      value = (value << 4) | h;
    }
    return value;
  }

  private static int hex(byte b) {
    if (b >= '0' && b <= '9') {
      return b - '0';
    }
    if (b >= 'A' && b <= 'F') {
      return b - 'A' + 10;
    }
    if (b >= 'a' && b <= 'f') {
      return b - 'a' + 10;
    }
    return -1;
  }

  private static int skipSpaces(byte[] d, int p, int end) {
    while (p < end && d[p] == ' ') {
      p++;
    }
    return p;
  }

  private static int skipToken(byte[] d, int p, int end) {
    while (p < end && d[p] != ' ' && d[p] != '\n') {
      p++;
    }
    return p;
  }
}
