package io.sigma.agent.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sigma.agent.AgentGuardian;
import io.sigma.agent.AgentRuntime;
import io.sigma.agent.config.AgentConfig;
import io.sigma.agent.config.ConfigLoader;
import io.sigma.agent.metrics.ExportedMetrics.Family;
import io.sigma.agent.ports.FreePorts;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorSystem;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A whole agent as Main starts it, with every feature on (--dev, --port-scan, --xds-enabled): each
 * metric family its /metrics shows is in docs/metrics.md with the same row. This catches a metric
 * registered where {@link ExportedMetrics} does not look (e.g. by AgentGuardian itself).
 */
class MetricsDocIT {
  private static final Duration AWAIT = Duration.ofSeconds(30);

  @TempDir Path stateDir;

  @Test
  void everyMetricOfARunningAgentIsDocumented() throws Exception {
    int metricsPort = FreePorts.ephemeral();
    ConfigLoader.Outcome outcome =
        ConfigLoader.load(
            new String[] {
              "--dev",
              "--hostname",
              "it-metrics-doc",
              "--interval",
              "1",
              "--public-ip-lookup=false",
              "--port-scan",
              "--port-scan-range",
              FreePorts.range(20).toString(),
              "--port-scan-interval",
              "1",
              "--xds-enabled",
              "--envoy-config-sync",
              "--envoy-config-path",
              "examples/envoy/envoy.yaml",
              "--xds-bind",
              "127.0.0.1",
              "--xds-port",
              String.valueOf(FreePorts.ephemeral()),
              "--xds-poll-interval",
              "1",
              "--metrics-bind",
              "127.0.0.1",
              "--metrics-port",
              String.valueOf(metricsPort),
              "--management-port",
              "0",
              "--state-dir",
              stateDir.toString()
            },
            Map.of(),
            "it");
    AgentConfig config = ((ConfigLoader.Outcome.Run) outcome).config();
    ActorSystem<AgentGuardian.Command> system =
        ActorSystem.create(
            AgentGuardian.create(config), "metrics-doc-it", AgentRuntime.pekkoConfig(config));
    try {
      HttpClient http = HttpClient.newBuilder().connectTimeout(AWAIT).build();
      HttpRequest scrape =
          HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + metricsPort + "/metrics"))
              .timeout(AWAIT)
              .GET()
              .build();
      // registered, heartbeating, scanned, and serving the dev API's seeded Envoy node
      String exposition =
          TestProbe.create(system)
              .awaitAssert(
                  AWAIT,
                  () -> {
                    String body = http.send(scrape, HttpResponse.BodyHandlers.ofString()).body();
                    for (String series :
                        List.of(
                            "\nsigma_agent_last_heartbeat_timestamp_seconds ",
                            "\nsigma_ports_available ",
                            "sigma_xds_snapshot_version{",
                            "jvm_memory_used_bytes{")) {
                      assertTrue(body.contains(series), series + " not yet in\n" + body);
                    }
                    return body;
                  });

      List<String> documented = documentedRows();
      List<String> problems = new ArrayList<>();
      for (Family family : ExportedMetrics.families(exposition)) {
        String row = MetricsDocTest.row(family);
        if (!documented.contains(row)) {
          problems.add(
              documented.stream().anyMatch(line -> line.startsWith("| `" + family.name() + "` "))
                  ? "differs from docs/metrics.md: " + row
                  : "missing from docs/metrics.md: " + row);
        }
      }
      assertEquals(List.of(), problems, "the running agent's /metrics against docs/metrics.md");
    } finally {
      system.terminate();
      system.getWhenTerminated().toCompletableFuture().get(AWAIT.toSeconds(), TimeUnit.SECONDS);
    }
  }

  private static List<String> documentedRows() throws Exception {
    String doc = Files.readString(MetricsDocTest.DOC, StandardCharsets.UTF_8);
    return doc.substring(doc.indexOf(MetricsDocTest.BEGIN), doc.indexOf(MetricsDocTest.END))
        .lines()
        .toList();
  }
}
