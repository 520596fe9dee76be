package io.sigma.agent.ports;

import io.sigma.agent.config.PortRange;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.util.concurrent.ThreadLocalRandom;

/** Free ports for tests. */
public final class FreePorts {
  private static final BindProbe PROBE = new BindProbe();

  private FreePorts() {}

  /**
   * A random block of {@code size} ports in 20000..31999 (below the usual ephemeral range, so other
   * processes' outbound connections do not wander in) that binds completely now.
   */
  public static PortRange range(int size) {
    for (int attempt = 0; attempt < 50; attempt++) {
      int first = ThreadLocalRandom.current().nextInt(20000, 32000 - size);
      PortRange range = new PortRange(first, first + size - 1);
      if (PROBE.occupied(range).isEmpty()) {
        return range;
      }
    }
    throw new IllegalStateException("no free block of " + size + " ports in 20000..31999");
  }

  /**
   * A port the kernel just handed out for 127.0.0.1:0, released again: for servers whose port must
   * be known before they bind (the agent registers its metrics port with sigma-api before its
   * server is up, so its config cannot say 0).
   */
  public static int ephemeral() {
    try (ServerSocketChannel channel = ServerSocketChannel.open()) {
      channel.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
      return ((InetSocketAddress) channel.getLocalAddress()).getPort();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
