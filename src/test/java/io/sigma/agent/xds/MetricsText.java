package io.sigma.agent.xds;

import io.prometheus.metrics.expositionformats.PrometheusTextFormatWriter;
import io.sigma.agent.metrics.AgentMetrics;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;

/** The agent's metrics as the Prometheus text format a scrape returns. */
final class MetricsText {
  private MetricsText() {}

  static String scrape(AgentMetrics metrics) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try {
      PrometheusTextFormatWriter.create().write(out, metrics.registry().scrape());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return out.toString(StandardCharsets.UTF_8);
  }
}
