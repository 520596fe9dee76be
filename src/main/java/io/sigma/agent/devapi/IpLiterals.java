package io.sigma.agent.devapi;

/**
 * Strict IP literal checks, without any name resolution ({@code InetAddress.getByName} would
 * fall back to DNS for anything that is not a literal). IPv4 is a dotted quad of decimal octets
 * without leading zeros; IPv6 is the RFC 4291 text form (at most one {@code ::}, optional
 * trailing dotted quad), without zone id, brackets or prefix length.
 */
public final class IpLiterals {
  private IpLiterals() {}

  public static boolean isIpAddress(String s) {
    return s != null && (isIpv4(s) || isIpv6(s));
  }

  public static boolean isIpv4(String s) {
    if (s == null || s.isEmpty()) {
      return false;
    }
    String[] parts = s.split("\\.", -1);
    if (parts.length != 4) {
      return false;
    }
    for (String part : parts) {
      if (!isOctet(part)) {
        return false;
      }
    }
    return true;
  }

  private static boolean isOctet(String part) {
    if (part.isEmpty() || part.length() > 3 || (part.length() > 1 && part.charAt(0) == '0')) {
      return false;
    }
    int value = 0;
    for (int i = 0; i < part.length(); i++) {
      char c = part.charAt(i);
      if (c < '0' || c > '9') {
        return false;
      }
      value = value * 10 + (c - '0');
    }
    return value <= 255;
  }

  public static boolean isIpv6(String s) {
    if (s == null || s.length() < 2 || s.indexOf(':') < 0) {
      return false;
    }
    int doubleColon = s.indexOf("::");
    if (doubleColon >= 0 && s.indexOf("::", doubleColon + 1) >= 0) {
      return false;
    }
    if (doubleColon < 0) {
      return groupCount(s) == 8;
    }
    String head = s.substring(0, doubleColon);
    String tail = s.substring(doubleColon + 2);
    int headGroups = head.isEmpty() ? 0 : groupCount(head);
    int tailGroups = tail.isEmpty() ? 0 : groupCount(tail);
    if (headGroups < 0 || tailGroups < 0) {
      return false;
    }
    if (!head.isEmpty() && head.contains(".")) {
      return false; // a dotted quad may only end the address
    }
    return headGroups + tailGroups <= 7;
  }

  /**
   * Number of 16-bit groups in a colon-separated run (a trailing dotted quad counts as two), or
   * -1 if the run is malformed.
   */
  private static int groupCount(String run) {
    String[] groups = run.split(":", -1);
    int count = 0;
    for (int i = 0; i < groups.length; i++) {
      String g = groups[i];
      if (i == groups.length - 1 && g.contains(".")) {
        if (!isIpv4(g)) {
          return -1;
        }
        count += 2;
      } else if (isHexGroup(g)) {
        count += 1;
      } else {
        return -1;
      }
    }
    return count;
  }

  private static boolean isHexGroup(String g) {
    if (g.isEmpty() || g.length() > 4) {
      return false;
    }
    for (int i = 0; i < g.length(); i++) {
      if (Character.digit(g.charAt(i), 16) < 0) {
        return false;
      }
    }
    return true;
  }
}
