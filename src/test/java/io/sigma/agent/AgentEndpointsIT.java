package io.sigma.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sigma.agent.config.PortRange;
import io.sigma.agent.metrics.Version;
import io.sigma.agent.ports.FreePorts;
import io.sigma.agent.ports.ListenerSource;
import java.io.IOException;
import java.net.ConnectException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A whole agent with every feature of this branch on ({@code --dev --port-scan}, metrics and health
 * endpoints on loopback), scraped and called over real HTTP like Prometheus, sigma-api and Docker's
 * HEALTHCHECK would.
 */
class AgentEndpointsIT {
  private static final String HOSTNAME = "it-endpoints-" + ProcessHandle.current().pid();
  private static final String OPEN_METRICS = "application/openmetrics-text; version=1.0.0";
  private static PortRange range;
  private static Path stateDir;
  private static RunningAgent agent;

  private final ObjectMapper json = new ObjectMapper();

  @BeforeAll
  static void startAgent() throws Exception {
    range = FreePorts.range(40);
    stateDir = Files.createTempDirectory("sigma-agent-it");
    agent =
        RunningAgent.start(
            "--dev",
            "--hostname",
            HOSTNAME,
            "--port-scan",
            "--port-scan-range",
            range.toString(),
            "--port-scan-interval",
            "1",
            "--metrics-port",
            String.valueOf(FreePorts.ephemeral()),
            "--metrics-bind",
            "127.0.0.1",
            "--management-port",
            String.valueOf(FreePorts.ephemeral()),
            "--management-bind",
            "127.0.0.1",
            "--public-ip-lookup=false",
            "--state-dir",
            stateDir.toString(),
            "--interval",
            "1");
    awaitReady();
  }

  @AfterAll
  static void stopAgent() throws Exception {
    if (agent != null) {
      agent.close();
    }
    Files.deleteIfExists(stateDir);
  }

  /** /ready answers 200 once registered and the metrics server is bound. */
  private static void awaitReady() {
    TestProbe<Object> probe = TestProbe.create(agent.system);
    probe.awaitAssert(
        RunningAgent.AWAIT,
        () -> {
          HttpResponse<String> ready = agent.get(agent.management("/ready"));
          assertEquals(200, ready.statusCode(), ready.body());
          // and a scan has completed
          assertTrue(
              agent.get(agent.metrics("/metrics")).body().contains("\nsigma_ports_available "));
          return null;
        });
  }

  @Test
  void aliveAndReadyAnswer200() throws Exception {
    HttpResponse<String> alive = agent.get(agent.management("/alive"));
    assertEquals(200, alive.statusCode());
    assertEquals("OK", alive.body());
    assertEquals(200, agent.get(agent.management("/ready")).statusCode());
  }

  @Test
  void metricsInTheTextFormatCarryThePortSeriesWithoutAHostnameLabel() throws Exception {
    HttpResponse<String> response = agent.get(agent.metrics("/metrics"));
    assertEquals(200, response.statusCode());
    assertTrue(
        response
            .headers()
            .firstValue("Content-Type")
            .orElseThrow()
            .startsWith("text/plain; version=0.0.4"),
        response.headers().toString());
    String text = response.body();
    assertTrue(text.contains("\nsigma_ports_total 40.0\n"), text);
    assertTrue(text.contains("\nsigma_ports_in_use "), text);
    assertTrue(text.contains("\nsigma_ports_available "), text);
    assertTrue(text.contains("\nsigma_port_scan_duration_seconds "), text);
    for (ListenerSource source : ListenerSource.values()) {
      assertTrue(
          text.contains("\nsigma_ports_used{source=\"" + source.label() + "\"} "),
          source + " missing");
    }
    assertTrue(text.contains("\nsigma_agent_registered 1.0\n"), text);
    assertTrue(text.contains("\njvm_memory_used_bytes{"), "JVM metrics");
    // Prometheus's instance label names the agent; --metrics-hostname-label is off by default.
    assertFalse(text.contains("hostname="), text);
    assertFalse(text.contains(HOSTNAME), text);
  }

  @Test
  void buildInfoNamesTheVersionAndTheCommit() throws Exception {
    String text = agent.get(agent.metrics("/metrics")).body();
    Matcher m =
        Pattern.compile(
                "\nsigma_agent_build_info\\{revision=\"([0-9a-f]{7,40})\","
                    + "version=\"(\\d+\\.\\d+\\.\\d+)\"} 1\n")
            .matcher(text);
    assertTrue(m.find(), text);
    assertTrue(GitHead.commit().startsWith(m.group(1)), m.group(1) + " is not HEAD");
    assertEquals(Version.current(), m.group(2));
  }

  @Test
  void theLandingPageNamesTheAgentAndLinksToMetrics() throws Exception {
    HttpResponse<String> page = agent.get(agent.metrics("/"));
    assertEquals(200, page.statusCode(), page.body());
    assertTrue(
        page.headers().firstValue("Content-Type").orElseThrow().startsWith("text/html"),
        page.headers().toString());
    String html = page.body();
    assertTrue(html.contains("<title>sigma-agent</title>"), html);
    assertTrue(html.contains("<a href=\"/metrics\">"), html);
    assertTrue(
        html.contains("Version " + Version.current() + " (commit " + Version.revision() + ")"),
        html);
    assertTrue(Version.revision().matches("[0-9a-f]{7,40}"), Version.revision());
    assertTrue(html.contains("/ports/allocate: POST only"), html);
    assertTrue(html.contains("management port"), html);
    // the page is GET /, nothing else: an unknown path stays a 404
    assertEquals(404, agent.get(agent.metrics("/index.html")).statusCode());
  }

  @Test
  void metricsInOpenMetricsByContentNegotiation() throws Exception {
    HttpResponse<String> response = agent.get(agent.metrics("/metrics"), "Accept", OPEN_METRICS);
    assertEquals(200, response.statusCode());
    assertTrue(
        response
            .headers()
            .firstValue("Content-Type")
            .orElseThrow()
            .startsWith("application/openmetrics-text; version=1.0.0"),
        response.headers().toString());
    String om = response.body();
    assertTrue(om.contains("\n# TYPE sigma_ports counter\n"), om);
    assertTrue(om.contains("\nsigma_ports_total 40.0\n"), om);
    assertTrue(om.contains("\n# UNIT sigma_port_scan_duration_seconds seconds\n"), om);
    assertTrue(om.endsWith("# EOF\n"), "OpenMetrics ends with # EOF");
  }

  /** promtool lints the Prometheus text format (it has no OpenMetrics parser). */
  @Test
  void promtoolAcceptsTheWholeExposition() throws Exception {
    assumeTrue(onPath("promtool"), "promtool is not installed (Debian package 'prometheus')");
    String text = agent.get(agent.metrics("/metrics")).body();
    Process promtool =
        new ProcessBuilder("promtool", "check", "metrics").redirectErrorStream(true).start();
    try (var stdin = promtool.getOutputStream()) {
      stdin.write(text.getBytes(StandardCharsets.UTF_8));
    }
    assertTrue(promtool.waitFor(RunningAgent.AWAIT.toSeconds(), TimeUnit.SECONDS));
    String output = new String(promtool.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertEquals(0, promtool.exitValue(), "promtool check metrics: " + output);
  }

  @Test
  void allocatesPortsOfTheScanRange() throws Exception {
    HttpResponse<String> response = agent.post(agent.metrics("/ports/allocate"), "{\"count\": 4}");
    assertEquals(200, response.statusCode(), response.body());
    JsonNode ports = json.readTree(response.body()).get("ports");
    assertEquals(4, ports.size());
    ports.forEach(p -> assertTrue(range.contains(p.intValue()), p + " outside " + range));
    assertEquals(
        409, agent.post(agent.metrics("/ports/allocate"), "{\"count\": 1000}").statusCode());
    assertEquals(
        400, agent.post(agent.metrics("/ports/allocate"), "{\"count\": \"4\"}").statusCode());
  }

  @Test
  void endpointsAnswerOnlyOnTheirBindAddress() throws Exception {
    // 127.0.0.2 is this machine too: a listener on every address answers there...
    InetAddress other = InetAddress.getByName("127.0.0.2");
    try (var anyAddress = new java.net.ServerSocket(0, 1, InetAddress.getByName("0.0.0.0"))) {
      assumeTrue(connects(other, anyAddress.getLocalPort()), "127.0.0.2 is not local here");
    }
    // ...while the endpoints bound to 127.0.0.1 refuse it.
    for (int port : List.of(agent.config.metricsPort(), agent.config.managementPort())) {
      assertTrue(connects(InetAddress.getLoopbackAddress(), port), "127.0.0.1:" + port);
      assertThrows(ConnectException.class, () -> connect(other, port), "127.0.0.2:" + port);
    }
  }

  private static boolean connects(InetAddress address, int port) throws IOException {
    connect(address, port);
    return true;
  }

  private static void connect(InetAddress address, int port) throws IOException {
    try (Socket socket = new Socket()) {
      socket.connect(new InetSocketAddress(address, port), 5000);
    }
  }

  private static boolean onPath(String command) {
    String path = System.getenv().getOrDefault("PATH", "");
    for (String dir : path.split(java.io.File.pathSeparator)) {
      if (!dir.isEmpty() && Files.isExecutable(Path.of(dir, command))) {
        return true;
      }
    }
    return false;
  }
}
