package io.sigma.agent.ports;

import io.sigma.agent.config.PortRange;
import java.time.Duration;
import java.time.Instant;
import java.util.BitSet;
import java.util.Objects;

/**
 * One scan: which ports of the range are occupied, and who holds the machine's listening ports.
 *
 * @param range the scanned range
 * @param occupied the occupied ports of the range, indexed by port number
 * @param listeners system-wide counts of listening TCP ports by source (not only the range's)
 * @param at when the scan started
 * @param took how long the whole scan (occupancy and attribution) took
 */
public record PortScan(
    PortRange range, BitSet occupied, ListenerAttribution listeners, Instant at, Duration took) {

  public PortScan {
    Objects.requireNonNull(range, "range");
    Objects.requireNonNull(listeners, "listeners");
    Objects.requireNonNull(at, "at");
    Objects.requireNonNull(took, "took");
    occupied = (BitSet) occupied.clone();
    int lowest = occupied.nextSetBit(0);
    if (lowest >= 0 && (lowest < range.first() || occupied.length() - 1 > range.last())) {
      throw new IllegalArgumentException("occupied ports outside " + range + ": " + occupied);
    }
    if (took.isNegative()) {
      throw new IllegalArgumentException("negative scan duration " + took);
    }
  }

  /** A copy of the occupied ports, indexed by port number. */
  @Override
  public BitSet occupied() {
    return (BitSet) occupied.clone();
  }

  /** Ports in the range ({@code sigma_ports_total}). */
  public int total() {
    return range.size();
  }

  /** Occupied ports of the range ({@code sigma_ports_in_use}). */
  public int inUse() {
    return occupied.cardinality();
  }

  /** Free ports of the range ({@code sigma_ports_available}). */
  public int available() {
    return total() - inUse();
  }
}
