package io.sigma.agent.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.IntFunction;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * A lying sigma-api over real HTTP: every lie ends the routes listing with a BAD_RESPONSE after a
 * bounded number of pages and bytes, counted on the server side.
 */
class HostileListingIT {
  private static final String NODE = "6f1c0d6e-2f3a-4b5c-8d9e-0f1a2b3c4d5e";
  private static ActorTestKit testKit;

  private HttpServer server;
  private final AtomicInteger requests = new AtomicInteger();
  private final AtomicLong bytesWritten = new AtomicLong();
  private volatile IntFunction<String> pages;

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
        "/api/envoy-routes",
        ex -> {
          requests.incrementAndGet();
          int page =
              Integer.parseInt(
                  ex.getRequestURI().getQuery().replaceAll("(?:^|.*&)page=(\\d+).*", "$1"));
          String body = pages.apply(page);
          if (body == null) {
            endless(ex);
          } else {
            byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
            ex.getResponseHeaders().set("Content-Type", "application/json");
            ex.sendResponseHeaders(200, bytes.length);
            ex.getResponseBody().write(bytes);
            bytesWritten.addAndGet(bytes.length);
            ex.close();
          }
        });
    server.start();
  }

  @AfterEach
  void stopServer() {
    server.stop(0);
  }

  /** A 200 whose JSON array of routes never ends, written as fast as the client takes it. */
  private void endless(HttpExchange ex) {
    ex.getResponseHeaders().set("Content-Type", "application/json");
    try (OutputStream out = ex.getResponseBody()) {
      ex.sendResponseHeaders(200, 0);
      out.write(
          "{\"total\":1,\"page\":1,\"per_page\":100,\"data\":[".getBytes(StandardCharsets.UTF_8));
      byte[] row = (route(0, 0, 0) + ",").getBytes(StandardCharsets.UTF_8);
      byte[] chunk = new byte[row.length * 100];
      for (int i = 0; i < 100; i++) {
        System.arraycopy(row, 0, chunk, i * row.length, row.length);
      }
      while (bytesWritten.get() < 1L << 30) {
        out.write(chunk);
        bytesWritten.addAndGet(chunk.length);
      }
    } catch (IOException closedByTheClient) {
      // the client stopped reading: what this test wants
    }
  }

  static String route(int page, int i, int padding) {
    int n = (page - 1) * 100 + i;
    return "{\"id\":\"route-"
        + n
        + "\",\"envoy_node_id\":\""
        + NODE
        + "\",\"name\":\"r"
        + n
        + "x".repeat(padding)
        + "\",\"listen_port\":"
        + (10000 + n % 50000)
        + ",\"backend_host\":\"b.example\","
        + "\"backend_port\":80,\"cluster_type\":\"logical_dns\",\"connect_timeout_secs\":5,"
        + "\"proxy_protocol\":0,\"source\":\"dynamic\",\"status\":\"active\"}";
  }

  /** Page {@code page} with {@code rows} new routes (ids never seen before) and the given total. */
  static String page(int page, int rows, long total, int padding) {
    StringBuilder b = new StringBuilder("{\"data\":[");
    for (int i = 0; i < rows; i++) {
      b.append(i == 0 ? "" : ",").append(route(page, i, padding));
    }
    return b.append("],\"total\":")
        .append(total)
        .append(",\"page\":")
        .append(page)
        .append(",\"per_page\":100}")
        .toString();
  }

  private SigmaApiException refused() {
    HttpSigmaApi api =
        new HttpSigmaApi(
            testKit.system(),
            URI.create("http://127.0.0.1:" + server.getAddress().getPort() + "/api"),
            Optional.empty(),
            Duration.ofSeconds(5));
    try {
      List<EnvoyRoute> routes =
          api.allEnvoyRoutes(NODE).toCompletableFuture().get(30, TimeUnit.SECONDS);
      return fail(
          "the lying listing was taken: "
              + routes.size()
              + " routes after "
              + requests.get()
              + " pages");
    } catch (ExecutionException e) {
      SigmaApiException s =
          SigmaApiException.of(e).orElseGet(() -> fail("not a SigmaApiException", e));
      assertEquals(SigmaApiException.Kind.BAD_RESPONSE, s.kind(), s.getMessage());
      return s;
    } catch (Exception e) {
      return fail(e);
    }
  }

  @Test
  void oneHundredNewRowsPerPageWithAGrowingTotalStopAtTheSecondPage() {
    pages = p -> page(p, 100, 100L * p + 100, 0);
    SigmaApiException e = refused();
    assertTrue(
        e.getMessage()
            .contains(
                "routes of Envoy node "
                    + NODE
                    + ": listing changed while being read "
                    + "(total 200 on page 1, 300 on page 2)"),
        e.getMessage());
    assertEquals(2, requests.get());
  }

  @Test
  void aTotalBeyondOneRoutePerPortIsRefusedAtTheFirstPage() {
    pages = p -> page(p, 100, 1_000_000, 0);
    assertTrue(refused().getMessage().contains("total 1000000 is more than the 65535 rows"));
    assertEquals(1, requests.get());
  }

  @Test
  void bigNewPagesUnderAFixedTotalStopAtTheByteBudget() {
    // ~1 MB a page (100 rows with 10 KB names): the 8 MiB budget is spent on page 9
    pages = p -> page(p, 100, ListingLimits.ROUTES.maxRows(), 10_000);
    SigmaApiException e = refused();
    assertTrue(
        e.getMessage()
            .contains("more than " + ListingLimits.ROUTES.maxBytes() + " bytes after 9 page(s)"),
        e.getMessage());
    assertEquals(9, requests.get());
    assertTrue(
        bytesWritten.get() < ListingLimits.ROUTES.maxBytes() + 2 * 1024 * 1024,
        "bytes " + bytesWritten);
  }

  @Test
  void aServerThatIgnoresPerPageIsRefusedAtTheFirstPage() {
    pages = p -> page(p, 5_000, 60_000, 0);
    assertTrue(
        refused().getMessage().contains("page 1 has 5000 rows, more than the per_page=100 asked"));
    assertEquals(1, requests.get());
  }

  @Test
  void theSamePageServedForEveryPageNumberIsRefusedAtTheSecond() {
    pages = p -> page(1, 100, 1_000, 0).replace("\"page\":1,", "\"page\":" + p + ",");
    assertTrue(refused().getMessage().contains("page 2 repeats page 1"));
    assertEquals(2, requests.get());
  }

  @Test
  void anEndlessBodyIsCutOffAfterTheResponseLimit() {
    pages = p -> null;
    SigmaApiException e = refused();
    assertTrue(
        e.getMessage()
            .contains("answered a body longer than " + HttpSigmaApi.MAX_RESPONSE_BYTES + " bytes"),
        e.getMessage());
    assertEquals(1, requests.get());
    // what the server got out before the client closed: the limit plus the sockets' buffers
    assertTrue(
        bytesWritten.get() < HttpSigmaApi.MAX_RESPONSE_BYTES + 32L * 1024 * 1024,
        "bytes " + bytesWritten);
  }
}
