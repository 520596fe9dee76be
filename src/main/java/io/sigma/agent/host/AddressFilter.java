package io.sigma.agent.host;

import io.sigma.agent.api.IpAddress;
import java.net.InetAddress;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * Turns the host's local addresses into the {@code ip_addresses} of the contract: addresses in an
 * ignored range are left out, private ones are labelled {@code "internal"}, public ones {@code ""}.
 * Loopback, link-local, wildcard and multicast addresses are never reported, whatever the ignored
 * list says: they do not reach the VPS from anywhere.
 */
public final class AddressFilter {
  /** Loopback (v4 and v6) and the default Docker bridge. */
  public static final List<Cidr> DEFAULT_IGNORED =
      List.of(Cidr.parse("127.0.0.0/8"), Cidr.parse("::1/128"), Cidr.parse("172.17.0.0/16"));

  /** RFC 1918, RFC 6598 (carrier-grade NAT) and RFC 4193 (unique local IPv6). */
  public static final List<Cidr> PRIVATE_RANGES =
      List.of(
          Cidr.parse("10.0.0.0/8"),
          Cidr.parse("172.16.0.0/12"),
          Cidr.parse("192.168.0.0/16"),
          Cidr.parse("100.64.0.0/10"),
          Cidr.parse("fc00::/7"));

  private final List<Cidr> ignored;

  public AddressFilter(List<Cidr> ignored) {
    this.ignored = List.copyOf(ignored);
  }

  /**
   * The labelled addresses, in the order given, without duplicates and without ignored or
   * never-reportable addresses.
   */
  public List<IpAddress> apply(List<InetAddress> addresses) {
    Set<String> seen = new LinkedHashSet<>();
    List<IpAddress> result = new ArrayList<>();
    for (InetAddress address : addresses) {
      Optional<IpAddress> labelled = classify(address);
      if (labelled.isPresent() && seen.add(labelled.get().ip())) {
        result.add(labelled.get());
      }
    }
    return List.copyOf(result);
  }

  /** The labelled address, or empty when it is to be left out. */
  public Optional<IpAddress> classify(InetAddress address) {
    if (neverReported(address) || ignored.stream().anyMatch(range -> range.contains(address))) {
      return Optional.empty();
    }
    String label = isPrivate(address) ? IpAddress.INTERNAL : IpAddress.PUBLIC;
    return Optional.of(new IpAddress(IpLiterals.format(address), label));
  }

  /** In one of {@link #PRIVATE_RANGES}. */
  public static boolean isPrivate(InetAddress address) {
    return PRIVATE_RANGES.stream().anyMatch(range -> range.contains(address));
  }

  /** Reachable from the internet in principle: not private, loopback, link-local or multicast. */
  public static boolean isPublic(InetAddress address) {
    return !neverReported(address) && !isPrivate(address);
  }

  private static boolean neverReported(InetAddress address) {
    return address.isLoopbackAddress()
        || address.isLinkLocalAddress()
        || address.isAnyLocalAddress()
        || address.isMulticastAddress();
  }
}
