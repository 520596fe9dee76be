package io.sigma.agent.ports;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.prometheus.metrics.expositionformats.PrometheusTextFormatWriter;
import io.sigma.agent.AgentRuntime;
import io.sigma.agent.config.AgentConfig;
import io.sigma.agent.config.PortRange;
import io.sigma.agent.metrics.AgentMetrics;
import io.sigma.agent.metrics.MetricsServer;
import io.sigma.agent.net.HttpGuard;
import io.sigma.agent.testing.FeatureStart;
import java.io.ByteArrayOutputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.BitSet;
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
 * The ports feature as the root starts it: its route over real HTTP, its series, and the live
 * --allocate-token.
 */
class PortsGuardianTest {
  private static final Duration AWAIT = Duration.ofSeconds(20);
  private static ActorTestKit testKit;
  private final HttpClient http = HttpClient.newHttpClient();
  private final List<ServerBinding> bindings = new ArrayList<>();

  @BeforeAll
  static void startKit() {
    testKit = ActorTestKit.create(AgentRuntime.pekkoConfig());
  }

  @AfterAll
  static void stopKit() {
    testKit.shutdownTestKit();
  }

  @AfterEach
  void unbind() throws Exception {
    for (ServerBinding binding : bindings) {
      binding.unbind().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }
  }

  private static AgentConfig config(String... args) {
    return FeatureStart.config(args);
  }

  private PortsGuardian start(AgentConfig config, PortRange range) {
    return FeatureStart.start(
        testKit,
        ctx ->
            PortsGuardian.start(
                ctx,
                config,
                () ->
                    new PortScan(
                        range,
                        bits(range.first()),
                        ListenerAttribution.none(),
                        Instant.now(),
                        Duration.ofMillis(3)),
                new BindProbe()));
  }

  private static BitSet bits(int port) {
    BitSet bits = new BitSet();
    bits.set(port);
    return bits;
  }

  private URI serve(PortsGuardian ports) throws Exception {
    ServerBinding binding =
        MetricsServer.bind(
                testKit.system(),
                "127.0.0.1",
                0,
                ports.metricsRoutes(),
                HttpGuard.METRICS,
                Optional.empty())
            .toCompletableFuture()
            .get(10, TimeUnit.SECONDS);
    bindings.add(binding);
    return URI.create("http://127.0.0.1:" + binding.localAddress().getPort() + "/ports/allocate");
  }

  private HttpResponse<String> post(URI uri, String... headers) throws Exception {
    HttpRequest.Builder request =
        HttpRequest.newBuilder(uri)
            .timeout(AWAIT)
            .POST(HttpRequest.BodyPublishers.ofString("{\"count\": 2}"));
    if (headers.length > 0) {
      request.headers(headers);
    }
    return http.send(request.build(), HttpResponse.BodyHandlers.ofString());
  }

  private static String scrape(AgentMetrics metrics) throws Exception {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    PrometheusTextFormatWriter.create().write(out, metrics.registry().scrape());
    return out.toString(StandardCharsets.UTF_8);
  }

  @Test
  void withPortScanItAllocatesSkippingWhatTheScanSawAndExportsTheScan() throws Exception {
    PortRange range = FreePorts.range(8);
    PortsGuardian ports =
        start(
            config(
                "--port-scan",
                "true",
                "--port-scan-range",
                range.first() + "-" + range.last(),
                "--port-scan-interval",
                "1"),
            range);
    AgentMetrics metrics = new AgentMetrics("vps-1", false, false);
    ports.metrics().bindTo(metrics);
    assertEquals(List.of(), ports.managementPages());
    URI uri = serve(ports);
    testKit
        .createTestProbe()
        .awaitAssert(
            AWAIT,
            () -> {
              assertTrue(scrape(metrics).contains("\nsigma_ports_in_use 1.0\n"));
              return null;
            });
    HttpResponse<String> answer = post(uri);
    assertEquals(200, answer.statusCode(), answer.body());
    assertEquals(
        "{\"ports\":[" + (range.first() + 1) + "," + (range.first() + 2) + "]}",
        answer.body(),
        "the port the scan saw busy is skipped");
  }

  @Test
  void withoutPortScanTheRouteAnswers503AndThereAreNoSeries() throws Exception {
    PortsGuardian ports = start(config("--port-scan", "false"), FreePorts.range(4));
    AgentMetrics metrics = new AgentMetrics("vps-1", false, false);
    ports.metrics().bindTo(metrics);
    assertFalse(scrape(metrics).contains("sigma_ports"), "no port series");
    assertEquals(503, post(serve(ports)).statusCode());
  }

  @Test
  void aReloadedAllocationTokenAppliesToTheNextRequest() throws Exception {
    PortRange range = FreePorts.range(8);
    AgentConfig open =
        config("--port-scan", "true", "--port-scan-range", range.first() + "-" + range.last());
    AgentConfig locked =
        config(
            "--port-scan",
            "true",
            "--port-scan-range",
            range.first() + "-" + range.last(),
            "--allocate-token",
            "t0ken");
    PortsGuardian ports = start(open, range);
    URI uri = serve(ports);
    assertEquals(200, post(uri).statusCode());
    ports.apply(open, locked);
    assertEquals(401, post(uri).statusCode());
    assertEquals(200, post(uri, "X-Api-Key", "t0ken").statusCode());
    ports.apply(locked, open);
    assertEquals(200, post(uri).statusCode());
  }
}
