package io.sigma.agent.host;

import io.sigma.agent.api.IpAddress;
import java.net.InetAddress;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The host's addresses for {@code ip_addresses}: IPv4 from {@code <proc>/net/fib_trie} (every
 * {@code /32 host LOCAL} entry), then global IPv6 from {@code <proc>/net/if_inet6}, filtered and
 * labelled by an {@link AddressFilter}. Reads the files on every call (addresses change).
 *
 * <p>Never throws: a missing or unreadable file gives no addresses of that family, and each
 * distinct problem is logged once per instance. Keep one instance for the agent's lifetime.
 */
public final class HostAddressDiscovery {
  private static final Logger log = LoggerFactory.getLogger(HostAddressDiscovery.class);

  private final Path fibTrie;
  private final Path ifInet6;
  private final AddressFilter filter;
  private final WarnOnce warnings = new WarnOnce(log);

  /**
   * @param procRoot the host's proc directory, usually {@code /proc}
   * @param ignored address ranges to leave out (replaces {@link AddressFilter#DEFAULT_IGNORED};
   *     loopback, link-local and multicast are always left out)
   */
  public HostAddressDiscovery(Path procRoot, List<Cidr> ignored) {
    this.fibTrie = procRoot.resolve("net/fib_trie");
    this.ifInet6 = procRoot.resolve("net/if_inet6");
    this.filter = new AddressFilter(ignored);
  }

  /** The labelled addresses, IPv4 first, each once; empty when nothing could be read. */
  public List<IpAddress> discover() {
    List<InetAddress> found = new ArrayList<>(readIpv4());
    found.addAll(readIpv6());
    return filter.apply(found);
  }

  private List<InetAddress> readIpv4() {
    try {
      ProcAddresses parsed = FibTrieReader.read(fibTrie);
      warnAboutMalformedLines(fibTrie, parsed);
      if (parsed.addresses().isEmpty()) {
        warnings.warn(
            fibTrie + "|no local addresses",
            "IPv4 addresses: "
                + fibTrie
                + " lists no '/32 host LOCAL' entry; reporting no IPv4 address");
      }
      return parsed.addresses();
    } catch (Exception e) {
      warnings.warn(
          WarnOnce.key(fibTrie, e),
          "IPv4 addresses: cannot read "
              + fibTrie
              + ": "
              + WarnOnce.describe(e)
              + "; reporting no IPv4 address until it can be read");
      return List.of();
    }
  }

  private List<InetAddress> readIpv6() {
    try {
      ProcAddresses parsed = IfInet6Reader.read(ifInet6);
      warnAboutMalformedLines(ifInet6, parsed);
      return parsed.addresses();
    } catch (Exception e) {
      warnings.warn(
          WarnOnce.key(ifInet6, e),
          "IPv6 addresses: cannot read "
              + ifInet6
              + ": "
              + WarnOnce.describe(e)
              + (e instanceof NoSuchFileException ? " (IPv6 disabled?)" : "")
              + "; reporting no IPv6 address until it can be read");
      return List.of();
    }
  }

  private void warnAboutMalformedLines(Path file, ProcAddresses parsed) {
    if (!parsed.malformedLines().isEmpty()) {
      warnings.warn(
          file + "|malformed lines",
          "addresses: skipped "
              + parsed.malformedLines().size()
              + " unreadable line(s) of "
              + file
              + ", first: "
              + LogText.excerpt(parsed.malformedLines().get(0), 80)
              + "; the other addresses are still reported");
    }
  }
}
