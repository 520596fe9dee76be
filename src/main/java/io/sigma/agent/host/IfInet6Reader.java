package io.sigma.agent.host;

import java.io.IOException;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The host's global-scope IPv6 addresses from {@code /proc/net/if_inet6}. One line per address:
 *
 * <pre>
 * fd000000000000000000000000000002 04 40 00 82     eth0
 * (address, 32 hex)                 index, prefix length, scope, flags (hex), interface
 * </pre>
 *
 * Scope 00 is global; loopback (10), link-local (20) and site-local (40) lines are skipped.
 */
public final class IfInet6Reader {
  private static final Pattern LINE =
      Pattern.compile(
          "([0-9a-fA-F]{32})\\s+([0-9a-fA-F]+)\\s+([0-9a-fA-F]+)\\s+([0-9a-fA-F]+)\\s+([0-9a-fA-F]+)\\s+(\\S+)");
  private static final int SCOPE_GLOBAL = 0x00;

  private IfInet6Reader() {}

  /** Reads and parses {@code <procRoot>/net/if_inet6}. */
  public static ProcAddresses read(Path ifInet6) throws IOException {
    return parse(
        HostFileReader.readString(
            ifInet6, HostFileReader.DEFAULT_CAP, StandardCharsets.ISO_8859_1));
  }

  /** The global-scope addresses listed in if_inet6 text. */
  public static ProcAddresses parse(String content) {
    Set<InetAddress> addresses = new LinkedHashSet<>();
    List<String> malformed = new ArrayList<>();
    for (String rawLine : content.split("\n")) {
      String line = rawLine.strip();
      if (line.isEmpty()) {
        continue;
      }
      Matcher m = LINE.matcher(line);
      if (!m.matches() || m.group(4).length() > 2) {
        malformed.add(line);
        continue;
      }
      if (Integer.parseInt(m.group(4), 16) != SCOPE_GLOBAL) {
        continue;
      }
      InetAddress address = IpLiterals.byAddress(HexFormat.of().parseHex(m.group(1)));
      if (!address.isLoopbackAddress() && !address.isLinkLocalAddress()) {
        addresses.add(address);
      }
    }
    return new ProcAddresses(new ArrayList<>(addresses), malformed);
  }
}
