package io.sigma.agent.config;

/**
 * An inclusive range of TCP ports, {@code first..last}, both within 1..65535.
 *
 * @param first lowest port of the range
 * @param last highest port of the range (may equal {@code first})
 */
public record PortRange(int first, int last) {
  public static final int MIN_PORT = 1;
  public static final int MAX_PORT = 65535;

  /** The agent's default forwarding range, {@code 10000-30000} (20,001 ports). */
  public static final PortRange DEFAULT = new PortRange(10000, 30000);

  public PortRange {
    checkPort(first, "first");
    checkPort(last, "last");
    if (first > last) {
      throw new IllegalArgumentException(
          "first port " + first + " is greater than last port " + last);
    }
  }

  /**
   * Parses {@code "FIRST-LAST"} (e.g. {@code "10000-30000"}; spaces around the numbers are allowed)
   * or a single port {@code "8080"} (a range of one).
   *
   * @throws IllegalArgumentException naming the offending text when it is not such a range
   */
  public static PortRange parse(String text) {
    if (text == null || text.isBlank()) {
      throw new IllegalArgumentException(
          "port range is empty; expected FIRST-LAST, e.g. 10000-30000");
    }
    String trimmed = text.trim();
    int dash = trimmed.indexOf('-', 1);
    String firstText = dash < 0 ? trimmed : trimmed.substring(0, dash).trim();
    String lastText = dash < 0 ? trimmed : trimmed.substring(dash + 1).trim();
    int first = parsePort(firstText, text);
    int last = parsePort(lastText, text);
    try {
      return new PortRange(first, last);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("port range '" + text + "': " + e.getMessage(), e);
    }
  }

  /** Number of ports in the range. */
  public int size() {
    return last - first + 1;
  }

  public boolean contains(int port) {
    return port >= first && port <= last;
  }

  @Override
  public String toString() {
    return first + "-" + last;
  }

  private static int parsePort(String number, String whole) {
    boolean digits = number.chars().allMatch(c -> c >= '0' && c <= '9');
    if (number.isEmpty() || number.length() > 5 || !digits) {
      throw new IllegalArgumentException(
          "port range '"
              + whole
              + "' is not FIRST-LAST with ports 1..65535 (e.g. 10000-30000): '"
              + number
              + "' is not a port number");
    }
    return Integer.parseInt(number);
  }

  private static void checkPort(int port, String which) {
    if (port < MIN_PORT || port > MAX_PORT) {
      throw new IllegalArgumentException(
          which + " port " + port + " is outside " + MIN_PORT + ".." + MAX_PORT);
    }
  }
}
