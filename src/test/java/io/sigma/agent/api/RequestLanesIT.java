package io.sigma.agent.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.sigma.agent.AgentRuntime;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Heartbeats against a sigma-api whose routes answers trickle or hang for ever: the fleet lane has
 * connections of its own, and a request's deadline starts when it gets a connection.
 */
class RequestLanesIT {
  private static final Duration TIMEOUT = Duration.ofSeconds(1);
  private static ActorTestKit testKit;

  private HttpServer server;
  private final AtomicBoolean stop = new AtomicBoolean();
  private final AtomicInteger routesOpen = new AtomicInteger();
  private final AtomicInteger heartbeatsAnswered = new AtomicInteger();
  private HttpSigmaApi api;

  @BeforeAll
  static void startKit() {
    testKit = ActorTestKit.create(AgentRuntime.pekkoConfig());
  }

  @AfterAll
  static void stopKit() {
    testKit.shutdownTestKit();
  }

  @BeforeEach
  void startServer() throws IOException {
    server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    server.setExecutor(Executors.newCachedThreadPool());
    server.start();
    api =
        new HttpSigmaApi(
            testKit.system(),
            URI.create("http://127.0.0.1:" + server.getAddress().getPort() + "/api"),
            Optional.empty(),
            TIMEOUT);
  }

  @AfterEach
  void stopServer() {
    stop.set(true);
    server.stop(0);
  }

  private void answerHeartbeats(Duration after) {
    server.createContext(
        "/api/agent/heartbeat",
        ex -> {
          ex.getRequestBody().readAllBytes();
          pause(after);
          reply(
              ex,
              "{\"id\":\"" + UUID.randomUUID() + "\",\"hostname\":\"h\",\"status\":\"active\"}");
          heartbeatsAnswered.incrementAndGet();
        });
  }

  private static void reply(HttpExchange ex, String body) throws IOException {
    byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
    ex.getResponseHeaders().set("Content-Type", "application/json");
    ex.sendResponseHeaders(200, bytes.length);
    ex.getResponseBody().write(bytes);
    ex.close();
  }

  private static void pause(Duration d) {
    try {
      Thread.sleep(d.toMillis()); // the fake server's answer time, part of the scenario
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /** Keeps a routes fetch in flight: a new one as soon as the last one failed. */
  private void fetchRoutesForEver() {
    if (!stop.get()) {
      api.allEnvoyRoutes(UUID.randomUUID().toString())
          .whenComplete((routes, error) -> fetchRoutesForEver());
    }
  }

  @Test
  void heartbeatsSucceedWhileSixRoutesFetchesTrickleOrHangForEver() throws Exception {
    AtomicInteger routeRequests = new AtomicInteger();
    server.createContext(
        "/api/envoy-routes",
        ex -> {
          routesOpen.incrementAndGet();
          try {
            if (routeRequests.incrementAndGet() % 2 == 0) {
              pause(Duration.ofSeconds(30)); // hangs: not one byte
            } else {
              ex.sendResponseHeaders(200, 0); // trickles: a byte every 50 ms, never the end
              OutputStream out = ex.getResponseBody();
              out.write("{\"data\":[".getBytes(StandardCharsets.UTF_8));
              while (!stop.get()) {
                out.write(' ');
                out.flush();
                pause(Duration.ofMillis(50));
              }
            }
          } catch (IOException clientGone) {
            // the client gave up on it
          } finally {
            routesOpen.decrementAndGet();
            ex.close();
          }
        });
    answerHeartbeats(Duration.ZERO);
    for (int i = 0; i < 6; i++) {
      fetchRoutesForEver();
    }
    testKit
        .createTestProbe()
        .awaitAssert(
            Duration.ofSeconds(10),
            () -> {
              assertTrue(routesOpen.get() >= 4, "routes answers in progress: " + routesOpen.get());
              return null;
            });

    for (int i = 0; i < 10; i++) {
      try {
        api.heartbeat(new HeartbeatRequest("h", List.of(), null))
            .toCompletableFuture()
            .get(10, TimeUnit.SECONDS);
      } catch (ExecutionException e) {
        fail(
            "heartbeat "
                + (i + 1)
                + " failed while "
                + routeRequests.get()
                + " routes fetches hogged the xDS lane: "
                + e.getCause().getMessage());
      }
    }
    assertEquals(10, heartbeatsAnswered.get());
    assertTrue(routesOpen.get() >= 4, "the xDS lane was still hogged: " + routesOpen.get());
  }

  /**
   * Four routes fetches hold every connection of the xDS lane; a fifth waits for one. It waits half
   * a timeout, then takes 0.7 timeouts to be answered: 1.2 timeouts in all, fine since its deadline
   * starts when it gets a connection. (A heartbeat answered after half a timeout is the clock: the
   * fleet lane is not the xDS lane.)
   */
  @Test
  void aRequestsDeadlineStartsWhenItGetsAConnectionNotWhenItIsQueued() throws Exception {
    CountDownLatch release = new CountDownLatch(1);
    AtomicInteger nodeRequests = new AtomicInteger();
    server.createContext(
        "/api/envoy-routes",
        ex -> {
          routesOpen.incrementAndGet();
          try {
            release.await(30, TimeUnit.SECONDS);
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
          }
          reply(ex, "{\"data\":[],\"total\":0,\"page\":1,\"per_page\":100}");
        });
    server.createContext(
        "/api/envoy-nodes",
        ex -> {
          nodeRequests.incrementAndGet();
          pause(TIMEOUT.multipliedBy(7).dividedBy(10));
          reply(ex, "{\"data\":[],\"total\":0,\"page\":1,\"per_page\":100}");
        });
    answerHeartbeats(TIMEOUT.dividedBy(2));
    var held =
        List.of(
            api.allEnvoyRoutes("a"),
            api.allEnvoyRoutes("b"),
            api.allEnvoyRoutes("c"),
            api.allEnvoyRoutes("d"));
    testKit
        .createTestProbe()
        .awaitAssert(
            Duration.ofSeconds(10),
            () -> {
              assertEquals(4, routesOpen.get(), "routes fetches holding a connection");
              return null;
            });

    var queued = api.allEnvoyNodes(UUID.randomUUID().toString()).toCompletableFuture();
    api.heartbeat(new HeartbeatRequest("h", List.of(), null))
        .toCompletableFuture()
        .get(10, TimeUnit.SECONDS);
    assertEquals(0, nodeRequests.get(), "the fifth request is still waiting for a connection");
    release.countDown();

    assertEquals(List.of(), queued.get(10, TimeUnit.SECONDS));
    assertEquals(1, nodeRequests.get());
    for (var h : held) {
      assertEquals(List.of(), h.toCompletableFuture().get(10, TimeUnit.SECONDS));
    }
  }
}
