package io.sigma.agent.ports;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sigma.agent.AgentRuntime;
import io.sigma.agent.config.AllocationToken;
import io.sigma.agent.config.PortRange;
import io.sigma.agent.host.Cidr;
import io.sigma.agent.metrics.MetricsServer;
import io.sigma.agent.net.HttpGuard;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.http.javadsl.ServerBinding;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * POST /ports/allocate over real HTTP on loopback, with the real allocator and bind probe on a
 * block of free ports: answers, every bad input, the token, many concurrent callers, and who may
 * call at all. Other 127.0.0.0/8 addresses play the other hosts: 127.0.0.2 (and .4, .5) a stranger
 * or a host of an allowed range, 127.0.0.3 sigma-api (a client socket bound to them).
 */
class AllocationRoutesTest {
  private static final Duration AWAIT = Duration.ofSeconds(20);
  private static final String TOKEN = "alloc-s3cret";
  private static ActorTestKit testKit;

  private final ObjectMapper json = new ObjectMapper();
  private final HttpClient http = HttpClient.newBuilder().connectTimeout(AWAIT).build();
  private final List<ServerBinding> bindings = new ArrayList<>();

  @BeforeAll
  static void start() {
    testKit = ActorTestKit.create(AgentRuntime.pekkoConfig());
  }

  @AfterAll
  static void stop() {
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
    ServerBinding binding =
        MetricsServer.bind(
                testKit.system(),
                "127.0.0.1",
                0,
                List.of(
                    new AllocationRoutes(
                            Optional.empty(),
                            token::get,
                            new AllocationCallers(List.of(), Optional.empty()),
                            CallerRateLimiter.standard(),
                            testKit.system().scheduler())
                        .route()),
                HttpGuard.METRICS,
                Optional.empty())
            .toCompletableFuture()
            .get(AWAIT.toSeconds(), TimeUnit.SECONDS);
    bindings.add(binding);
    URI uri =
        URI.create("http://127.0.0.1:" + binding.localAddress().getPort() + "/ports/allocate");
    error(post(uri, "{\"count\": 1}"), 503);
    token.set(Optional.of(new AllocationToken(TOKEN)));
    error(post(uri, "{\"count\": 1}"), 401);
    error(post(uri, "{\"count\": 1}", "X-Api-Key", TOKEN), 503);
    token.set(Optional.of(new AllocationToken("rotated")));
    error(post(uri, "{\"count\": 1}", "X-Api-Key", TOKEN), 401);
    token.set(Optional.empty());
    error(post(uri, "{\"count\": 1}"), 503);
  }

  /**
   * Serves the routes, open to loopback only, on the agent's HTTP server on 127.0.0.1:0; returns
   * the allocate URL.
   */
  private URI serve(Optional<AllocationRoutes.Allocator> allocator, Optional<AllocationToken> token)
      throws Exception {
    return serve(
        "127.0.0.1",
        allocator,
        token,
        new AllocationCallers(List.of(), Optional.empty()),
        CallerRateLimiter.standard());
  }

  private URI serve(
      String bind,
      Optional<AllocationRoutes.Allocator> allocator,
      Optional<AllocationToken> token,
      AllocationCallers callers,
      CallerRateLimiter limiter)
      throws Exception {
    ServerBinding binding =
        MetricsServer.bind(
                testKit.system(),
                bind,
                0,
                List.of(
                    new AllocationRoutes(
                            allocator, () -> token, callers, limiter, testKit.system().scheduler())
                        .route()),
                HttpGuard.METRICS,
                Optional.empty())
            .toCompletableFuture()
            .get(AWAIT.toSeconds(), TimeUnit.SECONDS);
    bindings.add(binding);
    return URI.create("http://127.0.0.1:" + binding.localAddress().getPort() + "/ports/allocate");
  }

  /** sigma-api's --api-url host as the agent sees it: 127.0.0.3. */
  private static ApiHostAddresses sigmaApiAt127003() {
    return ApiHostAddresses.of("127.0.0.3", Runnable::run);
  }

  /** An HTTP answer read off a raw socket. */
  private record Answer(int status, Map<String, String> headers, String body) {}

  /**
   * POSTs {@code body} from a socket bound to {@code from} (the JDK's HttpClient cannot pick its
   * source address before Java 19), one request per connection.
   */
  private static Answer postFrom(String from, URI uri, String body, String... headers)
      throws Exception {
    try (Socket socket = new Socket()) {
      socket.bind(new InetSocketAddress(from, 0));
      socket.connect(new InetSocketAddress(uri.getHost(), uri.getPort()), (int) AWAIT.toMillis());
      socket.setSoTimeout((int) AWAIT.toMillis());
      byte[] content = body.getBytes(StandardCharsets.UTF_8);
      StringBuilder request =
          new StringBuilder(
              "POST "
                  + uri.getPath()
                  + " HTTP/1.1\r\n"
                  + "Host: "
                  + uri.getHost()
                  + "\r\nContent-Type: application/json\r\n"
                  + "Content-Length: "
                  + content.length
                  + "\r\nConnection: close\r\n");
      for (int i = 0; i < headers.length; i += 2) {
        request.append(headers[i]).append(": ").append(headers[i + 1]).append("\r\n");
      }
      socket
          .getOutputStream()
          .write(request.append("\r\n").toString().getBytes(StandardCharsets.US_ASCII));
      socket.getOutputStream().write(content);
      String raw = new String(socket.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      int end = raw.indexOf("\r\n\r\n");
      String[] head = raw.substring(0, end).split("\r\n");
      Map<String, String> fields = new HashMap<>();
      for (int i = 1; i < head.length; i++) {
        int colon = head[i].indexOf(':');
        fields.put(
            head[i].substring(0, colon).toLowerCase(Locale.ROOT),
            head[i].substring(colon + 1).trim());
      }
      return new Answer(Integer.parseInt(head[0].split(" ")[1]), fields, raw.substring(end + 4));
    }
  }

  private List<Integer> ports(Answer answer) throws Exception {
    assertEquals(200, answer.status(), answer.body());
    List<Integer> ports = new ArrayList<>();
    json.readTree(answer.body()).get("ports").forEach(p -> ports.add(p.intValue()));
    return ports;
  }

  private String error(Answer answer, int status) throws Exception {
    assertEquals(status, answer.status(), answer.body());
    assertEquals("application/json", answer.headers().get("content-type"));
    return json.readTree(answer.body()).get("error").asText();
  }

  private static AllocationRoutes.Allocator allocator(PortRange range) {
    return Allocators.real(testKit, range);
  }

  private HttpResponse<String> post(URI uri, String body, String... headers) throws Exception {
    HttpRequest.Builder request =
        HttpRequest.newBuilder(uri)
            .timeout(AWAIT)
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
    URI uri =
        serve(Optional.of(allocator(FreePorts.range(8))), Optional.of(new AllocationToken(TOKEN)));
    HttpResponse<String> none = post(uri, "{\"count\": 1}");
    error(none, 401);
    assertEquals(
        "Bearer realm=\"sigma-agent\"",
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
      socket
          .getOutputStream()
          .write(
              ("POST /ports/allocate HTTP/1.1\r\nHost: localhost\r\n"
                      + "Content-Type: application/json\r\nContent-Length: 5000\r\n\r\n")
                  .getBytes(StandardCharsets.US_ASCII));
      String statusLine =
          new BufferedReader(
                  new InputStreamReader(socket.getInputStream(), StandardCharsets.US_ASCII))
              .readLine();
      assertTrue(statusLine.startsWith("HTTP/1.1 413 "), statusLine);
    }
    HttpResponse<String> get =
        http.send(
            HttpRequest.newBuilder(uri).timeout(AWAIT).GET().build(),
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
        results.add(
            CompletableFuture.supplyAsync(
                () -> {
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
                },
                pool));
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

  // ---- who may call ----

  @Test
  void aStrangerGets403ThatTellsTheOperatorWhatToSetAndReservesNothing() throws Exception {
    PortRange range = FreePorts.range(8);
    URI uri =
        serve(
            "127.0.0.1",
            Optional.of(allocator(range)),
            Optional.empty(),
            new AllocationCallers(List.of(), Optional.of(sigmaApiAt127003())),
            CallerRateLimiter.standard());
    for (int i = 0; i < 20; i++) {
      String message = error(postFrom("127.0.0.2", uri, "{\"count\": 1}"), 403);
      assertTrue(
          message.contains("127.0.0.2")
              && message.contains("--allocate-allow-from")
              && message.contains("AGENT_ALLOCATE_ALLOW_FROM"),
          message);
    }
    // a forwarded-for header naming loopback or sigma-api changes nothing: the TCP peer counts
    error(postFrom("127.0.0.2", uri, "{\"count\": 1}", "X-Forwarded-For", "127.0.0.1"), 403);
    error(
        postFrom(
            "127.0.0.2",
            uri,
            "{\"count\": 1}",
            "X-Real-Ip",
            "127.0.0.3",
            "Forwarded",
            "for=127.0.0.3"),
        403);
    // and it learns nothing else: not the token's existence, not a bad body
    error(postFrom("127.0.0.2", uri, "not json"), 403);
    assertEquals(
        range.size(),
        ports(postFrom("127.0.0.1", uri, "{\"count\": " + range.size() + "}")).size(),
        "the stranger reserved nothing");
  }

  @Test
  void aStrangerGets403EvenBeforeTheTokenCheck() throws Exception {
    URI uri =
        serve(
            "127.0.0.1",
            Optional.of(allocator(FreePorts.range(4))),
            Optional.of(new AllocationToken(TOKEN)),
            new AllocationCallers(List.of(), Optional.empty()),
            CallerRateLimiter.standard());
    error(postFrom("127.0.0.2", uri, "{\"count\": 1}", "X-Api-Key", TOKEN), 403);
    error(postFrom("127.0.0.1", uri, "{\"count\": 1}"), 401);
    assertEquals(1, ports(postFrom("127.0.0.1", uri, "{\"count\": 1}", "X-Api-Key", TOKEN)).size());
  }

  @Test
  void sigmaApiFromTheApiUrlHostGets200() throws Exception {
    URI uri =
        serve(
            "127.0.0.1",
            Optional.of(allocator(FreePorts.range(8))),
            Optional.empty(),
            new AllocationCallers(List.of(), Optional.of(sigmaApiAt127003())),
            CallerRateLimiter.standard());
    assertEquals(3, ports(postFrom("127.0.0.3", uri, "{\"count\": 3}")).size());
  }

  @Test
  void aRangeOfAllocateAllowFromLetsItsHostsIn() throws Exception {
    URI uri =
        serve(
            "127.0.0.1",
            Optional.of(allocator(FreePorts.range(8))),
            Optional.empty(),
            new AllocationCallers(List.of(Cidr.parse("127.0.0.4/31")), Optional.empty()),
            CallerRateLimiter.standard());
    assertEquals(1, ports(postFrom("127.0.0.4", uri, "{\"count\": 1}")).size());
    assertEquals(1, ports(postFrom("127.0.0.5", uri, "{\"count\": 1}")).size());
    error(postFrom("127.0.0.2", uri, "{\"count\": 1}"), 403);
    error(postFrom("127.0.0.6", uri, "{\"count\": 1}"), 403);
  }

  @Test
  void onADualStackSocketIpv4PeersMatchIpv4RangesAndIpv6LoopbackIsLoopback() throws Exception {
    URI uri =
        serve(
            "::",
            Optional.of(allocator(FreePorts.range(8))),
            Optional.empty(),
            new AllocationCallers(List.of(Cidr.parse("127.0.0.4/32")), Optional.empty()),
            CallerRateLimiter.standard());
    assertEquals(1, ports(postFrom("127.0.0.4", uri, "{\"count\": 1}")).size());
    error(postFrom("127.0.0.2", uri, "{\"count\": 1}"), 403);
    URI v6 = URI.create("http://[::1]:" + uri.getPort() + uri.getPath());
    assertEquals(1, ports(postFrom("::1", v6, "{\"count\": 1}")).size());
  }

  @Test
  void anAllowedRangeIsRateLimitedWith429AndRetryAfterAndRecovers() throws Exception {
    AtomicLong nanos = new AtomicLong();
    CallerRateLimiter limiter = new CallerRateLimiter(3, Duration.ofSeconds(1), 16, nanos::get);
    URI uri =
        serve(
            "127.0.0.1",
            Optional.of(allocator(FreePorts.range(64))),
            Optional.empty(),
            new AllocationCallers(
                List.of(Cidr.parse("127.0.0.0/8")), Optional.of(sigmaApiAt127003())),
            limiter);
    for (int i = 0; i < 3; i++) {
      ports(postFrom("127.0.0.2", uri, "{\"count\": 1}"));
    }
    Answer limited = postFrom("127.0.0.2", uri, "{\"count\": 1}");
    assertTrue(error(limited, 429).contains("retry in 1 s"), limited.body());
    assertEquals("1", limited.headers().get("retry-after"));
    assertEquals(1, ports(postFrom("127.0.0.4", uri, "{\"count\": 1}")).size(), "its own bucket");
    // sigma-api and loopback are never limited, even inside an allowed range
    for (int i = 0; i < 6; i++) {
      ports(postFrom("127.0.0.3", uri, "{\"count\": 1}"));
      ports(postFrom("127.0.0.1", uri, "{\"count\": 1}"));
    }
    nanos.addAndGet(
        Duration.ofSeconds(Long.parseLong(limited.headers().get("retry-after"))).toNanos());
    assertEquals(1, ports(postFrom("127.0.0.2", uri, "{\"count\": 1}")).size(), "recovered");
    error(postFrom("127.0.0.2", uri, "{\"count\": 1}"), 429);
  }

  /** An allocator actor that answers every request with {@code answer} (empty: never answers). */
  private static AllocationRoutes.Allocator scripted(Optional<PortAllocator.Allocation> answer) {
    return new AllocationRoutes.Allocator(
        testKit.spawn(
            org.apache.pekko.actor.typed.javadsl.Behaviors.receiveMessage(
                (PortAllocator.Command command) -> {
                  PortAllocator.Allocate allocate = (PortAllocator.Allocate) command;
                  answer.ifPresent(a -> allocate.replyTo().tell(a));
                  return org.apache.pekko.actor.typed.javadsl.Behaviors.same();
                })),
        new PortRange(20000, 20009));
  }

  @Test
  void aBusyAllocatorIs503WithRetryAfter() throws Exception {
    URI uri =
        serve(
            Optional.of(scripted(Optional.of(new PortAllocator.Allocation.Busy()))),
            Optional.empty());
    HttpResponse<String> response = post(uri, "{\"count\": 1}");
    assertEquals("too many allocation requests wait; retry in 1 s", error(response, 503));
    assertEquals("1", response.headers().firstValue("Retry-After").orElseThrow());
  }

  @Test
  void failedBindTestsAre500WithTheReason() throws Exception {
    URI uri =
        serve(
            Optional.of(
                scripted(
                    Optional.of(new PortAllocator.Allocation.Failed("java.io.IOException: x")))),
            Optional.empty());
    assertEquals(
        "allocation failed: java.io.IOException: x", error(post(uri, "{\"count\": 1}"), 500));
  }

  @Test
  void anAllocatorThatNeverAnswersIs503AfterTheAskTimeout() throws Exception {
    URI uri = serve(Optional.of(scripted(Optional.empty())), Optional.empty());
    long started = System.nanoTime();
    HttpResponse<String> response = post(uri, "{\"count\": 1}");
    assertEquals("the port allocator did not answer in time; retry in 1 s", error(response, 503));
    assertEquals("1", response.headers().firstValue("Retry-After").orElseThrow());
    assertTrue(
        System.nanoTime() - started >= AllocationRoutes.ASK_TIMEOUT.toNanos(),
        "answered only after the ask timed out");
  }
}
