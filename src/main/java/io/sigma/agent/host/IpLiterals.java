package io.sigma.agent.host;

import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Strict IP address literals: parsing that never touches DNS, and canonical text (RFC 5952 for
 * IPv6: lower case, leading zeros dropped, the longest run of two or more zero groups as "::").
 *
 * <p>{@link InetAddress#getByName} is not used on untrusted text directly: for anything that is not
 * a literal it resolves the name over DNS, and it accepts odd IPv4 forms ("127.1").
 */
public final class IpLiterals {
  private static final Pattern IPV4 =
      Pattern.compile(
          "(0|[1-9]\\d{0,2})\\.(0|[1-9]\\d{0,2})\\.(0|[1-9]\\d{0,2})\\.(0|[1-9]\\d{0,2})");

  /** Starts with a hex digit or ':', so InetAddress takes its literal-only path (no DNS). */
  private static final Pattern IPV6_CHARS = Pattern.compile("[0-9a-fA-F:][0-9a-fA-F:.]*");

  private static final int MAX_IPV6_LENGTH = 45;

  private IpLiterals() {}

  /**
   * The address written in {@code text} (dotted-quad IPv4 without leading zeros, or IPv6 without
   * zone), or empty when it is anything else. Never resolves names.
   */
  public static Optional<InetAddress> parse(String text) {
    if (text == null || text.isEmpty()) {
      return Optional.empty();
    }
    Matcher v4 = IPV4.matcher(text);
    if (v4.matches()) {
      byte[] bytes = new byte[4];
      for (int i = 0; i < 4; i++) {
        int octet = Integer.parseInt(v4.group(i + 1));
        if (octet > 255) {
          return Optional.empty();
        }
        bytes[i] = (byte) octet;
      }
      return Optional.of(byAddress(bytes));
    }
    if (text.length() <= MAX_IPV6_LENGTH
        && text.indexOf(':') >= 0
        && IPV6_CHARS.matcher(text).matches()) {
      try {
        return Optional.of(InetAddress.getByName(text));
      } catch (UnknownHostException e) {
        return Optional.empty();
      }
    }
    return Optional.empty();
  }

  /** The address for 4 or 16 raw bytes (IPv4-mapped IPv6 becomes IPv4, as in the JDK). */
  public static InetAddress byAddress(byte[] bytes) {
    try {
      return InetAddress.getByAddress(bytes);
    } catch (UnknownHostException e) {
      throw new IllegalArgumentException("an IP address has 4 or 16 bytes, not " + bytes.length, e);
    }
  }

  /** Canonical text: dotted quad for IPv4, RFC 5952 compressed form for IPv6, no zone. */
  public static String format(InetAddress address) {
    if (address instanceof Inet4Address) {
      return address.getHostAddress();
    }
    byte[] b = address.getAddress();
    int[] groups = new int[8];
    for (int i = 0; i < 8; i++) {
      groups[i] = ((b[2 * i] & 0xff) << 8) | (b[2 * i + 1] & 0xff);
    }
    // Longest run of zero groups (first one on ties); a single zero group is not compressed.
    int bestStart = -1;
    int bestLength = 1;
    for (int i = 0; i < 8; ) {
      if (groups[i] != 0) {
        i++;
        continue;
      }
      int start = i;
      while (i < 8 && groups[i] == 0) {
        i++;
      }
      if (i - start > bestLength) {
        bestStart = start;
        bestLength = i - start;
      }
    }
    StringBuilder text = new StringBuilder(39);
    for (int i = 0; i < 8; i++) {
      if (i == bestStart) {
        text.append("::");
        i += bestLength - 1;
        continue;
      }
      if (text.length() > 0 && text.charAt(text.length() - 1) != ':') {
        text.append(':');
      }
      text.append(Integer.toHexString(groups[i]));
    }
    return text.toString();
  }
}
