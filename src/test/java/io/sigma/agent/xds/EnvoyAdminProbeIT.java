package io.sigma.agent.xds;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.net.httpserver.HttpServer;
import io.sigma.agent.AgentRuntime;
import io.sigma.agent.metrics.AgentMetrics;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.typed.ActorRef;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The admin probe against real HTTP servers on 127.0.0.1 posing as Envoy's admin interface, through
 * the real Pekko HTTP client, into the real {@code sigma_envoy_up} series.
 */
class EnvoyAdminProbeIT {

  private static final Duration AWAIT = Duration.ofSeconds(20);
  private static final Duration TIMEOUT = Duration.ofMillis(700);
  private static ActorTestKit kit;

  private final List<AutoCloseable> servers = new ArrayList<>();
  private final ExecutorService rawServers = Executors.newCachedThreadPool();
  private final CountDownLatch release = new CountDownLatch(1);

  @BeforeAll
  static void start() {
    kit = ActorTestKit.create(AgentRuntime.pekkoConfig());
  }

  @AfterAll
  static void stop() {
    kit.shutdownTestKit();
  }

  @AfterEach
  void closeServers() throws Exception {
    release.countDown();
    for (AutoCloseable server : servers) {
      server.close();
    }
    rawServers.shutdownNow();
  }

  @Test
  void everyKindOfAnswerGivesItsValueAndARemovedNodeLosesItsSeries() throws Exception {
    AgentMetrics metrics = new AgentMetrics("vps-1", false, false);
    ActorRef<EnvoyAdminProbe.Command> probe =
        kit.spawn(
            EnvoyAdminProbe.create(
                new EnvoyAdminProbe.Settings(Duration.ofMillis(300), Duration.ofSeconds(2), 4),
                new EnvoyAdminClient(kit.system(), TIMEOUT),
                new EnvoyAdminMetrics(metrics)));
    int refused = closedPort();
    List<EnvoyAdminProbe.AdminNode> nodes =
        List.of(
            node("live", http(200, "LIVE\n", false)),
            node("initializing", http(503, "INITIALIZING\n", false)),
            node("draining-200", http(200, "DRAINING", false)),
            // "LIVE" and white space, so only the body bound makes these down.
            node("huge-declared", http(200, "LIVE" + " ".repeat(4096), false)),
            node("huge-chunked", http(200, "LIVE" + " ".repeat(4096), true)),
            node("endless", raw(EnvoyAdminProbeIT::endlessLive)),
            node("hang", raw(socket -> release.await())),
            node("garbage", raw(socket -> socket.getOutputStream().write(garbage()))),
            node("refused", refused),
            node("no-admin-port", null));

    probe.tell(new EnvoyAdminProbe.NodesListed(nodes));

    awaitMetric(
        metrics,
        text -> {
          assertTrue(text.contains("sigma_envoy_up{node=\"live\"} 1.0"), text);
          for (String down :
              List.of(
                  "initializing",
                  "draining-200",
                  "huge-declared",
                  "huge-chunked",
                  "endless",
                  "hang",
                  "garbage",
                  "refused")) {
            assertTrue(text.contains("sigma_envoy_up{node=\"" + down + "\"} 0.0"), down + text);
          }
          assertFalse(text.contains("no-admin-port"), text);
        });

    // The node goes from sigma-api's list (and one loses its admin_port): their series go.
    List<EnvoyAdminProbe.AdminNode> fewer = new ArrayList<>(nodes.subList(0, 2));
    fewer.add(node("hang", null));
    probe.tell(new EnvoyAdminProbe.NodesListed(fewer));
    awaitMetric(
        metrics,
        text -> {
          assertTrue(text.contains("sigma_envoy_up{node=\"live\"} 1.0"), text);
          assertTrue(text.contains("sigma_envoy_up{node=\"initializing\"} 0.0"), text);
          assertFalse(text.contains("node=\"hang\""), text);
          assertFalse(text.contains("node=\"garbage\""), text);
          assertFalse(text.contains("node=\"refused\""), text);
        });

    probe.tell(new EnvoyAdminProbe.NodesListed(List.of()));
    awaitMetric(metrics, text -> assertFalse(text.contains("sigma_envoy_up{"), text));
  }

  @Test
  void anEnvoyThatComesUpIsSeenOnTheNextPoll() throws Exception {
    AgentMetrics metrics = new AgentMetrics("vps-1", false, false);
    AtomicInteger status = new AtomicInteger(503);
    HttpServer server =
        HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
    server.createContext(
        "/ready",
        exchange -> {
          byte[] body = (status.get() == 200 ? "LIVE" : "PRE_INITIALIZING").getBytes();
          exchange.sendResponseHeaders(status.get(), body.length);
          exchange.getResponseBody().write(body);
          exchange.close();
        });
    server.start();
    servers.add(() -> server.stop(0));
    ActorRef<EnvoyAdminProbe.Command> probe =
        kit.spawn(
            EnvoyAdminProbe.create(
                new EnvoyAdminProbe.Settings(Duration.ofMillis(200), Duration.ofSeconds(2), 1),
                new EnvoyAdminClient(kit.system(), TIMEOUT),
                new EnvoyAdminMetrics(metrics)));

    probe.tell(
        new EnvoyAdminProbe.NodesListed(List.of(node("edge", server.getAddress().getPort()))));
    awaitMetric(
        metrics, text -> assertTrue(text.contains("sigma_envoy_up{node=\"edge\"} 0.0"), text));
    status.set(200);
    awaitMetric(
        metrics, text -> assertTrue(text.contains("sigma_envoy_up{node=\"edge\"} 1.0"), text));
  }

  @Test
  void atMostMaxConcurrentProbesAreInFlight() throws Exception {
    // Six admin ports that accept and never answer, two probes at a time: the probes in flight
    // (from the call to the answer) never exceed two.
    List<EnvoyAdminProbe.AdminNode> nodes = new ArrayList<>();
    for (int i = 0; i < 6; i++) {
      nodes.add(node("n" + i, raw(socket -> socket.getInputStream().readAllBytes())));
    }
    EnvoyAdminClient client = new EnvoyAdminClient(kit.system(), Duration.ofMillis(300));
    AtomicInteger inFlight = new AtomicInteger();
    AtomicInteger most = new AtomicInteger();
    List<String> answered = new CopyOnWriteArrayList<>();
    EnvoyAdminProbe.Prober counting =
        port -> {
          most.accumulateAndGet(inFlight.incrementAndGet(), Math::max);
          return client.probe(port).whenComplete((answer, error) -> inFlight.decrementAndGet());
        };
    ActorRef<EnvoyAdminProbe.Command> probe =
        kit.spawn(
            EnvoyAdminProbe.create(
                new EnvoyAdminProbe.Settings(Duration.ofMillis(100), Duration.ofSeconds(5), 2),
                counting,
                new EnvoyAdminProbe.Events() {
                  @Override
                  public void onProbed(String nodeId, boolean up) {
                    answered.add(nodeId + "=" + up);
                  }

                  @Override
                  public void onForgotten(String nodeId) {}
                }));

    probe.tell(new EnvoyAdminProbe.NodesListed(nodes));

    kit.createTestProbe()
        .awaitAssert(
            AWAIT,
            () -> {
              assertTrue(answered.size() >= 12, "two rounds of six: " + answered);
              return null;
            });
    assertEquals(2, most.get(), "both slots used, never more");
    assertFalse(answered.stream().anyMatch(a -> a.endsWith("=true")), answered.toString());
  }

  private void awaitMetric(AgentMetrics metrics, Check check) {
    kit.createTestProbe()
        .awaitAssert(
            AWAIT,
            () -> {
              check.accept(MetricsText.scrape(metrics));
              return null;
            });
  }

  private interface Check {
    void accept(String text) throws Exception;
  }

  private static EnvoyAdminProbe.AdminNode node(String nodeId, Integer adminPort) {
    return new EnvoyAdminProbe.AdminNode(nodeId, adminPort);
  }

  /** An HTTP server answering /ready with {@code status} and {@code body}. */
  private int http(int status, String body, boolean chunked) throws IOException {
    HttpServer server =
        HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
    byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
    server.createContext(
        "/ready",
        exchange -> {
          exchange.sendResponseHeaders(status, chunked ? 0 : bytes.length);
          try (OutputStream out = exchange.getResponseBody()) {
            out.write(bytes);
          } catch (IOException clientWentAway) {
            // the probe cancels big bodies
          }
        });
    server.start();
    servers.add(() -> server.stop(0));
    return server.getAddress().getPort();
  }

  private interface Conversation {
    void run(Socket socket) throws Exception;
  }

  /** A TCP server that accepts and then does {@code conversation} instead of speaking HTTP. */
  private int raw(Conversation conversation) throws IOException {
    ServerSocket server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
    servers.add(server);
    rawServers.execute(
        () -> {
          while (!server.isClosed()) {
            try {
              Socket socket = server.accept();
              rawServers.execute(
                  () -> {
                    try (socket) {
                      conversation.run(socket);
                    } catch (Exception ignored) {
                      // the probe gave up on it
                    }
                  });
            } catch (IOException closed) {
              return;
            }
          }
        });
    return server.getLocalPort();
  }

  /** 200 and a chunked body of "LIVE" and spaces that never ends. */
  private static void endlessLive(Socket socket) throws IOException {
    socket.getInputStream().read(new byte[4096]);
    OutputStream out = socket.getOutputStream();
    out.write(
        "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nLIVE\r\n"
            .getBytes(StandardCharsets.US_ASCII));
    byte[] chunk = ("1000\r\n" + " ".repeat(4096) + "\r\n").getBytes(StandardCharsets.US_ASCII);
    while (true) {
      out.write(chunk);
    }
  }

  private static byte[] garbage() {
    byte[] bytes = new byte[4096];
    new java.util.Random(7).nextBytes(bytes);
    return bytes;
  }

  private static int closedPort() throws IOException {
    try (ServerSocket socket = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
      return socket.getLocalPort();
    }
  }
}
