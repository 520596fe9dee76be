package io.sigma.agent.xds;

import static io.sigma.agent.devapi.DevApiAdmin.admin;
import static io.sigma.agent.xds.AdsTestClient.clusterNames;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryResponse;
import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import io.sigma.agent.AgentGuardian;
import io.sigma.agent.AgentRuntime;
import io.sigma.agent.StartupFailure;
import io.sigma.agent.api.EnvoyNode;
import io.sigma.agent.api.EnvoyRoute;
import io.sigma.agent.config.AgentConfig;
import io.sigma.agent.config.ConfigLoader;
import io.sigma.agent.devapi.DevSeed;
import io.sigma.agent.devapi.DevSigmaApi;
import io.sigma.agent.devapi.RouteSpec;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.CoordinatedShutdown;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.typed.ActorSystem;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The whole agent with {@code --xds-enabled}, as {@code Main} starts it, against the dev sigma-api:
 * registration gives the poller its VPS, Envoy gets the seed's config over gRPC, and the management
 * port (loopback) serves {@code /xds/status}, the metrics port the xDS metrics and not {@code
 * /xds/status} (it names the VPS, its nodes and sigma-api).
 */
class AgentXdsIT {

  private static final String HOSTNAME = "agent-xds-it";
  private static final Duration AWAIT = Duration.ofSeconds(20);
  private static final ObjectMapper JSON = new ObjectMapper();

  private static ActorTestKit helper;
  private static DevSigmaApi devApi;
  private static String apiUrl;
  private final HttpClient http = HttpClient.newHttpClient();

  @TempDir Path stateDir;

  @BeforeAll
  static void startApi() throws Exception {
    helper = ActorTestKit.create(AgentRuntime.pekkoConfig());
    devApi = new DevSigmaApi(0, null);
    apiUrl = devApi.start(helper.system()).toCompletableFuture().get(10, TimeUnit.SECONDS);
    admin(devApi).seedForHostname(HOSTNAME, DevSeed.standard());
  }

  @AfterAll
  static void stopApi() throws Exception {
    devApi.stop().toCompletableFuture().get(10, TimeUnit.SECONDS);
    helper.shutdownTestKit();
  }

  @Test
  void servesEnvoyAndReportsItOnXdsStatusAndMetrics() throws Exception {
    int metricsPort = freePort();
    int xdsPort = freePort();
    int managementPort = freePort();
    AgentConfig config = config(metricsPort, xdsPort, managementPort);
    ActorSystem<AgentGuardian.Command> agent =
        ActorSystem.create(
            AgentGuardian.create(config), "agent-xds-it", AgentRuntime.pekkoConfig(config));
    ManagedChannel channel =
        Grpc.newChannelBuilderForAddress("127.0.0.1", xdsPort, InsecureChannelCredentials.create())
            .build();
    try {
      String statusUrl = "http://127.0.0.1:" + managementPort + "/xds/status";
      JsonNode served =
          await(
              () -> {
                JsonNode status = getJson(statusUrl);
                assertEquals(
                    "success",
                    status.path("config_source").path("last_result").asText(),
                    status.toString());
                return status;
              });
      String vpsId = admin(devApi).vpsByHostname(HOSTNAME).orElseThrow().id();
      assertEquals(vpsId, served.path("config_source").path("vps_id").asText());
      EnvoyNode node = admin(devApi).nodes(vpsId).get(0);

      try (AdsTestClient envoy = AdsTestClient.connect(channel, DevSeed.DEFAULT_NODE_ID)) {
        DiscoveryResponse[] handshake = envoy.handshake();
        assertEquals(
            List.of("cluster-dev-logical-dns", "cluster-dev-static", "cluster-dev-strict-dns"),
            clusterNames(handshake[0]));
        String version = handshake[0].getVersionInfo();
        assertEquals(version, handshake[1].getVersionInfo(), "one resource set, one version_info");
        assertEquals(
            version, getJson(statusUrl).path("nodes").path(0).path("version_info").asText());

        EnvoyRoute first = admin(devApi).routes(node.id()).get(0);
        admin(devApi)
            .updateRoute(first.id(), RouteSpec.active("dev-logical-dns", 10001, "localhost", 9999));
        DiscoveryResponse pushed = envoy.next(TypeUrls.CLUSTER);
        String newVersion = pushed.getVersionInfo();
        assertTrue(
            Long.parseLong(newVersion) > Long.parseLong(version), version + " then " + newVersion);
        envoy.nack(pushed, version, "cluster-dev-logical-dns: test rejection");

        JsonNode status =
            await(
                () -> {
                  JsonNode s = getJson(statusUrl);
                  assertEquals(
                      "cluster-dev-logical-dns: test rejection",
                      s.path("nodes").path(0).path("last_nack").path("message").asText(),
                      s.toString());
                  return s;
                });
        JsonNode devEnvoy = status.path("nodes").path(0);
        assertEquals(DevSeed.DEFAULT_NODE_ID, devEnvoy.path("node_id").asText());
        assertEquals(node.id(), devEnvoy.path("envoy_node_uuid").asText());
        assertEquals(node.configVersion() + 1, devEnvoy.path("snapshot_version").asLong());
        assertEquals(newVersion, devEnvoy.path("version_info").asText(), "served, though NACKed");
        assertEquals(node.configVersion() + 1, devEnvoy.path("api_config_version").asLong());
        assertEquals(3, devEnvoy.path("route_count").asInt());
        assertEquals(1, devEnvoy.path("connected_streams").asInt());
        JsonNode types = devEnvoy.path("streams").path(0).path("types");
        assertEquals(
            version,
            types.path("Cluster").path("acked_version").asText(),
            "the NACK kept the old one");
        assertEquals(1, types.path("Cluster").path("nacks").asInt());
        assertEquals(newVersion, types.path("Cluster").path("last_nack").path("version").asText());
        assertEquals(version, types.path("Listener").path("acked_version").asText());
        assertEquals("Cluster", devEnvoy.path("last_nack").path("type").asText());
        assertTrue(devEnvoy.path("last_fetch_error").isNull());

        assertEquals(404, get("http://127.0.0.1:" + metricsPort + "/xds/status").statusCode());
        String metrics = get("http://127.0.0.1:" + metricsPort + "/metrics").body();
        String labels = "node=\"dev-envoy\"";
        for (String line :
            List.of(
                "sigma_xds_connected_streams{" + labels + "} 1.0",
                "sigma_xds_snapshot_version{" + labels + "} " + (node.configVersion() + 1) + ".0",
                "sigma_xds_snapshot_routes{" + labels + "} 3.0",
                "sigma_xds_rejected_routes{" + labels + ",reason=\"PLACEHOLDER\"} 1.0",
                "sigma_xds_responses_sent_total{" + labels + ",type=\"Cluster\"} 2.0",
                "sigma_xds_acks_total{" + labels + ",type=\"Listener\"} 1.0",
                "sigma_xds_nacks_total{" + labels + ",type=\"Cluster\"} 1.0",
                "sigma_xds_last_nack_timestamp_seconds{" + labels + ",type=\"Cluster\"}",
                "sigma_xds_polls_total{result=\"success\"}",
                "\nsigma_xds_poll_duration_seconds_count ")) {
          assertTrue(metrics.contains(line), line + " in\n" + metrics);
        }
      }
    } finally {
      channel.shutdownNow().awaitTermination(10, TimeUnit.SECONDS);
      agent.terminate();
      agent.getWhenTerminated().toCompletableFuture().get(20, TimeUnit.SECONDS);
    }
  }

  @Test
  void aBusyXdsPortStopsTheAgentLikeABusyMetricsPort() throws Exception {
    try (ServerSocket busy = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
      ActorSystem<AgentGuardian.Command> agent =
          ActorSystem.create(
              AgentGuardian.create(config(freePort(), busy.getLocalPort(), 0)),
              "agent-xds-busy",
              AgentRuntime.pekkoConfig());

      agent.getWhenTerminated().toCompletableFuture().get(20, TimeUnit.SECONDS);

      assertEquals(
          java.util.Optional.of(StartupFailure.INSTANCE),
          CoordinatedShutdown.get(agent).getShutdownReason());
    }
  }

  private AgentConfig config(int metricsPort, int xdsPort, int managementPort) {
    String[] args = {
      "--api-url=" + apiUrl,
      "--hostname=" + HOSTNAME,
      "--interval=5s",
      "--metrics-port=" + metricsPort,
      "--metrics-bind=127.0.0.1",
      "--xds-enabled",
      "--xds-port=" + xdsPort,
      "--xds-poll-interval=1s",
      "--state-dir=" + stateDir,
      "--public-ip-lookup=false",
      "--management-port=" + managementPort,
      "--management-bind=127.0.0.1",
      "--backoff-initial=100ms",
      "--backoff-max=1s"
    };
    ConfigLoader.Outcome outcome = ConfigLoader.load(args, Map.of(), "test");
    return ((ConfigLoader.Outcome.Run) outcome).config();
  }

  private <T> T await(org.apache.pekko.japi.function.Creator<T> check) {
    return helper.createTestProbe().awaitAssert(AWAIT, check);
  }

  private JsonNode getJson(String url) throws Exception {
    HttpResponse<String> response = get(url);
    assertEquals(200, response.statusCode(), response.body());
    assertEquals("application/json", response.headers().firstValue("Content-Type").orElse(""));
    return JSON.readTree(response.body());
  }

  private HttpResponse<String> get(String url) throws IOException, InterruptedException {
    return http.send(
        HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(5)).build(),
        HttpResponse.BodyHandlers.ofString());
  }

  private static int freePort() throws IOException {
    try (ServerSocket socket = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
      return socket.getLocalPort();
    }
  }
}
