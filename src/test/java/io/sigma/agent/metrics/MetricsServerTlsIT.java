package io.sigma.agent.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import at.favre.lib.crypto.bcrypt.BCrypt;
import io.sigma.agent.AgentRuntime;
import io.sigma.agent.net.HttpGuard;
import io.sigma.agent.ports.AllocationCallers;
import io.sigma.agent.ports.AllocationRoutes;
import io.sigma.agent.ports.Allocators;
import io.sigma.agent.ports.CallerRateLimiter;
import io.sigma.agent.ports.FreePorts;
import io.sigma.agent.web.WebConfig;
import io.sigma.agent.web.WebFixtures;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLSocket;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.http.javadsl.ServerBinding;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The metrics server with a web config (TLS with the TEST-ONLY fixtures under
 * src/test/resources/web, basic auth) on a real 127.0.0.1 port, called by the JDK's HttpClient
 * trusting the test CA, and by raw sockets.
 */
class MetricsServerTlsIT {
  private static final Duration AWAIT = Duration.ofSeconds(15);

  /** A short head deadline, so a test sees it pass in about a second. */
  private static final HttpGuard SHORT =
      new HttpGuard(Duration.ofSeconds(1), Duration.ofSeconds(1), 256, 16);

  private static final String PASSWORD = "scrape-me";

  @TempDir static Path dir;
  private static ActorTestKit testKit;
  private static ServerBinding binding;
  private static int port;
  private static HttpClient https;

  @BeforeAll
  static void start() throws Exception {
    testKit = ActorTestKit.create(AgentRuntime.pekkoConfig());
    String hash = BCrypt.with(BCrypt.Version.VERSION_2Y).hashToString(4, PASSWORD.toCharArray());
    WebConfig web =
        WebConfig.read(
            WebFixtures.webConfig(
                dir,
                """
        tls_server_config:
          cert_file: server.crt
          key_file: server.key
        basic_auth_users:
          prometheus: %s
        """
                    .formatted(hash)));
    AllocationRoutes.Allocator allocator = Allocators.real(testKit, FreePorts.range(64));
    binding =
        MetricsServer.bind(
                testKit.system(),
                "127.0.0.1",
                0,
                List.of(
                    new MetricsRoutes(new AgentMetrics("tls-it", false, false).registry()).route(),
                    new AllocationRoutes(
                            Optional.of(allocator),
                            Optional::empty,
                            new AllocationCallers(List.of(), Optional.empty()),
                            CallerRateLimiter.standard(),
                            testKit.system().scheduler())
                        .route()),
                SHORT,
                Optional.of(web))
            .toCompletableFuture()
            .get(AWAIT.toSeconds(), TimeUnit.SECONDS);
    port = binding.localAddress().getPort();
    https =
        HttpClient.newBuilder()
            .version(HttpClient.Version.HTTP_1_1)
            .sslContext(WebFixtures.clientTrustingTestCa())
            .connectTimeout(AWAIT)
            .build();
  }

  @AfterAll
  static void stop() throws Exception {
    binding.unbind().toCompletableFuture().get(AWAIT.toSeconds(), TimeUnit.SECONDS);
    testKit.shutdownTestKit();
  }

  private static HttpResponse<String> get(String path, Optional<String> userAndPassword)
      throws Exception {
    HttpRequest.Builder request =
        HttpRequest.newBuilder(URI.create("https://127.0.0.1:" + port + path)).timeout(AWAIT).GET();
    userAndPassword.ifPresent(
        credentials ->
            request.header(
                "Authorization",
                "Basic "
                    + Base64.getEncoder()
                        .encodeToString(credentials.getBytes(StandardCharsets.UTF_8))));
    return https.send(request.build(), HttpResponse.BodyHandlers.ofString());
  }

  @Test
  void scrapeOverTlsWithTheRightPassword() throws Exception {
    HttpResponse<String> scrape = get("/metrics", Optional.of("prometheus:" + PASSWORD));
    assertEquals(200, scrape.statusCode());
    assertTrue(scrape.headers().firstValue("Content-Type").orElseThrow().startsWith("text/plain"));
  }

  @Test
  void missingOrWrongCredentialsGet401WithABasicChallengeOnEveryRoute() throws Exception {
    for (Optional<String> credentials :
        List.of(
            Optional.<String>empty(),
            Optional.of("prometheus:" + PASSWORD + "x"),
            Optional.of("grafana:" + PASSWORD))) {
      HttpResponse<String> scrape = get("/metrics", credentials);
      assertEquals(401, scrape.statusCode(), credentials.toString());
      assertEquals(
          "Basic realm=\"sigma-agent\",charset=UTF-8",
          scrape.headers().firstValue("WWW-Authenticate").orElseThrow());
    }
    HttpResponse<String> allocate =
        https.send(
            HttpRequest.newBuilder(URI.create("https://127.0.0.1:" + port + "/ports/allocate"))
                .timeout(AWAIT)
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString("{\"count\": 1}"))
                .build(),
            HttpResponse.BodyHandlers.ofString());
    assertEquals(401, allocate.statusCode());
  }

  @Test
  void plainHttpToTheTlsPortGetsNoHttpResponse() throws Exception {
    HttpClient plain =
        HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(AWAIT).build();
    assertThrows(
        IOException.class,
        () ->
            plain.send(
                HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/metrics"))
                    .timeout(AWAIT)
                    .GET()
                    .build(),
                HttpResponse.BodyHandlers.ofString()));
  }

  @Test
  void aClientThatNeverCompletesItsHandshakeIsClosedByTheHeadDeadline() throws Exception {
    try (Socket socket = new Socket("127.0.0.1", port)) {
      socket.setSoTimeout((int) AWAIT.toMillis());
      OutputStream out = socket.getOutputStream();
      // The first bytes of a TLS 1.2 ClientHello record, then nothing.
      out.write(new byte[] {0x16, 0x03, 0x01, 0x02, 0x00, 0x01});
      out.flush();
      assertClosedByServer(socket.getInputStream());
    }
  }

  @Test
  void aClientThatHandshakesButSendsNoRequestIsClosedByTheHeadDeadline() throws Exception {
    try (SSLSocket socket =
        (SSLSocket)
            WebFixtures.clientTrustingTestCa().getSocketFactory().createSocket("127.0.0.1", port)) {
      socket.setSoTimeout((int) AWAIT.toMillis());
      socket.startHandshake();
      assertClosedByServer(socket.getInputStream());
    }
  }

  /** The server closes within AWAIT (the deadline is 1 s): end of stream or a reset. */
  private static void assertClosedByServer(InputStream in) throws IOException {
    try {
      while (in.read() != -1) {
        // the server may answer with a TLS alert before closing
      }
    } catch (SocketTimeoutException e) {
      throw new AssertionError("the server kept the connection open for " + AWAIT, e);
    } catch (IOException e) {
      // reset or TLS close: closed
    }
  }
}
