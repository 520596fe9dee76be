package io.sigma.agent.ports;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.prometheus.metrics.expositionformats.ExpositionFormats;
import io.sigma.agent.config.PortRange;
import io.sigma.agent.metrics.AgentMetrics;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.BitSet;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The port metrics as client_java writes them, in both exposition formats. */
class PortMetricsTest {
  private static final String OPEN_METRICS = "application/openmetrics-text; version=1.0.0";
  private static final PortRange RANGE = new PortRange(10000, 10009);

  private final AgentMetrics metrics = new AgentMetrics("vps-1", false, false);
  private final LatestPortScan latest = new LatestPortScan();

  PortMetricsTest() {
    PortMetrics.register(metrics, latest);
  }

  private static PortScan scan(
      int inUse, Map<ListenerSource, Integer> counts, Map<String, Integer> other, Duration took) {
    BitSet occupied = new BitSet();
    occupied.set(RANGE.first(), RANGE.first() + inUse);
    return new PortScan(
        RANGE, occupied, new ListenerAttribution(counts, other), Instant.EPOCH, took);
  }

  /** The exposition a scrape with this Accept header gets (text format without one). */
  private String scrape(String accept) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try {
      ExpositionFormats.init().findWriter(accept).write(out, metrics.registry().scrape());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return out.toString(StandardCharsets.UTF_8);
  }

  private static List<String> samples(String exposition, String name) {
    return exposition
        .lines()
        .filter(l -> l.startsWith(name + "{") || l.startsWith(name + " "))
        .toList();
  }

  @Test
  void beforeTheFirstScanThereAreNoSamples() {
    String text = scrape(null);
    for (String name :
        List.of(
            "sigma_ports_total",
            "sigma_ports_available",
            "sigma_ports_in_use",
            "sigma_ports_used",
            "sigma_ports_other_detail",
            "sigma_port_scan_duration_seconds")) {
      assertEquals(List.of(), samples(text, name), name);
    }
  }

  @Test
  void textFormatCarriesTheOriginalNames() {
    latest.set(
        scan(
            3,
            Map.of(ListenerSource.ENVOY, 4, ListenerSource.SSHD, 1, ListenerSource.OTHER, 3),
            Map.of("redis-server", 2, "java", 1),
            Duration.ofMillis(250)));
    String text = scrape(null);
    assertTrue(text.contains("# TYPE sigma_ports_total counter\n"), text);
    assertEquals(List.of("sigma_ports_total 10.0"), samples(text, "sigma_ports_total"));
    assertEquals(List.of("sigma_ports_available 7.0"), samples(text, "sigma_ports_available"));
    assertEquals(List.of("sigma_ports_in_use 3.0"), samples(text, "sigma_ports_in_use"));
    assertEquals(
        List.of(
            "sigma_ports_used{source=\"envoy\"} 4.0",
            "sigma_ports_used{source=\"nginx\"} 0.0",
            "sigma_ports_used{source=\"node_exporter\"} 0.0",
            "sigma_ports_used{source=\"other\"} 3.0",
            "sigma_ports_used{source=\"sshd\"} 1.0",
            "sigma_ports_used{source=\"unknown\"} 0.0",
            "sigma_ports_used{source=\"xray\"} 0.0"),
        samples(text, "sigma_ports_used"));
    assertEquals(
        List.of(
            "sigma_ports_other_detail{process=\"java\"} 1.0",
            "sigma_ports_other_detail{process=\"redis-server\"} 2.0"),
        samples(text, "sigma_ports_other_detail"));
    assertEquals(
        List.of("sigma_port_scan_duration_seconds 0.25"),
        samples(text, "sigma_port_scan_duration_seconds"));
    assertTrue(text.contains("# TYPE sigma_ports_used gauge\n"), text);
  }

  @Test
  void everySourceIsPresentEvenWithNoListenersAtAll() {
    latest.set(scan(0, Map.of(), Map.of(), Duration.ZERO));
    List<String> used = samples(scrape(null), "sigma_ports_used");
    assertEquals(ListenerSource.values().length, used.size());
    for (ListenerSource source : ListenerSource.values()) {
      assertTrue(
          used.contains("sigma_ports_used{source=\"" + source.label() + "\"} 0.0"),
          used.toString());
    }
    assertEquals(List.of(), samples(scrape(null), "sigma_ports_other_detail"));
  }

  @Test
  void openMetricsByContentNegotiation() {
    latest.set(scan(2, Map.of(ListenerSource.XRAY, 2), Map.of(), Duration.ofMillis(5)));
    String om = scrape(OPEN_METRICS);
    assertTrue(om.contains("# TYPE sigma_ports counter\n"), om);
    assertEquals(List.of("sigma_ports_total 10.0"), samples(om, "sigma_ports_total"));
    assertTrue(om.contains("# UNIT sigma_port_scan_duration_seconds seconds\n"), om);
    assertTrue(
        samples(om, "sigma_ports_used").contains("sigma_ports_used{source=\"xray\"} 2.0"), om);
    assertTrue(om.endsWith("# EOF\n"), "OpenMetrics ends with # EOF");
    assertFalse(scrape(null).contains("# EOF"), "the text format has no # EOF");
  }

  @Test
  void eachScrapeReadsTheLatestScan() {
    latest.set(scan(1, Map.of(), Map.of(), Duration.ZERO));
    assertEquals(List.of("sigma_ports_in_use 1.0"), samples(scrape(null), "sigma_ports_in_use"));
    latest.set(scan(6, Map.of(), Map.of(), Duration.ZERO));
    assertEquals(List.of("sigma_ports_in_use 6.0"), samples(scrape(null), "sigma_ports_in_use"));
  }

  @Test
  void oddProcessNamesAreEscapedNotBroken() {
    latest.set(
        scan(0, Map.of(ListenerSource.OTHER, 1), Map.of("we\"ird\\na\nme", 1), Duration.ZERO));
    assertEquals(
        List.of("sigma_ports_other_detail{process=\"we\\\"ird\\\\na\\nme\"} 1.0"),
        samples(scrape(null), "sigma_ports_other_detail"));
  }
}
