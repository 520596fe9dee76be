package io.sigma.agent.host;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.Level;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * PublicIpLookup against real HTTP services on 127.0.0.1 (com.sun.net.httpserver), through the real
 * Pekko HTTP client: garbage, HTML, a hang past the deadline, private and error answers, an
 * oversized body, a closed port, and a good answer.
 */
class PublicIpLookupIT {
  private static final Duration SHORT = Duration.ofMillis(1500);

  /** Awaiting a result; far longer than any deadline used here. */
  private static final long AWAIT_SECONDS = 30;

  private static ActorTestKit testKit;
  private static HttpServer server;
  private static ExecutorService serverThreads;
  private static final CountDownLatch releaseHangs = new CountDownLatch(1);
  private static final Map<String, AtomicInteger> hits = new ConcurrentHashMap<>();

  @BeforeAll
  static void start() throws IOException {
    testKit = ActorTestKit.create("PublicIpLookupIT");
    server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    serverThreads = Executors.newCachedThreadPool();
    server.setExecutor(serverThreads);
    answer("/garbage", 200, "text/plain", "\u0000\u0001%%garbage%%");
    answer(
        "/html",
        200,
        "text/html",
        "<!DOCTYPE html><html><body><h1>Your IP</h1>203.0.113.7</body></html>");
    answer("/ip", 200, "text/plain", "203.0.113.7\n");
    answer("/second-ip", 200, "text/plain", "198.51.100.4\n");
    answer("/private", 200, "text/plain", "10.1.2.3\n");
    answer("/error", 503, "text/plain", "203.0.113.9");
    answer("/ipv6", 200, "text/plain", "2001:db8::1\n");
    answer("/big", 200, "text/plain", "203.0.113.8" + " ".repeat(10_000));
    server.createContext(
        "/big-chunked",
        exchange -> {
          count(exchange);
          exchange.sendResponseHeaders(200, 0); // chunked: no length known up front
          try (OutputStream out = exchange.getResponseBody()) {
            out.write(("198.51.100.9" + " ".repeat(10_000)).getBytes(StandardCharsets.US_ASCII));
          } catch (IOException e) {
            // the client hangs up once it has seen too much: expected
          }
        });
    server.createContext(
        "/hang",
        exchange -> {
          count(exchange);
          try {
            releaseHangs.await(); // never answers while the tests run
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
          }
          exchange.close();
        });
    server.start();
  }

  @AfterAll
  static void stop() {
    releaseHangs.countDown();
    server.stop(0);
    serverThreads.shutdownNow();
    testKit.shutdownTestKit();
  }

  private static void answer(String path, int status, String contentType, String body) {
    server.createContext(
        path,
        exchange -> {
          count(exchange);
          byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
          exchange.getResponseHeaders().set("Content-Type", contentType);
          exchange.sendResponseHeaders(status, bytes.length);
          try (OutputStream out = exchange.getResponseBody()) {
            out.write(bytes);
          }
        });
  }

  private static void count(HttpExchange exchange) {
    hits.computeIfAbsent(exchange.getRequestURI().getPath(), p -> new AtomicInteger())
        .incrementAndGet();
  }

  private static int hitsOf(String path) {
    return hits.getOrDefault(path, new AtomicInteger()).get();
  }

  private static URI service(String path) {
    return URI.create("http://127.0.0.1:" + server.getAddress().getPort() + path);
  }

  private static Optional<String> lookUp(List<URI> services, Duration timeout) throws Exception {
    return new PublicIpLookup(testKit.system(), services, timeout)
        .lookup()
        .toCompletableFuture()
        .get(AWAIT_SECONDS, TimeUnit.SECONDS);
  }

  @Test
  void garbageHtmlAndAHangAreSkippedAndTheFirstPublicAnswerWins() throws Exception {
    int hangsBefore = hitsOf("/hang");
    Optional<String> ip =
        lookUp(
            List.of(
                service("/garbage"),
                service("/html"),
                service("/hang"),
                service("/ip"),
                service("/second-ip")),
            SHORT);
    assertEquals(Optional.of("203.0.113.7"), ip);
    assertEquals(hangsBefore + 1, hitsOf("/hang"), "the hanging service was asked");
    assertEquals(0, hitsOf("/second-ip"), "no service is asked after a good answer");
  }

  @Test
  void whenEveryServiceFailsTheResultIsEmptyWithOneInfoLineAndNoWarning() throws Exception {
    try (LogCapture logs = new LogCapture(PublicIpLookup.class)) {
      List<URI> services =
          List.of(
              service("/garbage"),
              service("/html"),
              service("/private"),
              service("/error"),
              service("/ipv6"),
              service("/big"),
              service("/big-chunked"),
              service("/hang"));
      assertEquals(Optional.empty(), lookUp(services, SHORT));
      List<String> info = logs.messages(Level.INFO);
      assertEquals(1, info.size(), info.toString());
      for (URI service : services) {
        assertTrue(info.get(0).contains(service.toString()), info.get(0));
      }
      assertTrue(info.get(0).contains("HTTP status 503"), info.get(0));
      assertTrue(info.get(0).contains("no answer within 1500 ms"), info.get(0));
      assertEquals(List.of(), logs.messages(Level.WARN));
      assertEquals(List.of(), logs.messages(Level.ERROR));
    }
  }

  /**
   * A closed port is refused at once: the look-up moves on without waiting for its (here very long)
   * deadline, which the await bound would otherwise exceed.
   */
  @Test
  void anUnreachableServiceFailsFast() throws Exception {
    int closedPort;
    try (ServerSocket socket = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      closedPort = socket.getLocalPort();
    }
    URI unreachable = URI.create("http://127.0.0.1:" + closedPort + "/");
    Duration longDeadline = Duration.ofSeconds(AWAIT_SECONDS * 4);
    assertEquals(
        Optional.of("203.0.113.7"), lookUp(List.of(unreachable, service("/ip")), longDeadline));
    try (LogCapture logs = new LogCapture(PublicIpLookup.class)) {
      assertEquals(Optional.empty(), lookUp(List.of(unreachable), longDeadline));
      List<String> info = logs.messages(Level.INFO);
      assertEquals(1, info.size(), info.toString());
      assertTrue(
          info.get(0).contains(unreachable + ": java.net.ConnectException: Connection refused"),
          info.get(0));
    }
  }

  @Test
  void noServicesGivesEmpty() throws Exception {
    assertEquals(Optional.empty(), lookUp(List.of(), SHORT));
  }

  @Test
  void badSettingsAreRejected() {
    assertThrows(
        IllegalArgumentException.class,
        () ->
            new PublicIpLookup(
                testKit.system(), List.of(URI.create("ftp://example.com/ip")), SHORT));
    assertThrows(
        IllegalArgumentException.class,
        () -> new PublicIpLookup(testKit.system(), List.of(URI.create("/relative")), SHORT));
    assertThrows(
        IllegalArgumentException.class,
        () -> new PublicIpLookup(testKit.system(), List.of(service("/ip")), Duration.ZERO));
  }

  @Test
  void theDefaultsAreTheThreeHttpsServicesWithFiveSeconds() {
    assertEquals(
        List.of("api.ipify.org", "ifconfig.me", "icanhazip.com"),
        PublicIpLookup.DEFAULT_SERVICES.stream().map(URI::getHost).toList());
    assertTrue(
        PublicIpLookup.DEFAULT_SERVICES.stream().allMatch(u -> u.getScheme().equals("https")));
    assertEquals(Duration.ofSeconds(5), PublicIpLookup.DEFAULT_TIMEOUT);
  }
}
