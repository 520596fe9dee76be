package io.sigma.agent.ports;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sigma.agent.AgentRuntime;
import io.sigma.agent.metrics.MetricsServer;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.http.javadsl.ServerBinding;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * POST /ports/allocate over real HTTP on loopback, with the real allocator and bind probe on a
 * block of free ports: answers, every bad input, the token, and many concurrent callers.
 */
class AllocationRoutesIT {
  private static final Duration AWAIT = Duration.ofSeconds(20);
  private static final String TOKEN = "alloc-s3cret";
  private static ActorTestKit testKit;
  private static ExecutorService blocking;

  private final ObjectMapper json = new ObjectMapper();
  private final HttpClient http = HttpClient.newBuilder().connectTimeout(AWAIT).build();
  private final List<ServerBinding> bindings = new ArrayList<>();

  @BeforeAll
  static void start() {
    testKit = ActorTestKit.create(AgentRuntime.pekkoConfig());
    blocking = Executors.newFixedThreadPool(2);
  }

  @AfterAll
  static void stop() {
    blocking.shutdownNow();
    testKit.shutdownTestKit();
  }

  @AfterEach
  void unbind() throws Exception {
    for (ServerBinding binding : bindings) {
      binding.unbind().toCompletableFuture().get(AWAIT.toSeconds(), TimeUnit.SECONDS);
    }
  }

  @Test
  void theTokenIsReadForEveryRequestSoSighupCanSetChangeAndRemoveIt() throws Exception {
    java.util.concurrent.atomic.AtomicReference<Optional<AllocationToken>> token =
        new java.util.concurrent.atomic.AtomicReference<>(Optional.empty());
    ServerBinding binding = MetricsServer.bind(testKit.system(), "127.0.0.1", 0,
            List.of(new AllocationRoutes(Optional.empty(), token::get, blocking).route()))
        .toCompletableFuture().get(AWAIT.toSeconds(), TimeUnit.SECONDS);
    bindings.add(binding);
    URI uri = URI.create("http://127.0.0.1:" + binding.localAddress().getPort() + "/ports/allocate");
    error(post(uri, "{\"count\": 1}"), 503);
    token.set(Optional.of(new AllocationToken(TOKEN)));
    error(post(uri, "{\"count\": 1}"), 401);
    error(post(uri, "{\"count\": 1}", "X-Api-Key", TOKEN), 503);
    token.set(Optional.of(new AllocationToken("rotated")));
    error(post(uri, "{\"count\": 1}", "X-Api-Key", TOKEN), 401);
    token.set(Optional.empty());
    error(post(uri, "{\"count\": 1}"), 503);
  }

  /** Serves the routes on the agent's HTTP server on 127.0.0.1:0; returns the allocate URL. */
  private URI serve(Optional<PortAllocator> allocator, Optional<AllocationToken> token)
      throws Exception {
    ServerBinding binding = MetricsServer.bind(testKit.system(), "127.0.0.1", 0,
            List.of(new AllocationRoutes(allocator, token, blocking).route()))
        .toCompletableFuture().get(AWAIT.toSeconds(), TimeUnit.SECONDS);
    bindings.add(binding);
    return URI.create("http://127.0.0.1:" + binding.localAddress().getPort() + "/ports/allocate");
  }

  private static PortAllocator allocator(PortRange range) {
    return new PortAllocator(range, new LatestPortScan(), new BindProbe(),
        Duration.ofSeconds(30), Clock.systemUTC());
  }

  private HttpResponse<String> post(URI uri, String body, String... headers) throws Exception {
    HttpRequest.Builder request = HttpRequest.newBuilder(uri).timeout(AWAIT)
        .header("Content-Type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofString(body));
    for (int i = 0; i < headers.length; i += 2) {
      request.header(headers[i], headers[i + 1]);
    }
    return http.send(request.build(), HttpResponse.BodyHandlers.ofString());
  }

  private List<Integer> ports(HttpResponse<String> response) throws Exception {
    assertEquals(200, response.statusCode(), response.body());
    assertEquals("application/json", response.headers().firstValue("Content-Type").orElseThrow());
    JsonNode body = json.readTree(response.body());
    assertEquals(1, body.size(), "only 'ports': " + body);
    List<Integer> ports = new ArrayList<>();
    body.get("ports").forEach(p -> ports.add(p.intValue()));
    return ports;
  }

  private String error(HttpResponse<String> response, int status) throws Exception {
    assertEquals(status, response.statusCode(), response.body());
    assertEquals("application/json", response.headers().firstValue("Content-Type").orElseThrow());
    JsonNode body = json.readTree(response.body());
    assertTrue(body.get("error").isTextual(), response.body());
    return body.get("error").asText();
  }

  @Test
  void grantsFreeBindablePortsOfTheRange() throws Exception {
    PortRange range = FreePorts.range(16);
    URI uri = serve(Optional.of(allocator(range)), Optional.empty());
    List<Integer> first = ports(post(uri, "{\"count\": 5}"));
    List<Integer> second = ports(post(uri, "{\"count\": 3}"));
    assertEquals(5, first.size());
    assertEquals(3, second.size());
    BindProbe probe = new BindProbe();
    for (int port : first) {
      assertTrue(range.contains(port), port + " outside " + range);
      assertTrue(probe.canBind(port), "handed out " + port + " but it does not bind");
      assertFalse(second.contains(port), "port " + port + " handed out twice");
    }
  }

  @Test
  void everyBadBodyIs400WithAJsonError() throws Exception {
    URI uri = serve(Optional.of(allocator(FreePorts.range(4))), Optional.empty());
    Map<String, String> cases = new HashMap<>();
    cases.put("not json", "not valid JSON");
    cases.put("", "must be a JSON object");
    cases.put("[5]", "must be a JSON object");
    cases.put("{\"count\": \"5\"}", "must be an integer");
    cases.put("{\"count\": 5.5}", "must be an integer");
    cases.put("{\"count\": null}", "must be an integer");
    cases.put("{\"count\": {\"n\": 5}}", "must be an integer");
    cases.put("{\"request\": {\"count\": 5}}", "missing field \"count\"");
    cases.put("{}", "missing field \"count\"");
    cases.put("{\"count\": 0}", "between 1 and 1000");
    cases.put("{\"count\": 1001}", "between 1 and 1000");
    cases.put("{\"count\": -1}", "between 1 and 1000");
    cases.put("{\"count\": 1, \"count\": 2}", "Duplicate field");
    for (Map.Entry<String, String> c : cases.entrySet()) {
      String message = error(post(uri, c.getKey()), 400);
      assertTrue(message.contains(c.getValue()), c.getKey() + " -> " + message);
    }
  }

  @Test
  void fewerFreePortsThanAskedIs409AndReservesNothing() throws Exception {
    PortRange range = FreePorts.range(8);
    URI uri = serve(Optional.of(allocator(range)), Optional.empty());
    String message = error(post(uri, "{\"count\": 9}"), 409);
    assertTrue(message.contains("only 8 free port(s) in " + range + ", 9 requested"), message);
    assertEquals(8, ports(post(uri, "{\"count\": 8}")).size());
    error(post(uri, "{\"count\": 1}"), 409);
  }

  @Test
  void scanningDisabledIs503() throws Exception {
    URI uri = serve(Optional.empty(), Optional.empty());
    assertTrue(error(post(uri, "{\"count\": 1}"), 503).contains("--port-scan"));
  }

  @Test
  void withATokenOnlyCallersCarryingItGetAnAnswer() throws Exception {
    URI uri = serve(Optional.of(allocator(FreePorts.range(8))),
        Optional.of(new AllocationToken(TOKEN)));
    HttpResponse<String> none = post(uri, "{\"count\": 1}");
    error(none, 401);
    assertEquals("Bearer realm=\"sigma-agent\"",
        none.headers().firstValue("WWW-Authenticate").orElseThrow());
    error(post(uri, "{\"count\": 1}", "X-Api-Key", "wrong"), 401);
    error(post(uri, "{\"count\": 1}", "Authorization", "Bearer wrong"), 401);
    error(post(uri, "{\"count\": 1}", "Authorization", TOKEN), 401);
    // the token is checked first: a bad body from an unknown caller is still 401
    error(post(uri, "not json"), 401);
    assertEquals(1, ports(post(uri, "{\"count\": 1}", "X-Api-Key", TOKEN)).size());
    assertEquals(1, ports(post(uri, "{\"count\": 1}", "Authorization", "Bearer " + TOKEN)).size());
    error(post(uri, "not json", "X-Api-Key", TOKEN), 400);
  }

  @Test
  void withATokenEvenTheDisabledAnswerNeedsIt() throws Exception {
    URI uri = serve(Optional.empty(), Optional.of(new AllocationToken(TOKEN)));
    error(post(uri, "{\"count\": 1}"), 401);
    error(post(uri, "{\"count\": 1}", "X-Api-Key", TOKEN), 503);
  }

  @Test
  void oversizedBodiesAndOtherMethodsAreRefused() throws Exception {
    URI uri = serve(Optional.of(allocator(FreePorts.range(4))), Optional.empty());
    // Announce a body over the limit but send none: the answer must come from the declared
    // length alone (and no unread body can turn the server's close into a reset).
    try (Socket socket = new Socket(uri.getHost(), uri.getPort())) {
      socket.setSoTimeout((int) AWAIT.toMillis());
      socket.getOutputStream().write(("POST /ports/allocate HTTP/1.1\r\nHost: localhost\r\n"
          + "Content-Type: application/json\r\nContent-Length: 5000\r\n\r\n")
          .getBytes(StandardCharsets.US_ASCII));
      String statusLine = new BufferedReader(new InputStreamReader(socket.getInputStream(),
          StandardCharsets.US_ASCII)).readLine();
      assertTrue(statusLine.startsWith("HTTP/1.1 413 "), statusLine);
    }
    HttpResponse<String> get = http.send(HttpRequest.newBuilder(uri).timeout(AWAIT).GET().build(),
        HttpResponse.BodyHandlers.ofString());
    assertEquals(405, get.statusCode());
  }

  @Test
  void manyConcurrentCallersNeverReceiveTheSamePort() throws Exception {
    PortRange range = FreePorts.range(1500);
    URI uri = serve(Optional.of(allocator(range)), Optional.empty());
    int callers = 32;
    int requestsEach = 6;
    ExecutorService pool = Executors.newFixedThreadPool(callers);
    try {
      List<CompletableFuture<List<Integer>>> results = new ArrayList<>();
      for (int c = 0; c < callers; c++) {
        results.add(CompletableFuture.supplyAsync(() -> {
          List<Integer> mine = new ArrayList<>();
          try {
            for (int i = 0; i < requestsEach; i++) {
              int count = 1 + ThreadLocalRandom.current().nextInt(7);
              List<Integer> got = ports(post(uri, "{\"count\": " + count + "}"));
              assertEquals(count, got.size());
              mine.addAll(got);
            }
          } catch (Exception e) {
            throw new IllegalStateException(e);
          }
          return mine;
        }, pool));
      }
      Map<Integer, Integer> times = new HashMap<>();
      for (CompletableFuture<List<Integer>> result : results) {
        for (int port : result.get(AWAIT.toSeconds(), TimeUnit.SECONDS)) {
          assertTrue(range.contains(port), port + " outside " + range);
          times.merge(port, 1, Integer::sum);
        }
      }
      times.forEach((port, n) -> assertEquals(1, n, "port " + port + " handed out " + n + "x"));
      assertTrue(times.size() >= callers * requestsEach, "ports handed out: " + times.size());
    } finally {
      pool.shutdownNow();
    }
  }
}
