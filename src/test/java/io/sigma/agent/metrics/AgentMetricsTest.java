package io.sigma.agent.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.prometheus.metrics.expositionformats.PrometheusTextFormatWriter;
import io.sigma.agent.fleet.FleetMetrics;
import io.sigma.agent.fleet.FleetStatus;
import io.sigma.agent.fleet.FleetStatusEvents;
import io.sigma.agent.ports.LatestPortScan;
import io.sigma.agent.ports.PortMetrics;
import io.sigma.agent.xds.PollResult;
import io.sigma.agent.xds.XdsMetrics;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import org.junit.jupiter.api.Test;

class AgentMetricsTest {

  private static String scrape(AgentMetrics metrics) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    PrometheusTextFormatWriter.create().write(out, metrics.registry().scrape());
    return out.toString(StandardCharsets.UTF_8);
  }

  private static List<String> sigmaSamples(String text) {
    return text.lines().filter(line -> line.startsWith("sigma_")).toList();
  }

  /** Every kind of sigma_* series: build info, fleet, xDS (port metrics need a scan). */
  private static AgentMetrics withSeries(AgentMetrics metrics) {
    FleetStatus fleet = new FleetStatus(Clock.systemUTC());
    FleetMetrics.register(metrics, fleet);
    FleetStatusEvents.heartbeatSucceeded(fleet);
    PortMetrics.register(metrics, new LatestPortScan());
    XdsMetrics xds = new XdsMetrics(metrics);
    xds.onStreamOpened(1, "edge");
    xds.onPollFinished(PollResult.SUCCESS, Duration.ofMillis(5));
    return metrics;
  }

  @Test
  void noSeriesCarriesAHostnameLabelByDefault() throws IOException {
    List<String> samples =
        sigmaSamples(scrape(withSeries(new AgentMetrics("vps-1", false, false))));
    assertTrue(samples.size() > 10, samples.toString());
    for (String sample : samples) {
      assertFalse(sample.contains("hostname=") || sample.contains("vps-1"), sample);
    }
  }

  @Test
  void theHostnameLabelIsOnEverySigmaSeriesWhenAskedFor() throws IOException {
    List<String> samples = sigmaSamples(scrape(withSeries(new AgentMetrics("vps-1", true, false))));
    assertTrue(samples.size() > 10, samples.toString());
    for (String sample : samples) {
      assertTrue(sample.contains("hostname=\"vps-1\""), sample);
    }
    assertTrue(
        samples.contains("sigma_xds_connected_streams{hostname=\"vps-1\",node=\"edge\"} 1.0"),
        samples.toString());
  }

  @Test
  void buildInfoIsOneWithTheVersionAndRevision() throws IOException {
    String text = scrape(new AgentMetrics("vps-1", false, false));
    assertTrue(text.contains("# TYPE sigma_agent_build_info gauge\n"), text);
    assertTrue(
        sigmaSamples(text)
            .contains(
                "sigma_agent_build_info{revision=\""
                    + Version.revision()
                    + "\",version=\""
                    + Version.current()
                    + "\"} 1"),
        text);
  }

  @Test
  void theLastHeartbeatIsATimestampNotAnAge() throws IOException {
    Instant at = Instant.parse("2026-01-02T03:04:05.250Z");
    FleetStatus fleet = new FleetStatus(Clock.fixed(at, ZoneOffset.UTC));
    AgentMetrics metrics = new AgentMetrics("vps-1", false, false);
    FleetMetrics.register(metrics, fleet);
    assertFalse(
        scrape(metrics).contains("\nsigma_agent_last_heartbeat_timestamp_seconds "),
        "absent before the first successful heartbeat");
    FleetStatusEvents.heartbeatSucceeded(fleet);
    List<String> samples = sigmaSamples(scrape(metrics));
    assertTrue(
        samples.contains(
            "sigma_agent_last_heartbeat_timestamp_seconds " + (at.toEpochMilli() / 1000.0)),
        samples.toString());
    assertEquals(List.of(), samples.stream().filter(s -> s.contains("seconds_since")).toList());
  }
}
