package io.sigma.agent.xds;

import io.sigma.agent.host.IpLiterals;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * What a route's {@code backend_host} may be: an IP literal (IPv4 dotted quad, IPv6 without
 * brackets or zone; {@link IpLiterals} decides) or a DNS host name. Envoy resolves the name itself,
 * so anything else (a port, a URL, whitespace) would only show up later as a NACK that blocks the
 * node's whole Cluster update, or as a cluster that never resolves.
 *
 * <p>Host names: at most 253 characters (a trailing dot not counted), dot-separated labels of 1..63
 * letters, digits, '-' and '_', a label never starting or ending with '-'. '_' is not in RFC 1123
 * host names but resolves fine (DNS allows any byte) and shows up in real internal names, so it is
 * accepted. Internationalized names only in their punycode ({@code xn--}) form. A name whose last
 * label is all digits is rejected: it is a mistyped IPv4 address ("10.0.0", "010.0.0.1"), which a
 * resolver may read in surprising ways (octal).
 */
final class BackendHost {

  static final int MAX_NAME_LENGTH = 253;
  static final int MAX_LABEL_LENGTH = 63;

  /** Values quoted in messages are cut after this many characters. */
  static final int QUOTE_MAX = 80;

  /** "host:port", "1.2.3.4:port": something before one ':' and only digits after it. */
  private static final Pattern HOST_AND_PORT = Pattern.compile("([^:]+):(\\d{1,10})");

  /** "[v6]" or "[v6]:port". */
  private static final Pattern BRACKETED = Pattern.compile("\\[([^\\]]*)\\](?::(\\d{1,10}))?");

  private BackendHost() {}

  /** True for an IPv4 dotted quad or an IPv6 literal (no brackets, no zone); never a DNS lookup. */
  static boolean isIpLiteral(String host) {
    return IpLiterals.parse(host).isPresent();
  }

  /**
   * Why {@code host} (already stripped of surrounding whitespace, not blank) can not be a
   * backend_host, as a sentence an operator can act on; empty when it can.
   */
  static Optional<String> problem(String host) {
    if (isIpLiteral(host)) {
      return Optional.empty();
    }
    String quoted = QuotedText.quote(host, QUOTE_MAX);
    Optional<String> port = withPort(host, quoted);
    if (port.isPresent()) {
      return port;
    }
    Optional<String> character = badCharacter(host, quoted);
    if (character.isPresent()) {
      return character;
    }
    return dnsNameProblem(host, quoted);
  }

  private static Optional<String> withPort(String host, String quoted) {
    Matcher bracketed = BRACKETED.matcher(host);
    if (bracketed.matches()) {
      String inside = bracketed.group(1);
      if (bracketed.group(2) != null) {
        return Optional.of(
            "backend_host "
                + quoted
                + " has a port: put "
                + bracketed.group(2)
                + " in backend_port and write the address without brackets ("
                + QuotedText.quote(inside, QUOTE_MAX)
                + ")");
      }
      return Optional.of(
          "backend_host "
              + quoted
              + " is in brackets: write the IPv6 address without them ("
              + QuotedText.quote(inside, QUOTE_MAX)
              + ")");
    }
    Matcher hostAndPort = HOST_AND_PORT.matcher(host);
    if (hostAndPort.matches()) {
      String name = hostAndPort.group(1);
      if (isIpLiteral(name)
          || (badCharacter(name, "").isEmpty() && dnsNameProblem(name, "").isEmpty())) {
        return Optional.of(
            "backend_host "
                + quoted
                + " has a port: put "
                + hostAndPort.group(2)
                + " in backend_port and "
                + QuotedText.quote(name, QUOTE_MAX)
                + " in backend_host");
      }
    }
    return Optional.empty();
  }

  /** The most telling reason when {@code host} holds a character no host name has. */
  private static Optional<String> badCharacter(String host, String quoted) {
    String why;
    if (host.chars().anyMatch(c -> Character.isWhitespace(c) || Character.isISOControl(c))) {
      why = "contains whitespace or a control character";
    } else if (host.contains("://")) {
      why = "is a URL: backend_host takes only a host name or an IP address";
    } else if (host.indexOf('/') >= 0) {
      why =
          "contains '/': backend_host takes only a host name or an IP address, not a URL or a CIDR";
    } else if (host.indexOf('@') >= 0) {
      why = "contains '@': backend_host takes only a host name or an IP address, no user name";
    } else if (host.indexOf('%') >= 0) {
      why = "contains '%': IPv6 zone ids are not supported, use a global address or a host name";
    } else if (host.chars().anyMatch(c -> c > 0x7f)) {
      why =
          "contains non-ASCII characters: write an internationalized name in its punycode (xn--) form";
    } else if (host.indexOf(':') >= 0) {
      why =
          "is neither an IP address nor a host name (a ':' belongs only in an IPv6 address;"
              + " a port goes in backend_port)";
    } else {
      int bad =
          host.chars().filter(c -> !isNameCharacter((char) c) && c != '.').findFirst().orElse(-1);
      if (bad < 0) {
        return Optional.empty();
      }
      why = "contains '" + (char) bad + "', which a host name can not contain";
    }
    return Optional.of("backend_host " + quoted + " " + why);
  }

  /** {@code host} holds only letters, digits, '-', '_' and '.'. */
  private static Optional<String> dnsNameProblem(String host, String quoted) {
    String name = host.endsWith(".") ? host.substring(0, host.length() - 1) : host;
    if (name.length() > MAX_NAME_LENGTH) {
      return Optional.of(
          "backend_host "
              + quoted
              + " is "
              + name.length()
              + " characters long; a host name has at most "
              + MAX_NAME_LENGTH);
    }
    String[] labels = name.split("\\.", -1);
    for (String label : labels) {
      if (label.isEmpty()) {
        return Optional.of(
            "backend_host " + quoted + " has an empty label (a leading dot or two dots in a row)");
      }
      if (label.length() > MAX_LABEL_LENGTH) {
        return Optional.of(
            "backend_host "
                + quoted
                + " has a label of "
                + label.length()
                + " characters; a label has at most "
                + MAX_LABEL_LENGTH);
      }
      if (label.startsWith("-") || label.endsWith("-")) {
        return Optional.of(
            "backend_host "
                + quoted
                + " has a label starting or ending with '-' ("
                + QuotedText.quote(label, QUOTE_MAX)
                + ")");
      }
    }
    if (labels[labels.length - 1].chars().allMatch(Character::isDigit)) {
      return Optional.of(
          "backend_host "
              + quoted
              + " is not a valid IP address (IPv4: four numbers"
              + " 0..255 without leading zeros) and, ending in a number, not a host name either");
    }
    return Optional.empty();
  }

  private static boolean isNameCharacter(char c) {
    return (c >= 'a' && c <= 'z')
        || (c >= 'A' && c <= 'Z')
        || (c >= '0' && c <= '9')
        || c == '-'
        || c == '_';
  }
}
