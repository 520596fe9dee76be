package io.sigma.agent.testing;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * A slowloris attacker: many connections from one local address (any of 127.0.0.0/8 on loopback)
 * that each send the start of an HTTP request and then one more header byte every {@code every},
 * never finishing the head. Writes to connections the server closed are dropped.
 */
public final class Slowloris implements AutoCloseable {
  /** A request head that is never finished: a header value growing by one byte per tick. */
  public static final byte[] HEAD_START =
      ("GET /metrics HTTP/1.1\r\nHost: agent\r\n" + "User-Agent: slowloris\r\nX-Slow: ")
          .getBytes(StandardCharsets.US_ASCII);

  private final List<Socket> sockets = new ArrayList<>();
  private final ScheduledExecutorService trickler =
      Executors.newSingleThreadScheduledExecutor(r -> new Thread(r, "slowloris"));

  private Slowloris() {}

  /** Opens {@code connections} connections from {@code from} to {@code target}, then trickles. */
  public static Slowloris attack(
      InetAddress from, InetSocketAddress target, int connections, Duration every)
      throws IOException {
    Slowloris attack = new Slowloris();
    try {
      for (int i = 0; i < connections; i++) {
        Socket socket = new Socket();
        attack.sockets.add(socket);
        socket.bind(new InetSocketAddress(from, 0));
        socket.connect(target, 10_000);
        socket.getOutputStream().write(HEAD_START);
      }
    } catch (IOException e) {
      attack.close();
      throw e;
    }
    attack.trickler.scheduleWithFixedDelay(
        attack::trickle, every.toMillis(), every.toMillis(), TimeUnit.MILLISECONDS);
    return attack;
  }

  private void trickle() {
    for (Socket socket : sockets) {
      if (socket.isOutputShutdown()) {
        continue;
      }
      try {
        OutputStream out = socket.getOutputStream();
        out.write('a');
      } catch (IOException e) {
        try {
          socket.shutdownOutput();
        } catch (IOException ignored) {
          // the server has gone: nothing left to trickle to
        }
      }
    }
  }

  @Override
  public void close() {
    trickler.shutdownNow();
    for (Socket socket : sockets) {
      try {
        socket.close();
      } catch (IOException ignored) {
        // closing anyway
      }
    }
  }
}
