package io.sigma.agent.ports;

import io.sigma.agent.config.PortRange;
import java.util.BitSet;
import java.util.Objects;

/**
 * Which ports of a range a TCP bind to {@code 0.0.0.0:port} would hit, as found by {@link
 * KernelPortScanner}.
 *
 * @param range the scanned range
 * @param occupied the occupied ports, indexed by port number (only bits inside {@code range})
 * @param socketRows rows read from the kernel's socket tables (0 when the tables were unreadable)
 * @param probedPorts ports the tables left ambiguous and that were bind-probed
 * @param method how the answer was found
 */
public record PortOccupancy(
    PortRange range, BitSet occupied, int socketRows, int probedPorts, Method method) {

  /** How the occupancy was found. */
  public enum Method {
    /** From {@code <proc>/net/tcp} and {@code tcp6}, bind-probing only the ambiguous ports. */
    SOCKET_TABLES,
    /** The tables could not be read: every port of the range was bind-probed. */
    BIND_TEST
  }

  public PortOccupancy {
    Objects.requireNonNull(range, "range");
    Objects.requireNonNull(method, "method");
    occupied = (BitSet) occupied.clone();
    if (occupied.nextSetBit(0) >= 0
        && (occupied.nextSetBit(0) < range.first() || occupied.length() - 1 > range.last())) {
      throw new IllegalArgumentException("occupied ports outside " + range + ": " + occupied);
    }
  }

  /** A copy of the occupied ports, indexed by port number. */
  @Override
  public BitSet occupied() {
    return (BitSet) occupied.clone();
  }

  public boolean isOccupied(int port) {
    return occupied.get(port);
  }

  /** Number of occupied ports in the range. */
  public int inUse() {
    return occupied.cardinality();
  }
}
