package io.sigma.agent.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The client against a real HTTP server on loopback that answers whatever each test scripts: every
 * failure a proxy or a broken sigma-api can produce must become a SigmaApiException.
 */
class HttpSigmaApiIT {
  private static final Duration TIMEOUT = Duration.ofSeconds(3);
  private static ActorTestKit testKit;

  private HttpServer server;
  private final Map<String, Handler> handlers = new ConcurrentHashMap<>();
  private final Map<String, String> lastHeaders = new ConcurrentHashMap<>();
  private final CountDownLatch release = new CountDownLatch(1);

  @FunctionalInterface
  interface Handler {
    void handle(HttpExchange exchange) throws IOException;
  }

  @BeforeAll
  static void startKit() {
    testKit = ActorTestKit.create();
  }

  @AfterAll
  static void stopKit() {
    testKit.shutdownTestKit();
  }

  @BeforeEach
  void startServer() throws IOException {
    server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    server.setExecutor(Executors.newCachedThreadPool());
    server.createContext(
        "/",
        exchange -> {
          lastHeaders.put(
              "X-Api-Key", String.valueOf(exchange.getRequestHeaders().getFirst("X-Api-Key")));
          lastHeaders.put("path", exchange.getRequestURI().toString());
          Handler h = handlers.get(exchange.getRequestURI().getPath());
          if (h == null) {
            reply(exchange, 404, "{\"error\":\"Not found\"}", "application/json");
          } else {
            h.handle(exchange);
          }
        });
    server.start();
  }

  @AfterEach
  void stopServer() {
    release.countDown();
    server.stop(0);
  }

  private HttpSigmaApi client(Optional<ApiKey> key) {
    URI base = URI.create("http://127.0.0.1:" + server.getAddress().getPort() + "/api/");
    return new HttpSigmaApi(testKit.system(), base, key, TIMEOUT);
  }

  private static void reply(HttpExchange ex, int status, String body, String type)
      throws IOException {
    byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
    ex.getResponseHeaders().set("Content-Type", type);
    ex.sendResponseHeaders(status, bytes.length == 0 ? -1 : bytes.length);
    if (bytes.length > 0) {
      ex.getResponseBody().write(bytes);
    }
    ex.close();
  }

  private static RegisterRequest registration() {
    SystemInfo info = new SystemInfo(2, 1987, 40, 12, 86400, List.of(0.12, 0.08, 0.01), null, null);
    return new RegisterRequest(
        "relay-hk-01", null, List.of(new IpAddress("10.0.0.5", "internal")), 22, info);
  }

  private static SigmaApiException failure(java.util.concurrent.CompletionStage<?> call) {
    try {
      Object value = call.toCompletableFuture().get(10, TimeUnit.SECONDS);
      return fail("expected a failure, got " + value);
    } catch (ExecutionException e) {
      return SigmaApiException.of(e).orElseGet(() -> fail("not a SigmaApiException", e));
    } catch (Exception e) {
      return fail("call did not complete", e);
    }
  }

  @Test
  void registerSendsTheContractBodyAndKeyAndReadsTheId() throws Exception {
    String[] body = new String[1];
    handlers.put(
        "/api/agent/register",
        ex -> {
          body[0] = new String(ex.getRequestBody().readAllBytes(), StandardCharsets.UTF_8);
          reply(
              ex,
              200,
              "{\"id\":\"5b1c0d6e-2f3a-4b5c-8d9e-0f1a2b3c4d5e\",\"hostname\":\"relay-hk-01\",\"status\":\"active\","
                  + "\"provider_id\":null,\"extra\":{\"a\":1},\"new_field\":[1,2]}",
              "application/json");
        });
    VpsRecord vps =
        client(Optional.of(new ApiKey("k3y")))
            .register(registration())
            .toCompletableFuture()
            .get(5, TimeUnit.SECONDS);
    assertEquals("5b1c0d6e-2f3a-4b5c-8d9e-0f1a2b3c4d5e", vps.id());
    assertEquals("k3y", lastHeaders.get("X-Api-Key"));
    assertEquals("/api/agent/register", lastHeaders.get("path"), "no // from the trailing slash");
    assertTrue(
        body[0].contains("\"ip_addresses\":[{\"ip\":\"10.0.0.5\",\"label\":\"internal\"}]"),
        body[0]);
    assertTrue(body[0].contains("\"ssh_port\":22"), body[0]);
    assertTrue(body[0].contains("\"load_avg\":[0.12,0.08,0.01]"), body[0]);
    assertTrue(body[0].contains("\"ram_mb\":1987"), body[0]);
    assertFalse(body[0].contains("alias"), "alias omitted when not configured: " + body[0]);
    assertFalse(body[0].contains("metrics_port"), "omitted when null: " + body[0]);
    assertFalse(body[0].contains("public_ip"), "omitted when null: " + body[0]);
  }

  @Test
  void noKeyMeansNoHeader() throws Exception {
    handlers.put(
        "/api/agent/heartbeat",
        ex ->
            reply(
                ex,
                200,
                "{\"id\":\"00000000-0000-4000-8000-000000000001\",\"hostname\":\"h\",\"status\":\"active\"}",
                "application/json"));
    client(Optional.empty())
        .heartbeat(new HeartbeatRequest("h", List.of(), null))
        .toCompletableFuture()
        .get(5, TimeUnit.SECONDS);
    assertEquals("null", lastHeaders.get("X-Api-Key"));
  }

  @Test
  void notFoundHeartbeatCarriesTheStatusAndServerMessage() {
    SigmaApiException e =
        failure(client(Optional.empty()).heartbeat(new HeartbeatRequest("ghost", List.of(), null)));
    assertTrue(e.isStatus(404), e.getMessage());
    assertTrue(e.getMessage().contains("Not found"), e.getMessage());
  }

  @Test
  void unauthorizedIsAnAuthFailure() {
    handlers.put(
        "/api/agent/register",
        ex -> reply(ex, 401, "{\"error\":\"invalid api key\"}", "application/json"));
    SigmaApiException e =
        failure(client(Optional.of(new ApiKey("wrong"))).register(registration()));
    assertTrue(e.isAuthFailure());
    assertFalse(e.getMessage().contains("wrong"), "the key never appears: " + e.getMessage());
  }

  @Test
  void htmlErrorPageFromAProxyIsDescribedNotDumped() {
    handlers.put(
        "/api/agent/register",
        ex ->
            reply(
                ex,
                502,
                "<html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>",
                "text/html"));
    SigmaApiException e = failure(client(Optional.empty()).register(registration()));
    assertTrue(e.isStatus(502));
    assertTrue(e.getMessage().contains("an HTML page"), e.getMessage());
  }

  @Test
  void okWithHtmlBodyIsABadResponse() {
    handlers.put(
        "/api/agent/register",
        ex -> reply(ex, 200, "<!DOCTYPE html><html>captive portal</html>", "text/html"));
    SigmaApiException e = failure(client(Optional.empty()).register(registration()));
    assertEquals(SigmaApiException.Kind.BAD_RESPONSE, e.kind());
  }

  @Test
  void okWithoutIdIsABadResponse() {
    handlers.put(
        "/api/agent/register",
        ex -> reply(ex, 200, "{\"hostname\":\"h\",\"status\":\"active\"}", "application/json"));
    assertEquals(
        SigmaApiException.Kind.BAD_RESPONSE,
        failure(client(Optional.empty()).register(registration())).kind());
  }

  @Test
  void wrongTypesAreABadResponse() {
    handlers.put(
        "/api/envoy-nodes",
        ex ->
            reply(
                ex,
                200,
                "{\"data\":[{\"id\":\"n\",\"config_version\":\"seven\"}],\"total\":1,\"page\":1,\"per_page\":100}",
                "application/json"));
    assertEquals(
        SigmaApiException.Kind.BAD_RESPONSE,
        failure(client(Optional.empty()).envoyNodes("v", 1, 100)).kind());
  }

  @Test
  void emptyAndNullBodiesAreBadResponses() {
    handlers.put("/api/agent/register", ex -> reply(ex, 200, "", "application/json"));
    assertEquals(
        SigmaApiException.Kind.BAD_RESPONSE,
        failure(client(Optional.empty()).register(registration())).kind());
    handlers.put("/api/agent/register", ex -> reply(ex, 200, "null", "application/json"));
    assertEquals(
        SigmaApiException.Kind.BAD_RESPONSE,
        failure(client(Optional.empty()).register(registration())).kind());
  }

  @Test
  void aServerThatHangsTimesOut() {
    handlers.put(
        "/api/agent/register",
        ex -> {
          try {
            release.await(30, TimeUnit.SECONDS);
          } catch (InterruptedException ignored) {
            Thread.currentThread().interrupt();
          }
        });
    assertEquals(
        SigmaApiException.Kind.TIMEOUT,
        failure(client(Optional.empty()).register(registration())).kind());
  }

  @Test
  void aRefusedConnectionIsUnreachable() throws IOException {
    int port;
    try (ServerSocket s = new ServerSocket(0)) {
      port = s.getLocalPort();
    }
    HttpSigmaApi api =
        new HttpSigmaApi(
            testKit.system(),
            URI.create("http://127.0.0.1:" + port + "/api"),
            Optional.empty(),
            TIMEOUT);
    assertEquals(SigmaApiException.Kind.UNREACHABLE, failure(api.register(registration())).kind());
  }

  /**
   * After refused connections, Pekko's default pool back-off (doubling from 100 ms, up to 2 min,
   * for the whole pool) would hold the first request after the API's return for at least 6.4 s
   * after seven failures, past this client's timeout, and only then send it. The client caps that
   * back-off, so the request reaches the server that listens again.
   */
  @Test
  void aPortThatRefusedManyTimesIsUsedAgainAsSoonAsItListens() throws Exception {
    int port;
    try (ServerSocket s = new ServerSocket(0)) {
      port = s.getLocalPort();
    }
    HttpSigmaApi api =
        new HttpSigmaApi(
            testKit.system(),
            URI.create("http://127.0.0.1:" + port + "/api"),
            Optional.empty(),
            Duration.ofMillis(6_400));
    for (int i = 0; i < 7; i++) {
      SigmaApiException e = failure(api.heartbeat(heartbeat()));
      assertEquals(SigmaApiException.Kind.UNREACHABLE, e.kind(), e.getMessage());
    }
    HttpServer back = HttpServer.create(new InetSocketAddress("127.0.0.1", port), 0);
    back.createContext(
        "/api/agent/heartbeat",
        ex ->
            reply(
                ex,
                200,
                "{\"id\":\"a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d\",\"hostname\":\"relay-hk-01\"}",
                "application/json"));
    back.start();
    try {
      VpsRecord vps = api.heartbeat(heartbeat()).toCompletableFuture().get(10, TimeUnit.SECONDS);
      assertEquals("a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d", vps.id());
    } finally {
      back.stop(0);
    }
  }

  private static HeartbeatRequest heartbeat() {
    return new HeartbeatRequest("relay-hk-01", List.of(), registration().systemInfo());
  }

  @Test
  void aResetConnectionIsUnreachable() throws Exception {
    try (ServerSocket resetter = new ServerSocket(0)) {
      Thread t =
          new Thread(
              () -> {
                try (Socket s = resetter.accept()) {
                  s.setSoLinger(true, 0); // close with RST
                } catch (IOException ignored) {
                  // the test asserts the client side
                }
              });
      t.start();
      HttpSigmaApi api =
          new HttpSigmaApi(
              testKit.system(),
              URI.create("http://127.0.0.1:" + resetter.getLocalPort() + "/api"),
              Optional.empty(),
              TIMEOUT);
      SigmaApiException e = failure(api.register(registration()));
      assertEquals(SigmaApiException.Kind.UNREACHABLE, e.kind(), e.getMessage());
      t.join(5_000);
    }
  }

  @Test
  void paginationFollowsPagesUntilTotal() throws Exception {
    AtomicInteger calls = new AtomicInteger();
    handlers.put(
        "/api/envoy-routes",
        ex -> {
          calls.incrementAndGet();
          String q = ex.getRequestURI().getQuery();
          int page = Integer.parseInt(q.replaceAll("(?:^|.*&)page=(\\d+).*", "$1"));
          assertTrue(
              q.contains("status=active")
                  && q.contains("source=dynamic")
                  && q.contains("per_page=100"),
              q);
          StringBuilder data = new StringBuilder();
          int rows = page < 3 ? 100 : 50;
          for (int i = 0; i < rows; i++) {
            int port = 10000 + (page - 1) * 100 + i;
            data.append(i == 0 ? "" : ",")
                .append("{\"id\":\"r")
                .append(port)
                .append("\",\"name\":\"r")
                .append(port)
                .append("\",\"listen_port\":")
                .append(port)
                .append('}');
          }
          reply(
              ex,
              200,
              "{\"data\":[" + data + "],\"total\":250,\"page\":" + page + ",\"per_page\":100}",
              "application/json");
        });
    List<EnvoyRoute> routes =
        client(Optional.empty())
            .allEnvoyRoutes("node-1")
            .toCompletableFuture()
            .get(10, TimeUnit.SECONDS);
    assertEquals(250, routes.size());
    assertEquals(3, calls.get());
    assertEquals(10249, routes.get(249).listenPort());
  }

  @Test
  void aListingThatEndsShortOfItsTotalIsABadResponse() {
    handlers.put(
        "/api/envoy-nodes",
        ex -> {
          boolean first = ex.getRequestURI().getQuery().contains("page=1&");
          reply(
              ex,
              200,
              first
                  ? "{\"data\":[{\"id\":\"a\",\"node_id\":\"n\",\"config_version\":1}],\"total\":5,\"page\":1,\"per_page\":100}"
                  : "{\"data\":[],\"total\":5,\"page\":2,\"per_page\":100}",
              "application/json");
        });
    SigmaApiException e = failure(client(Optional.empty()).allEnvoyNodes("v"));
    assertEquals(SigmaApiException.Kind.BAD_RESPONSE, e.kind());
    assertTrue(
        e.getMessage().contains("Envoy nodes of VPS v: page 2 is empty after 1 of 5 rows"),
        e.getMessage());
  }

  @Test
  void aVpsIdThatIsNotACanonicalUuidIsABadResponse() {
    List<String> bad =
        List.of(
            "../../x",
            "x".repeat(10_240),
            "5b1c0d6e-2f3a-4b5c-8d9e-0f1a2b3c4d5e\nFORGED",
            "5b1c0d6e2f3a4b5c8d9e0f1a2b3c4d5e",
            "{5b1c0d6e-2f3a-4b5c-8d9e-0f1a2b3c4d5e}",
            "5b1c0d6e-2f3a-4b5c-8d9e-0f1a2b3c4d5g",
            " 5b1c0d6e-2f3a-4b5c-8d9e-0f1a2b3c4d5e");
    for (String id : bad) {
      String answer = "{\"id\":" + json(id) + ",\"hostname\":\"h\",\"status\":\"active\"}";
      handlers.put("/api/agent/register", ex -> reply(ex, 200, answer, "application/json"));
      handlers.put("/api/agent/heartbeat", ex -> reply(ex, 200, answer, "application/json"));
      for (var call :
          List.of(
              client(Optional.empty()).register(registration()),
              client(Optional.empty()).heartbeat(heartbeat()))) {
        SigmaApiException e = failure(call);
        assertEquals(SigmaApiException.Kind.BAD_RESPONSE, e.kind(), id);
        assertTrue(e.getMessage().contains("is not a UUID"), e.getMessage());
        assertFalse(e.getMessage().contains("\n"), "one line: " + e.getMessage());
        assertTrue(e.getMessage().length() < 300, "capped: " + e.getMessage().length());
      }
    }
  }

  private static String json(String s) {
    try {
      return Json.newMapper().writeValueAsString(s);
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  @Test
  void aPageWithoutDataIsABadResponse() {
    handlers.put("/api/envoy-nodes", ex -> reply(ex, 200, "{\"total\":3}", "application/json"));
    assertEquals(
        SigmaApiException.Kind.BAD_RESPONSE,
        failure(client(Optional.empty()).allEnvoyNodes("v")).kind());
  }
}
