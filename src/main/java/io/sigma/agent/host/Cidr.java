package io.sigma.agent.host;

import java.net.InetAddress;
import java.util.Arrays;
import java.util.Objects;
import java.util.Optional;

/**
 * An IPv4 or IPv6 address range such as {@code 10.0.0.0/8} or {@code fd00::/8}.
 *
 * @param network the first address of the range (no bits set past the prefix)
 * @param prefixLength the number of leading bits that are fixed, 0..32 (IPv4) or 0..128 (IPv6)
 */
public record Cidr(InetAddress network, int prefixLength) {

  public Cidr {
    Objects.requireNonNull(network, "network");
    int bits = network.getAddress().length * 8;
    if (prefixLength < 0 || prefixLength > bits) {
      throw new IllegalArgumentException(
          "prefix length " + prefixLength + " is outside 0.." + bits + " for " + network);
    }
    if (!isNetworkAddress(network.getAddress(), prefixLength)) {
      throw new IllegalArgumentException(
          IpLiterals.format(network) + "/" + prefixLength + " has bits set past the prefix");
    }
  }

  /**
   * Parses {@code address/prefix} (or a bare address, meaning a single-address range). The message
   * of the exception names the text and what is wrong with it, fit for a config error.
   *
   * @throws IllegalArgumentException when the text is not a CIDR range
   */
  public static Cidr parse(String text) {
    if (text == null || text.isBlank()) {
      throw new IllegalArgumentException(
          "a CIDR range is empty (expected e.g. 10.0.0.0/8 or fd00::/8)");
    }
    String trimmed = text.trim();
    int slash = trimmed.indexOf('/');
    String addressText = slash < 0 ? trimmed : trimmed.substring(0, slash);
    Optional<InetAddress> address = IpLiterals.parse(addressText);
    if (address.isEmpty()) {
      throw new IllegalArgumentException(
          "'"
              + trimmed
              + "' is not a CIDR range: '"
              + addressText
              + "' is not an IPv4 or IPv6 address (expected e.g. 10.0.0.0/8 or fd00::/8)");
    }
    int bits = address.get().getAddress().length * 8;
    int prefix = bits;
    if (slash >= 0) {
      String prefixText = trimmed.substring(slash + 1);
      if (!prefixText.matches("\\d{1,3}") || Integer.parseInt(prefixText) > bits) {
        throw new IllegalArgumentException(
            "'"
                + trimmed
                + "' is not a CIDR range: the prefix length '"
                + prefixText
                + "' must be a number from 0 to "
                + bits);
      }
      prefix = Integer.parseInt(prefixText);
    }
    byte[] bytes = address.get().getAddress();
    if (!isNetworkAddress(bytes, prefix)) {
      String suggestion =
          IpLiterals.format(IpLiterals.byAddress(mask(bytes, prefix))) + "/" + prefix;
      throw new IllegalArgumentException(
          "'"
              + trimmed
              + "' is not a CIDR range: the address has bits set"
              + " past the /"
              + prefix
              + " prefix (did you mean "
              + suggestion
              + "?)");
    }
    return new Cidr(address.get(), prefix);
  }

  /** Whether {@code address} lies in this range; an address of the other family never does. */
  public boolean contains(InetAddress address) {
    byte[] candidate = address.getAddress();
    byte[] net = network.getAddress();
    if (candidate.length != net.length) {
      return false;
    }
    return Arrays.equals(mask(candidate, prefixLength), net);
  }

  @Override
  public String toString() {
    return IpLiterals.format(network) + "/" + prefixLength;
  }

  private static boolean isNetworkAddress(byte[] bytes, int prefix) {
    return Arrays.equals(mask(bytes, prefix), bytes);
  }

  /** A copy of {@code bytes} with every bit past the first {@code prefix} bits cleared. */
  private static byte[] mask(byte[] bytes, int prefix) {
    byte[] masked = bytes.clone();
    for (int i = 0; i < masked.length; i++) {
      int keep = Math.max(0, Math.min(8, prefix - 8 * i));
      masked[i] &= (byte) (0xff << (8 - keep));
    }
    return masked;
  }
}
