package io.sigma.agent.ports;

import io.sigma.agent.config.PortRange;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * Parses the output of {@code ss -tulnp} and its variants: with a Netid column ({@code -tulnp}) or
 * without ({@code -tlnp}), with or without the header line ({@code -H}), with or without the
 * process column ({@code -p}), IPv4 ({@code 0.0.0.0:22}), IPv6 ({@code [::]:22}, {@code
 * [::1]:631}), dual-stack ({@code *:80}), interface suffixes ({@code 127.0.0.53%lo:53}, {@code
 * [fe80::1]%eth0:546}), and {@code users:(("nginx",pid=1,fd=6),("nginx",pid=2,fd=6))} with any
 * number of users. Extra columns after the peer ({@code -e}'s {@code ino:…}) are ignored. A line
 * that fits none of this is counted as odd and skipped, never an exception. Stateless.
 */
public final class SsOutputParser {
  /** ss's state names (ss.c {@code sstate_name}), which start a line without a Netid column. */
  private static final Set<String> STATES =
      Set.of(
          "UNKNOWN",
          "ESTAB",
          "SYN-SENT",
          "SYN-RECV",
          "FIN-WAIT-1",
          "FIN-WAIT-2",
          "TIME-WAIT",
          "UNCONN",
          "CLOSE-WAIT",
          "LAST-ACK",
          "LISTEN",
          "CLOSING",
          "NEW-SYN-RECV",
          "BOUND-INACTIVE",
          "CLOSED");

  private static final String USERS = "users:(";

  private SsOutputParser() {}

  public static SsOutput parse(String output) {
    List<SsListener> sockets = new ArrayList<>();
    int odd = 0;
    String firstOdd = null;
    for (String line : output.split("\n", -1)) {
      String trimmed = line.strip();
      if (trimmed.isEmpty() || trimmed.startsWith("Netid ") || trimmed.startsWith("State ")) {
        continue;
      }
      SsListener socket = parseLine(trimmed);
      if (socket == null) {
        odd++;
        if (firstOdd == null) {
          firstOdd = trimmed.length() > 200 ? trimmed.substring(0, 200) : trimmed;
        }
      } else {
        sockets.add(socket);
      }
    }
    return new SsOutput(sockets, odd, firstOdd);
  }

  /** One socket line, or null when it is odd. */
  static SsListener parseLine(String line) {
    int usersAt = line.indexOf(USERS);
    String columns = usersAt < 0 ? line : line.substring(0, usersAt);
    String[] tokens = columns.trim().split("\\s+");
    int first = tokens.length > 0 && STATES.contains(tokens[0]) ? 0 : 1;
    if (tokens.length < first + 5
        || !STATES.contains(tokens[first])
        || !isCount(tokens[first + 1])
        || !isCount(tokens[first + 2])) {
      return null;
    }
    String netid = first == 0 ? "" : tokens[0];
    String state = tokens[first];
    String local = tokens[first + 3];
    int colon = local.lastIndexOf(':');
    if (colon <= 0) {
      return null;
    }
    int port = parsePort(local.substring(colon + 1));
    if (port < 0) {
      return null;
    }
    String host = local.substring(0, colon);
    String interfaceName = "";
    int percent = host.lastIndexOf('%');
    if (percent >= 0 && percent > host.lastIndexOf(']')) {
      interfaceName = host.substring(percent + 1);
      host = host.substring(0, percent);
    }
    if (host.startsWith("[") && host.endsWith("]")) {
      host = host.substring(1, host.length() - 1);
    } else if (host.contains("[")
        || host.contains("]")
        || host.isEmpty()
        || interfaceName.isEmpty() && percent >= 0) {
      return null;
    }
    List<SocketUser> users = List.of();
    if (usersAt >= 0) {
      users = parseUsers(line, usersAt + USERS.length());
      if (users == null) {
        return null;
      }
    }
    return new SsListener(netid, state, host, interfaceName, port, users);
  }

  /**
   * Parses {@code ("name",pid=1,fd=6),("name",pid=2,fd=7))} starting after {@code users:(}. The
   * name runs from {@code ("} to {@code ",pid=}: ss prints it unescaped, so that is the one
   * reliable end. Returns null when the text does not have that shape.
   */
  private static List<SocketUser> parseUsers(String line, int pos) {
    List<SocketUser> users = new ArrayList<>();
    while (true) {
      if (!line.startsWith("(\"", pos)) {
        return null;
      }
      int nameEnd = line.indexOf("\",pid=", pos + 2);
      if (nameEnd < 0) {
        return null;
      }
      String name = line.substring(pos + 2, nameEnd);
      int close = line.indexOf(')', nameEnd);
      if (close < 0) {
        return null;
      }
      long pid = -1;
      int fd = -1;
      for (String field : line.substring(nameEnd + 2, close).split(",")) {
        int eq = field.indexOf('=');
        String value = eq < 0 ? "" : field.substring(eq + 1);
        if (field.startsWith("pid=")) {
          pid = parseNumber(value);
        } else if (field.startsWith("fd=")) {
          fd = (int) Math.min(parseNumber(value), Integer.MAX_VALUE);
        }
      }
      if (pid < 0) {
        return null;
      }
      users.add(new SocketUser(name, pid, fd));
      pos = close + 1;
      if (line.startsWith(",", pos)) {
        pos++;
      } else if (line.startsWith(")", pos)) {
        return users;
      } else {
        return null;
      }
    }
  }

  private static boolean isCount(String token) {
    return parseNumber(token) >= 0;
  }

  private static int parsePort(String text) {
    long port = parseNumber(text);
    return port >= 0 && port <= PortRange.MAX_PORT ? (int) port : -1;
  }

  /** A non-negative decimal number of at most 18 digits, or -1. */
  private static long parseNumber(String text) {
    if (text.isEmpty() || text.length() > 18) {
      return -1;
    }
    long value = 0;
    for (int i = 0; i < text.length(); i++) {
      char c = text.charAt(i);
      if (c < '0' || c > '9') {
        return -1;
      }
      value = value * 10 + (c - '0');
    }
    return value;
  }
}
