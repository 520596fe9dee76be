package io.sigma.agent.xds;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sigma.agent.AgentRuntime;
import io.sigma.agent.metrics.MetricsServer;
import io.sigma.agent.net.HttpGuard;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import org.apache.pekko.http.javadsl.ServerBinding;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** {@code GET /xds/status} over a real HTTP binding of the metrics server. */
class XdsStatusRoutesIT {

  private static ActorTestKit testKit;
  private final HttpClient http = HttpClient.newHttpClient();

  @BeforeAll
  static void start() {
    testKit = ActorTestKit.create(AgentRuntime.pekkoConfig());
  }

  @AfterAll
  static void stop() {
    testKit.shutdownTestKit();
  }

  @Test
  void servedNodesWithoutAPollerAsJson() throws Exception {
    ActorRef<SnapshotRegistry.Command> registry = testKit.spawn(SnapshotRegistry.create());
    registry.tell(
        new SnapshotRegistry.SetSnapshot(
            new RouteResourceMapper()
                .map(List.of(Routes.route("a", 10001, "a.example", 80)))
                .toSnapshot("edge", 4, 1_764_151_200_000L)));
    ServerBinding binding =
        bind(
            new XdsStatusRoutes(
                timeout ->
                    AskPattern.ask(
                        registry,
                        SnapshotRegistry.GetStatus::new,
                        timeout,
                        testKit.system().scheduler()),
                timeout -> CompletableFuture.completedFuture(null),
                Clock.systemUTC(),
                XdsStatusRoutes.ASK_TIMEOUT));
    try {
      HttpResponse<String> response = get(binding, "/xds/status");

      assertEquals(200, response.statusCode());
      JsonNode json = new ObjectMapper().readTree(response.body());
      assertTrue(json.path("config_source").isNull());
      assertEquals("edge", json.path("nodes").path(0).path("node_id").asText());
      assertEquals(4, json.path("nodes").path(0).path("snapshot_version").asInt());
      assertEquals("1764151200000", json.path("nodes").path(0).path("version_info").asText());
      assertEquals(0, json.path("nodes").path(0).path("rejected_route_count").asInt());
      assertTrue(json.path("nodes").path(0).path("rejected_routes").isArray());
      assertEquals(1, json.path("nodes").path(0).path("route_count").asInt());
      assertEquals(0, json.path("nodes").path(0).path("connected_streams").asInt());
      assertEquals(405, post(binding, "/xds/status").statusCode());
    } finally {
      binding.unbind().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }
  }

  @Test
  void aControlPlaneThatDoesNotAnswerGives503() throws Exception {
    ActorRef<XdsGuardian.Command> silent = testKit.<XdsGuardian.Command>createTestProbe().ref();
    ServerBinding binding =
        bind(
            XdsStatusRoutes.of(
                silent, testKit.system(), Clock.systemUTC(), Duration.ofMillis(200)));
    try {
      HttpResponse<String> response = get(binding, "/xds/status");

      assertEquals(503, response.statusCode());
      assertTrue(response.body().contains("\"error\""), response.body());
    } finally {
      binding.unbind().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }
  }

  private static ServerBinding bind(XdsStatusRoutes routes) throws Exception {
    return MetricsServer.bind(
            testKit.system(),
            "127.0.0.1",
            0,
            List.of(routes.route()),
            HttpGuard.METRICS,
            Optional.empty())
        .toCompletableFuture()
        .get(10, TimeUnit.SECONDS);
  }

  private HttpResponse<String> get(ServerBinding binding, String path) throws Exception {
    return http.send(
        HttpRequest.newBuilder(uri(binding, path)).build(), HttpResponse.BodyHandlers.ofString());
  }

  private HttpResponse<String> post(ServerBinding binding, String path) throws Exception {
    return http.send(
        HttpRequest.newBuilder(uri(binding, path))
            .POST(HttpRequest.BodyPublishers.noBody())
            .build(),
        HttpResponse.BodyHandlers.ofString());
  }

  private static URI uri(ServerBinding binding, String path) {
    return URI.create("http://127.0.0.1:" + binding.localAddress().getPort() + path);
  }
}
