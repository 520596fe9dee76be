package io.sigma.agent.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.sun.management.UnixOperatingSystemMXBean;
import io.sigma.agent.AgentRuntime;
import io.sigma.agent.net.HttpGuard;
import io.sigma.agent.ports.AllocationCallers;
import io.sigma.agent.ports.AllocationRoutes;
import io.sigma.agent.ports.Allocators;
import io.sigma.agent.ports.CallerRateLimiter;
import io.sigma.agent.ports.FreePorts;
import io.sigma.agent.testing.RawHttp;
import io.sigma.agent.testing.Slowloris;
import java.lang.management.ManagementFactory;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.http.javadsl.ServerBinding;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The metrics server's real routes (/metrics, POST /ports/allocate) under slow and idle clients on
 * real loopback sockets: attackers connect from 127.0.0.2 and up, honest callers from 127.0.0.1.
 */
class MetricsServerSlowClientsIT {
  private static final Duration AWAIT = Duration.ofSeconds(15);

  /** Short deadlines, so a test sees them pass in about a second. */
  private static final HttpGuard SHORT =
      new HttpGuard(Duration.ofSeconds(1), Duration.ofSeconds(1), 256, 16);

  private static final InetAddress HONEST = address("127.0.0.1");

  private static ActorTestKit testKit;
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

  private static InetAddress address(String literal) {
    try {
      return InetAddress.getByName(literal);
    } catch (java.net.UnknownHostException e) {
      throw new IllegalArgumentException(literal, e);
    }
  }

  /** The agent's metrics server with its real routes on 127.0.0.1:0, guarded by {@code guard}. */
  private InetSocketAddress serve(HttpGuard guard) throws Exception {
    AllocationRoutes.Allocator allocator = Allocators.real(testKit, FreePorts.range(64));
    ServerBinding binding =
        MetricsServer.bind(
                testKit.system(),
                "0.0.0.0",
                0,
                List.of(
                    new MetricsRoutes(new AgentMetrics("slow-clients-it", false, false).registry())
                        .route(),
                    new AllocationRoutes(
                            Optional.of(allocator),
                            Optional::empty,
                            new AllocationCallers(List.of(), Optional.empty()),
                            CallerRateLimiter.standard(),
                            testKit.system().scheduler())
                        .route()),
                guard,
                Optional.empty())
            .toCompletableFuture()
            .get(AWAIT.toSeconds(), TimeUnit.SECONDS);
    bindings.add(binding);
    return new InetSocketAddress("127.0.0.1", binding.localAddress().getPort());
  }

  @Test
  void scrapeAndAllocateGetThroughWhile1024ConnectionsTrickleHeaders() throws Exception {
    long freeFds = 0;
    if (ManagementFactory.getOperatingSystemMXBean() instanceof UnixOperatingSystemMXBean os) {
      freeFds = os.getMaxFileDescriptorCount() - os.getOpenFileDescriptorCount();
    }
    assumeTrue(freeFds > 2 * 1024 + 256, "needs ~2,300 free fds (ulimit -n), has " + freeFds);
    InetSocketAddress server = serve(HttpGuard.METRICS);
    URI base = URI.create("http://127.0.0.1:" + server.getPort());
    HttpClient http =
        HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(AWAIT).build();
    try (Slowloris attack =
        Slowloris.attack(address("127.0.0.2"), server, 1024, Duration.ofSeconds(1))) {
      HttpResponse<String> scrape =
          http.send(
              HttpRequest.newBuilder(base.resolve("/metrics")).timeout(AWAIT).GET().build(),
              HttpResponse.BodyHandlers.ofString());
      assertEquals(200, scrape.statusCode());
      assertTrue(
          scrape.headers().firstValue("Content-Type").orElseThrow().startsWith("text/plain"));

      HttpResponse<String> allocate =
          http.send(
              HttpRequest.newBuilder(base.resolve("/ports/allocate"))
                  .timeout(AWAIT)
                  .header("Content-Type", "application/json")
                  .POST(HttpRequest.BodyPublishers.ofString("{\"count\": 2}"))
                  .build(),
              HttpResponse.BodyHandlers.ofString());
      assertEquals(200, allocate.statusCode(), allocate.body());
      assertTrue(allocate.body().startsWith("{\"ports\":["), allocate.body());
    }
  }

  @Test
  void aConnectionTricklingItsHeadIsClosedAfterTheHeadTimeout() throws Exception {
    InetSocketAddress server = serve(SHORT);
    try (RawHttp slow = RawHttp.connect(address("127.0.0.3"), server)) {
      slow.send(new String(Slowloris.HEAD_START, java.nio.charset.StandardCharsets.US_ASCII));
      boolean closed = false;
      // a byte every 200 ms restarts Pekko's idle timeout; only the head deadline ends this
      for (int i = 0; i < 50 && !closed; i++) {
        try {
          slow.send("a");
        } catch (java.io.IOException gone) {
          closed = true;
          break;
        }
        closed = slow.closedWithin(Duration.ofMillis(200));
      }
      assertTrue(closed, "still open after 10 s of trickling");
    }
  }

  @Test
  void aConnectionTricklingItsBodyIsClosedAfterTheBodyTimeout() throws Exception {
    InetSocketAddress server = serve(SHORT);
    try (RawHttp slow = RawHttp.connect(address("127.0.0.3"), server)) {
      slow.send(
          "POST /ports/allocate HTTP/1.1\r\nHost: agent\r\nContent-Type: application/json\r\n"
              + "Content-Length: 100\r\n\r\n{\"count\": 1");
      boolean closed = false;
      // the whole body would take 20 s at this pace
      for (int i = 0; i < 50 && !closed; i++) {
        try {
          slow.send(" ");
        } catch (java.io.IOException gone) {
          closed = true;
          break;
        }
        closed = slow.closedWithin(Duration.ofMillis(200));
      }
      assertTrue(closed, "still open after 10 s of trickling a body");
    }
  }

  @Test
  void anHonestKeepAliveClientKeepsItsConnectionPastTheHeadTimeout() throws Exception {
    InetSocketAddress server = serve(SHORT);
    try (RawHttp honest = RawHttp.connect(HONEST, server);
        RawHttp idle = RawHttp.connect(address("127.0.0.4"), server)) {
      int requests = 0;
      // requests keep coming, each well within the head timeout of the previous answer, until
      // the idle connection (opened with this one) shows the head timeout has passed
      while (!idle.closedWithin(Duration.ofMillis(100))) {
        assertEquals(200, honest.get("/metrics"));
        requests++;
        assertTrue(requests < 150, "the idle connection was never closed");
      }
      assertEquals(200, honest.get("/metrics"), "same connection, after " + requests + " requests");
    }
  }

  @Test
  void atALimitTheLongestIdleConnectionMakesRoomOfTheSameClientOrAtTheTotalOfAnyone()
      throws Exception {
    InetSocketAddress server =
        serve(new HttpGuard(Duration.ofSeconds(30), Duration.ofSeconds(30), 6, 3));
    List<RawHttp> held = new ArrayList<>();
    try {
      for (int i = 0; i < 3; i++) {
        held.add(RawHttp.connect(address("127.0.0.5"), server));
      }
      // a 4th from the same address takes the slot of that address's longest idle one
      held.add(RawHttp.connect(address("127.0.0.5"), server));
      assertTrue(held.get(0).closedWithin(AWAIT), "the address's oldest idle one was left open");
      assertEquals(200, held.get(3).get("/metrics"));
      for (int i = 0; i < 3; i++) {
        held.add(RawHttp.connect(address("127.0.0.6"), server));
      }
      // all 6 taken, none of them sending: an honest 7th gets the slot of the longest idle one
      try (RawHttp honest = RawHttp.connect(HONEST, server)) {
        assertEquals(200, honest.get("/metrics"));
        assertTrue(held.get(1).closedWithin(AWAIT), "the longest idle connection was not evicted");
        assertFalse(held.get(6).closedWithin(Duration.ofMillis(100)), "the newest was evicted");
      }
    } finally {
      for (RawHttp connection : held) {
        connection.close();
      }
    }
  }
}
