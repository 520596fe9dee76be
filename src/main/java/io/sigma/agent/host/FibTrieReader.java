package io.sigma.agent.host;

import java.io.IOException;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * The host's IPv4 addresses from {@code /proc/net/fib_trie}: every leaf that carries a {@code /32
 * host LOCAL} entry. The file lists each routing table (Main, Local, …) as a tree:
 *
 * <pre>
 * Local:
 *   +-- 0.0.0.0/0 3 0 5
 *      +-- 192.0.2.0/24 2 0 2
 *         |-- 192.0.2.2
 *            /32 host LOCAL
 * </pre>
 *
 * A leaf line {@code |-- address} is followed by one line per prefix of that leaf. The same
 * addresses appear under several tables; each is returned once.
 */
public final class FibTrieReader {
  private static final Pattern LOCAL_HOST_ENTRY = Pattern.compile("/32\\s+host\\s+LOCAL\\b.*");

  private FibTrieReader() {}

  /** Reads and parses {@code <procRoot>/net/fib_trie}. */
  public static ProcAddresses read(Path fibTrie) throws IOException {
    return parse(
        HostFileReader.readString(
            fibTrie, HostFileReader.FIB_TRIE_CAP, StandardCharsets.ISO_8859_1));
  }

  /** The local addresses listed in fib_trie text. */
  public static ProcAddresses parse(String content) {
    Set<InetAddress> addresses = new LinkedHashSet<>();
    List<String> malformed = new ArrayList<>();
    String leaf = null;
    for (String line : (Iterable<String>) content.lines().map(String::strip)::iterator) {
      if (line.startsWith("|--")) {
        leaf = line.substring(3).strip();
      } else if (line.startsWith("+--") || line.endsWith(":") || line.isEmpty()) {
        leaf = null; // an inner node or a table header: the next prefixes are not this leaf's
      } else if (LOCAL_HOST_ENTRY.matcher(line).matches()) {
        Optional<InetAddress> address = leaf == null ? Optional.empty() : IpLiterals.parse(leaf);
        if (address.isPresent() && address.get() instanceof Inet4Address) {
          addresses.add(address.get());
        } else {
          malformed.add(leaf == null ? line + " (no address line before it)" : "|-- " + leaf);
        }
      }
    }
    return new ProcAddresses(new ArrayList<>(addresses), malformed);
  }
}
