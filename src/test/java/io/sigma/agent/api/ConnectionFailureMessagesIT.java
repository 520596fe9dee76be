package io.sigma.agent.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.io.InputStream;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Each way a connection to sigma-api fails, produced by a real socket on loopback, and the message
 * an operator reads in the log and in /ready: what happened and to which host:port, never Pekko's
 * internals ("Tcp command [Connect(127.0.0.1/<unresolved>:9,None,List(),...").
 */
class ConnectionFailureMessagesIT {
  private static final Duration TIMEOUT = Duration.ofSeconds(1);
  private static ActorTestKit testKit;

  private ServerSocket server;
  private final List<Socket> accepted = new ArrayList<>();
  private final CountDownLatch done = new CountDownLatch(1);

  @FunctionalInterface
  interface Peer {
    void serve(Socket s) throws IOException, InterruptedException;
  }

  @BeforeAll
  static void startKit() {
    testKit = ActorTestKit.create();
  }

  @AfterAll
  static void stopKit() {
    testKit.shutdownTestKit();
  }

  @AfterEach
  void stop() throws IOException {
    done.countDown();
    if (server != null) {
      server.close();
    }
    synchronized (accepted) {
      for (Socket s : accepted) {
        s.close();
      }
    }
  }

  /** A server on loopback that does {@code peer} with every connection; returns its port. */
  private int serve(Peer peer) throws IOException {
    server = new ServerSocket(0, 50, java.net.InetAddress.getLoopbackAddress());
    Thread t =
        new Thread(
            () -> {
              while (!server.isClosed()) {
                try {
                  Socket s = server.accept();
                  synchronized (accepted) {
                    accepted.add(s);
                  }
                  Thread each =
                      new Thread(
                          () -> {
                            try {
                              peer.serve(s);
                            } catch (IOException | InterruptedException ignored) {
                              // the test asserts what the client saw
                            }
                          });
                  each.setDaemon(true);
                  each.start();
                } catch (IOException closed) {
                  return;
                }
              }
            });
    t.setDaemon(true);
    t.start();
    return server.getLocalPort();
  }

  /** Reads the request head, so the client has sent it before the peer misbehaves. */
  private static void readHead(Socket s) throws IOException {
    InputStream in = s.getInputStream();
    int matched = 0;
    byte[] end = "\r\n\r\n".getBytes(StandardCharsets.US_ASCII);
    for (int b; matched < end.length && (b = in.read()) != -1; ) {
      matched = b == end[matched] ? matched + 1 : (b == end[0] ? 1 : 0);
    }
  }

  private static SigmaApiException failure(String url) {
    HttpSigmaApi api =
        new HttpSigmaApi(testKit.system(), URI.create(url), Optional.empty(), TIMEOUT);
    HeartbeatRequest beat =
        new HeartbeatRequest(
            "relay-hk-01",
            List.of(),
            new SystemInfo(2, 1987, 40, 12, 86400, List.of(0.1, 0.1, 0.1), null, null));
    try {
      Object value = api.heartbeat(beat).toCompletableFuture().get(10, TimeUnit.SECONDS);
      return fail("expected a failure, got " + value);
    } catch (ExecutionException e) {
      SigmaApiException s =
          SigmaApiException.of(e).orElseGet(() -> fail("not a SigmaApiException", e));
      for (String internal :
          List.of(
              "Tcp command", "Connect(", "List(", "Some(", "<unresolved>", "pekko", "Exception")) {
        assertFalse(s.getMessage().contains(internal), internal + " in: " + s.getMessage());
      }
      return s;
    } catch (Exception e) {
      return fail("call did not complete", e);
    }
  }

  @Test
  void aClosedPortIsAConnectionRefusedByThatAddress() throws IOException {
    int port;
    try (ServerSocket s = new ServerSocket(0)) {
      port = s.getLocalPort();
    }
    SigmaApiException e = failure("http://127.0.0.1:" + port + "/api");
    assertEquals(SigmaApiException.Kind.UNREACHABLE, e.kind());
    assertEquals("POST /agent/heartbeat: connection refused by 127.0.0.1:" + port, e.getMessage());
  }

  @Test
  void aNameThatDoesNotResolveIsNamed() {
    SigmaApiException e = failure("http://nonexistent.invalid:8080/api");
    assertEquals(SigmaApiException.Kind.UNREACHABLE, e.kind());
    assertEquals("POST /agent/heartbeat: cannot resolve host nonexistent.invalid", e.getMessage());
  }

  @Test
  void aResetIsAConnectionResetByThatAddress() throws IOException {
    int port =
        serve(
            s -> {
              readHead(s);
              s.setSoLinger(true, 0); // close with RST
              s.close();
            });
    SigmaApiException e = failure("http://127.0.0.1:" + port + "/api");
    assertEquals(SigmaApiException.Kind.UNREACHABLE, e.kind());
    assertEquals("POST /agent/heartbeat: connection reset by 127.0.0.1:" + port, e.getMessage());
  }

  @Test
  void aCloseBeforeTheAnswerEndsSaysSo() throws IOException {
    int port =
        serve(
            s -> {
              readHead(s);
              s.getOutputStream()
                  .write(
                      "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"id\":"
                          .getBytes(StandardCharsets.US_ASCII));
              s.getOutputStream().flush();
              s.close();
            });
    SigmaApiException e = failure("http://127.0.0.1:" + port + "/api");
    assertEquals(SigmaApiException.Kind.UNREACHABLE, e.kind());
    assertEquals(
        "POST /agent/heartbeat: connection closed by 127.0.0.1:"
            + port
            + " before the answer was complete",
        e.getMessage());
  }

  @Test
  void aCloseWithoutAnyAnswerSaysSo() throws IOException {
    int port =
        serve(
            s -> {
              readHead(s);
              s.close();
            });
    SigmaApiException e = failure("http://127.0.0.1:" + port + "/api");
    assertEquals(SigmaApiException.Kind.UNREACHABLE, e.kind());
    assertEquals(
        "POST /agent/heartbeat: connection closed by 127.0.0.1:"
            + port
            + " before the answer was complete",
        e.getMessage());
  }

  @Test
  void aServerThatNeverAnswersIsATimeoutNamingTheAddress() throws IOException {
    int port =
        serve(
            s -> {
              readHead(s);
              done.await();
            });
    SigmaApiException e = failure("http://127.0.0.1:" + port + "/api");
    assertEquals(SigmaApiException.Kind.TIMEOUT, e.kind());
    assertEquals(
        "POST /agent/heartbeat: no answer from 127.0.0.1:" + port + " within 1000 ms",
        e.getMessage());
  }

  @Test
  void httpsToAPlainHttpServerIsAFailedTlsHandshake() throws IOException {
    int plain =
        serve(
            s -> {
              s.getInputStream().read(new byte[512]);
              s.getOutputStream()
                  .write(
                      ("HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
                          .getBytes(StandardCharsets.US_ASCII));
              s.close();
            });
    SigmaApiException e = failure("https://127.0.0.1:" + plain + "/api");
    assertEquals(SigmaApiException.Kind.UNREACHABLE, e.kind());
    assertTrue(
        e.getMessage()
            .startsWith(
                "POST /agent/heartbeat: TLS handshake with 127.0.0.1:" + plain + " failed: "),
        e.getMessage());
  }
}
