package io.sigma.agent.metrics;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.prometheus.metrics.expositionformats.PrometheusTextFormatWriter;
import io.sigma.agent.xds.PollResult;
import io.sigma.agent.xds.RejectedRoute.Reason;
import io.sigma.agent.xds.TypeUrls;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;

class XdsMetricsTest {

  private final AgentMetrics agent = new AgentMetrics("relay-1", false);
  private final XdsMetrics metrics = new XdsMetrics(agent);

  @Test
  void streamsResponsesAcksAndNacksPerNodeAndType() throws Exception {
    metrics.onStreamOpened(1, "edge");
    metrics.onStreamOpened(2, "edge");
    metrics.onStreamOpened(3, "other");
    metrics.onStreamClosed(2, "edge");
    metrics.onResponseSent("edge", TypeUrls.CLUSTER, "3", 10);
    metrics.onResponseSent("edge", TypeUrls.LISTENER, "3", 10);
    metrics.onResponseSent("edge", TypeUrls.CLUSTER, "4", 11);
    metrics.onAck("edge", TypeUrls.CLUSTER, "3");
    metrics.onNack("edge", TypeUrls.CLUSTER, "4", "bad cluster");

    String text = scrape();

    assertLine(text, "sigma_xds_connected_streams{hostname=\"relay-1\",node=\"edge\"} 1.0");
    assertLine(text, "sigma_xds_connected_streams{hostname=\"relay-1\",node=\"other\"} 1.0");
    assertLine(text, "sigma_xds_responses_sent_total{hostname=\"relay-1\",node=\"edge\",type=\"Cluster\"} 2.0");
    assertLine(text, "sigma_xds_responses_sent_total{hostname=\"relay-1\",node=\"edge\",type=\"Listener\"} 1.0");
    assertLine(text, "sigma_xds_acks_total{hostname=\"relay-1\",node=\"edge\",type=\"Cluster\"} 1.0");
    assertLine(text, "sigma_xds_nacks_total{hostname=\"relay-1\",node=\"edge\",type=\"Cluster\"} 1.0");
    assertTrue(text.contains("sigma_xds_last_nack_timestamp_seconds{hostname=\"relay-1\",node=\"edge\",type=\"Cluster\"} 1."),
        text);
  }

  @Test
  void snapshotGaugesFollowTheServedVersionAndGoWithTheNode() throws Exception {
    metrics.onSnapshotServed("edge", 7, 12, Map.of(Reason.PLACEHOLDER, 2, Reason.DUPLICATE_LISTEN_PORT, 1));
    metrics.onSnapshotServed("other", 1, 0, Map.of());
    metrics.onSnapshotServed("edge", 8, 13, Map.of(Reason.PLACEHOLDER, 1));

    String text = scrape();
    assertLine(text, "sigma_xds_snapshot_version{hostname=\"relay-1\",node=\"edge\"} 8.0");
    assertLine(text, "sigma_xds_snapshot_routes{hostname=\"relay-1\",node=\"edge\"} 13.0");
    assertLine(text, "sigma_xds_rejected_routes{hostname=\"relay-1\",node=\"edge\",reason=\"PLACEHOLDER\"} 1.0");
    assertFalse(text.contains("DUPLICATE_LISTEN_PORT"), "reasons of the old version are gone:\n" + text);

    metrics.onNodeRemoved("edge");

    String after = scrape();
    assertFalse(after.contains("node=\"edge\""), after);
    assertLine(after, "sigma_xds_snapshot_version{hostname=\"relay-1\",node=\"other\"} 1.0");
  }

  @Test
  void pollsByResultWithTheirDuration() throws Exception {
    metrics.onPollFinished(PollResult.SUCCESS, Duration.ofMillis(20));
    metrics.onPollFinished(PollResult.SUCCESS, Duration.ofMillis(30));
    metrics.onPollFinished(PollResult.FAILURE, Duration.ofSeconds(2));
    metrics.onRoutesFetchFailed("edge");
    metrics.onNodeRegistration("new", true);

    String text = scrape();
    assertLine(text, "sigma_xds_polls_total{hostname=\"relay-1\",result=\"success\"} 2.0");
    assertLine(text, "sigma_xds_polls_total{hostname=\"relay-1\",result=\"partial\"} 0.0");
    assertLine(text, "sigma_xds_polls_total{hostname=\"relay-1\",result=\"failure\"} 1.0");
    assertLine(text, "sigma_xds_poll_duration_seconds_count{hostname=\"relay-1\"} 3");
    assertLine(text, "sigma_xds_poll_duration_seconds_bucket{hostname=\"relay-1\",le=\"0.05\"} 2");
    assertLine(text, "sigma_xds_routes_fetch_failures_total{hostname=\"relay-1\",node=\"edge\"} 1.0");
    assertLine(text, "sigma_xds_node_registrations_total{hostname=\"relay-1\",result=\"created\"} 1.0");
  }

  private String scrape() throws Exception {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    PrometheusTextFormatWriter.create().write(out, agent.registry().scrape());
    return out.toString(StandardCharsets.UTF_8);
  }

  private static void assertLine(String text, String line) {
    assertTrue(text.lines().anyMatch(l -> l.equals(line)), line + " in\n" + text);
  }
}
