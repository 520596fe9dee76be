package io.sigma.agent.host;

import java.net.InetAddress;
import java.util.List;

/**
 * Addresses read from a proc file, without duplicates, in file order; and the lines that looked
 * like address entries but could not be read (skipped, for a warning).
 */
public record ProcAddresses(List<InetAddress> addresses, List<String> malformedLines) {
  public ProcAddresses {
    addresses = List.copyOf(addresses);
    malformedLines = List.copyOf(malformedLines);
  }
}
