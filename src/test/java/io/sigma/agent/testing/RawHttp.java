package io.sigma.agent.testing;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;

/** HTTP/1.1 by hand over one socket: exactly the bytes and the connection a test means. */
public final class RawHttp implements AutoCloseable {
  private final Socket socket;
  private final int readTimeoutMillis;

  private RawHttp(Socket socket, int readTimeoutMillis) {
    this.socket = socket;
    this.readTimeoutMillis = readTimeoutMillis;
  }

  /** Connects from {@code from} (any 127.0.0.0/8 address on loopback) to {@code target}. */
  public static RawHttp connect(InetAddress from, InetSocketAddress target) throws IOException {
    return connect(from, target, Duration.ofSeconds(20));
  }

  /**
   * As {@link #connect(InetAddress, InetSocketAddress)}; connecting and each read wait {@code
   * timeout}.
   */
  public static RawHttp connect(InetAddress from, InetSocketAddress target, Duration timeout)
      throws IOException {
    Socket socket = new Socket();
    socket.bind(new InetSocketAddress(from, 0));
    socket.connect(target, (int) timeout.toMillis());
    socket.setSoTimeout((int) timeout.toMillis());
    return new RawHttp(socket, (int) timeout.toMillis());
  }

  public void send(String text) throws IOException {
    socket.getOutputStream().write(text.getBytes(StandardCharsets.US_ASCII));
    socket.getOutputStream().flush();
  }

  /** Sends a GET of {@code path} on this connection and returns the response's status code. */
  public int get(String path) throws IOException {
    send("GET " + path + " HTTP/1.1\r\nHost: agent\r\n\r\n");
    return readResponse();
  }

  /** Reads one response (head and Content-Length body); returns its status code. */
  public int readResponse() throws IOException {
    InputStream in = socket.getInputStream();
    String head = readHead(in);
    int status = Integer.parseInt(head.substring(9, 12));
    long length = 0;
    for (String line : head.split("\r\n")) {
      if (line.toLowerCase().startsWith("content-length:")) {
        length = Long.parseLong(line.substring(15).trim());
      }
    }
    if (in.readNBytes((int) length).length != length) {
      throw new IOException("connection closed inside a response body");
    }
    return status;
  }

  private static String readHead(InputStream in) throws IOException {
    ByteArrayOutputStream head = new ByteArrayOutputStream();
    int b;
    while ((b = in.read()) != -1) {
      head.write(b);
      byte[] bytes = head.toByteArray();
      int n = bytes.length;
      if (n >= 4
          && bytes[n - 4] == '\r'
          && bytes[n - 3] == '\n'
          && bytes[n - 2] == '\r'
          && bytes[n - 1] == '\n') {
        return head.toString(StandardCharsets.US_ASCII);
      }
    }
    throw new IOException(
        "connection closed before a response head ("
            + head.toString(StandardCharsets.US_ASCII)
            + ")");
  }

  /**
   * Whether the server has closed this connection, waiting at most {@code wait} for it: true on end
   * of stream or reset, false if the connection is still open when {@code wait} is up. Bytes the
   * server sends meanwhile (e.g. an error response) are skipped.
   */
  public boolean closedWithin(Duration wait) throws IOException {
    long deadline = System.nanoTime() + wait.toNanos();
    try {
      while (true) {
        long left = deadline - System.nanoTime();
        if (left <= 0) {
          return false;
        }
        socket.setSoTimeout((int) Math.max(1, left / 1_000_000));
        if (socket.getInputStream().read() == -1) {
          return true;
        }
      }
    } catch (SocketTimeoutException stillOpen) {
      return false;
    } catch (SocketException reset) {
      return true;
    } finally {
      socket.setSoTimeout(readTimeoutMillis);
    }
  }

  @Override
  public void close() throws IOException {
    socket.close();
  }
}
