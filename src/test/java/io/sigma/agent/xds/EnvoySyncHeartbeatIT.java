package io.sigma.agent.xds;

import static io.sigma.agent.devapi.DevApiAdmin.admin;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.sun.net.httpserver.HttpServer;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryResponse;
import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import io.sigma.agent.AgentGuardian;
import io.sigma.agent.AgentRuntime;
import io.sigma.agent.api.EnvoyNode;
import io.sigma.agent.api.EnvoyRoute;
import io.sigma.agent.config.AgentConfig;
import io.sigma.agent.config.ConfigLoader;
import io.sigma.agent.devapi.DevSeed;
import io.sigma.agent.devapi.DevSigmaApi;
import io.sigma.agent.devapi.RouteSpec;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.typed.ActorSystem;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The whole agent with {@code --xds-enabled} against the dev sigma-api: what an Envoy (a real gRPC
 * client) ACKs and NACKs shows up in the {@code system_info.envoy} that sigma-api stores from the
 * heartbeats.
 */
class EnvoySyncHeartbeatIT {

  private static final String HOSTNAME = "envoy-sync-it";
  private static final Duration AWAIT = Duration.ofSeconds(30);

  private ActorTestKit helper;
  private DevSigmaApi devApi;
  private String apiUrl;

  @TempDir Path stateDir;

  @BeforeEach
  void startApi() throws Exception {
    helper = ActorTestKit.create(AgentRuntime.pekkoConfig());
    devApi = new DevSigmaApi(0, null);
    apiUrl = devApi.start(helper.system()).toCompletableFuture().get(10, TimeUnit.SECONDS);
    admin(devApi).seedForHostname(HOSTNAME, DevSeed.standard());
  }

  @AfterEach
  void stopApi() throws Exception {
    devApi.stop().toCompletableFuture().get(10, TimeUnit.SECONDS);
    helper.shutdownTestKit();
  }

  @Test
  void theHeartbeatReportsWhatEnvoyAckedAndItsLastNack() throws Exception {
    int xdsPort = freePort();
    ActorSystem<AgentGuardian.Command> agent =
        ActorSystem.create(
            AgentGuardian.create(config(xdsPort)),
            "envoy-sync-it",
            AgentRuntime.pekkoConfig(config(xdsPort)));
    helper
        .createTestProbe()
        .awaitAssert(
            AWAIT,
            () -> {
              new Socket(InetAddress.getLoopbackAddress(), xdsPort).close();
              return null;
            });
    ManagedChannel channel =
        Grpc.newChannelBuilderForAddress("127.0.0.1", xdsPort, InsecureChannelCredentials.create())
            .build();
    try (AdsTestClient envoy = AdsTestClient.connect(channel, DevSeed.DEFAULT_NODE_ID)) {
      DiscoveryResponse[] handshake = envoy.handshake();
      String vpsId = admin(devApi).vpsByHostname(HOSTNAME).orElseThrow().id();
      EnvoyNode node = admin(devApi).nodes(vpsId).get(0);
      String version = String.valueOf(node.configVersion());

      JsonNode synced =
          await(
              entry -> {
                assertEquals(version, entry.path("acked").path("listener").asText(), "" + entry);
                assertEquals(version, entry.path("acked").path("cluster").asText());
              });
      assertEquals(1, synced.path("streams").asInt());
      assertEquals(node.configVersion(), synced.path("config_version").asLong());
      assertTrue(synced.path("last_nack").isNull(), synced.toString());

      EnvoyRoute first = admin(devApi).routes(node.id()).get(0);
      admin(devApi)
          .updateRoute(first.id(), RouteSpec.active("dev-logical-dns", 10001, "localhost", 9999));
      DiscoveryResponse pushed = envoy.next(TypeUrls.CLUSTER);
      Instant beforeNack = Instant.now();
      envoy.nack(pushed, handshake[0].getVersionInfo(), "cluster-dev-logical-dns: bad\nendpoint");

      JsonNode nacked =
          await(entry -> assertTrue(entry.path("last_nack").isObject(), entry.toString()));
      String newVersion = String.valueOf(node.configVersion() + 1);
      assertEquals(node.configVersion() + 1, nacked.path("config_version").asLong());
      String ackedClusters = nacked.path("acked").path("cluster").asText();
      assertNotEquals(newVersion, ackedClusters, "Envoy still holds the old Clusters");
      assertEquals(handshake[0].getVersionInfo(), ackedClusters, "its raw version_info");
      JsonNode nack = nacked.path("last_nack");
      assertEquals("cluster", nack.path("type").asText());
      assertEquals("cluster-dev-logical-dns: bad\\nendpoint", nack.path("message").asText());
      Instant at = Instant.parse(nack.path("at").asText());
      assertTrue(!at.isBefore(beforeNack.minusSeconds(1)), at + " vs " + beforeNack);
    } finally {
      channel.shutdownNow().awaitTermination(10, TimeUnit.SECONDS);
      agent.terminate();
      agent.getWhenTerminated().toCompletableFuture().get(20, TimeUnit.SECONDS);
    }
  }

  @Test
  void anEnvoyAdminPortListedBySigmaApiIsProbedIntoSigmaEnvoyUp() throws Exception {
    HttpServer admin =
        HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
    admin.createContext(
        "/ready",
        exchange -> {
          byte[] body = "LIVE\n".getBytes(StandardCharsets.UTF_8);
          exchange.sendResponseHeaders(200, body.length);
          exchange.getResponseBody().write(body);
          exchange.close();
        });
    admin.start();
    int metricsPort = freePort();
    AgentConfig config = config(freePort(), metricsPort);
    ActorSystem<AgentGuardian.Command> agent =
        ActorSystem.create(
            AgentGuardian.create(config), "envoy-admin-it", AgentRuntime.pekkoConfig(config));
    HttpClient http = HttpClient.newHttpClient();
    String metricsUrl = "http://127.0.0.1:" + metricsPort + "/metrics";
    try {
      EnvoyNode node =
          helper
              .createTestProbe()
              .awaitAssert(
                  AWAIT,
                  () -> {
                    String vpsId = admin(devApi).vpsByHostname(HOSTNAME).orElseThrow().id();
                    return admin(devApi).nodes(vpsId).get(0);
                  });
      admin(devApi).updateNode(node.id(), "", admin.getAddress().getPort(), "active");
      awaitMetrics(http, metricsUrl, "sigma_envoy_up{node=\"dev-envoy\"} 1.0", true);

      // sigma-api drops the admin_port: the series goes.
      admin(devApi).updateNode(node.id(), "", null, "active");
      awaitMetrics(http, metricsUrl, "sigma_envoy_up{", false);
    } finally {
      admin.stop(0);
      agent.terminate();
      agent.getWhenTerminated().toCompletableFuture().get(20, TimeUnit.SECONDS);
    }
  }

  private void awaitMetrics(HttpClient http, String url, String line, boolean present) {
    helper
        .createTestProbe()
        .awaitAssert(
            AWAIT,
            () -> {
              String body =
                  http.send(
                          HttpRequest.newBuilder(URI.create(url))
                              .timeout(Duration.ofSeconds(5))
                              .build(),
                          HttpResponse.BodyHandlers.ofString())
                      .body();
              assertEquals(present, body.contains(line), line + " in\n" + body);
              return null;
            });
  }

  /** Awaits the stored {@code system_info.envoy} entry of the dev node passing {@code check}. */
  private JsonNode await(org.apache.pekko.japi.function.Procedure<JsonNode> check) {
    return helper
        .createTestProbe()
        .awaitAssert(
            AWAIT,
            () -> {
              JsonNode info = admin(devApi).vpsByHostname(HOSTNAME).orElseThrow().systemInfo();
              assertTrue(info.path("cpu_cores").isInt(), "the usual fields stay: " + info);
              JsonNode entry = info.path("envoy").path(DevSeed.DEFAULT_NODE_ID);
              assertTrue(entry.isObject(), info.toString());
              check.apply(entry);
              return entry;
            });
  }

  private AgentConfig config(int xdsPort) {
    return config(xdsPort, 0);
  }

  private AgentConfig config(int xdsPort, int metricsPort) {
    String[] args = {
      "--api-url=" + apiUrl,
      "--hostname=" + HOSTNAME,
      "--interval=1s",
      "--metrics-port=" + metricsPort,
      "--metrics-bind=127.0.0.1",
      "--xds-enabled",
      "--xds-port=" + xdsPort,
      "--xds-poll-interval=1s",
      "--state-dir=" + stateDir,
      "--public-ip-lookup=false",
      "--management-port=0",
      "--backoff-initial=100ms",
      "--backoff-max=1s"
    };
    ConfigLoader.Outcome outcome = ConfigLoader.load(args, Map.of(), "test");
    return ((ConfigLoader.Outcome.Run) outcome).config();
  }

  private static int freePort() throws IOException {
    try (ServerSocket socket = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
      return socket.getLocalPort();
    }
  }
}
