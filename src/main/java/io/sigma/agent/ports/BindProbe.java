package io.sigma.agent.ports;

import io.sigma.agent.config.PortRange;
import java.io.IOException;
import java.net.BindException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.StandardProtocolFamily;
import java.net.StandardSocketOptions;
import java.net.UnknownHostException;
import java.nio.channels.ServerSocketChannel;
import java.util.BitSet;

/**
 * The ground truth of port occupancy: bind a TCP server socket to {@code 0.0.0.0:port} the way
 * Envoy binds a listener, and close it at once.
 *
 * <p>Two details make this an exact test rather than an approximate one:
 *
 * <ul>
 *   <li>The socket is an {@code AF_INET} socket ({@link StandardProtocolFamily#INET}). Java's
 *       default server socket is a dual-stack IPv6 one, on which "0.0.0.0" silently becomes {@code
 *       [::]} and then also collides with IPv6-only listeners, which a real IPv4 bind does not.
 *   <li>{@code SO_REUSEADDR} is switched off (Java switches it on for server sockets), so the bind
 *       collides with every socket holding the port, TIME_WAIT ones included, whatever options
 *       those sockets were opened with.
 * </ul>
 *
 * The socket listens (backlog 1) for the instant between bind and close; nothing can connect in
 * that instant that would leave a TIME_WAIT behind, since nothing is ever accepted. Stateless and
 * thread-safe; about 20 µs a port.
 */
public final class BindProbe implements PortBindCheck {

  /** What binding a port told. */
  public enum Outcome {
    /** The bind succeeded: the port is free. */
    BINDABLE,
    /**
     * The kernel refused the bind ({@link BindException}): the port is held by a socket (or, for an
     * unprivileged process, it is a privileged port).
     */
    REFUSED,
    /** The probe itself failed (e.g. out of file descriptors); the port's state is unknown. */
    ERROR
  }

  private final InetAddress anyIpv4 = anyIpv4();

  /** A probe of {@code 0.0.0.0:port}. */
  public BindProbe() {}

  /** Binds {@code port} and closes it again. */
  public Outcome probe(int port) {
    if (port < PortRange.MIN_PORT || port > PortRange.MAX_PORT) {
      throw new IllegalArgumentException("port " + port + " is outside 1..65535");
    }
    try (ServerSocketChannel channel = ServerSocketChannel.open(StandardProtocolFamily.INET)) {
      channel.setOption(StandardSocketOptions.SO_REUSEADDR, false);
      channel.bind(new InetSocketAddress(anyIpv4, port), 1);
      return Outcome.BINDABLE;
    } catch (BindException e) {
      return Outcome.REFUSED;
    } catch (IOException e) {
      return Outcome.ERROR;
    }
  }

  @Override
  public boolean canBind(int port) {
    return probe(port) == Outcome.BINDABLE;
  }

  /**
   * Probes every port of {@code range}: the slow but exact baseline of {@link KernelPortScanner}. A
   * port counts as occupied unless its bind succeeded.
   *
   * @return the occupied ports, indexed by port number
   */
  public BitSet occupied(PortRange range) {
    BitSet occupied = new BitSet(range.last() + 1);
    for (int port = range.first(); port <= range.last(); port++) {
      if (probe(port) != Outcome.BINDABLE) {
        occupied.set(port);
      }
    }
    return occupied;
  }

  private static InetAddress anyIpv4() {
    try {
      return InetAddress.getByAddress(new byte[4]);
    } catch (UnknownHostException e) {
      throw new AssertionError("a 4-byte address is always valid", e);
    }
  }
}
