package io.sigma.agent.xds;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.prometheus.metrics.expositionformats.PrometheusTextFormatWriter;
import io.sigma.agent.metrics.AgentMetrics;
import io.sigma.agent.xds.RejectedRoute.Reason;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.UUID;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

class XdsMetricsTest {

  private final AgentMetrics agent = new AgentMetrics("relay-1", false, false);
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

    assertLine(text, "sigma_xds_connected_streams{node=\"edge\"} 1.0");
    assertLine(text, "sigma_xds_connected_streams{node=\"other\"} 1.0");
    assertLine(text, "sigma_xds_responses_sent_total{node=\"edge\",type=\"Cluster\"} 2.0");
    assertLine(text, "sigma_xds_responses_sent_total{node=\"edge\",type=\"Listener\"} 1.0");
    assertLine(text, "sigma_xds_acks_total{node=\"edge\",type=\"Cluster\"} 1.0");
    assertLine(text, "sigma_xds_nacks_total{node=\"edge\",type=\"Cluster\"} 1.0");
    assertTrue(
        text.contains("sigma_xds_last_nack_timestamp_seconds{node=\"edge\",type=\"Cluster\"} 1."),
        text);
  }

  @Test
  void snapshotGaugesFollowTheServedVersionAndGoWithTheNode() throws Exception {
    metrics.onSnapshotServed(
        "edge", 7, 12, Map.of(Reason.PLACEHOLDER, 2, Reason.DUPLICATE_LISTEN_PORT, 1));
    metrics.onSnapshotServed("other", 1, 0, Map.of());
    metrics.onSnapshotServed("edge", 8, 13, Map.of(Reason.PLACEHOLDER, 1));

    String text = scrape();
    assertLine(text, "sigma_xds_snapshot_version{node=\"edge\"} 8.0");
    assertLine(text, "sigma_xds_snapshot_routes{node=\"edge\"} 13.0");
    assertLine(text, "sigma_xds_rejected_routes{node=\"edge\",reason=\"PLACEHOLDER\"} 1.0");
    assertFalse(
        text.contains("DUPLICATE_LISTEN_PORT"), "reasons of the old version are gone:\n" + text);

    metrics.onNodeRemoved("edge");

    String after = scrape();
    assertFalse(after.contains("node=\"edge\""), after);
    assertLine(after, "sigma_xds_snapshot_version{node=\"other\"} 1.0");
  }

  @Test
  void pollsByResultWithTheirDuration() throws Exception {
    metrics.onPollFinished(PollResult.SUCCESS, Duration.ofMillis(20));
    metrics.onPollFinished(PollResult.SUCCESS, Duration.ofMillis(30));
    metrics.onPollFinished(PollResult.FAILURE, Duration.ofSeconds(2));
    metrics.onSnapshotServed("edge", 1, 0, Map.of());
    metrics.onRoutesFetchFailed("edge");
    metrics.onRoutesFetchFailed("never-served");
    metrics.onNodeRegistration("new", true);

    String text = scrape();
    assertLine(text, "sigma_xds_polls_total{result=\"success\"} 2.0");
    assertLine(text, "sigma_xds_polls_total{result=\"partial\"} 0.0");
    assertLine(text, "sigma_xds_polls_total{result=\"failure\"} 1.0");
    assertLine(text, "sigma_xds_poll_duration_seconds_count 3");
    assertLine(text, "sigma_xds_poll_duration_seconds_bucket{le=\"0.05\"} 2");
    assertLine(text, "sigma_xds_routes_fetch_failures_total{node=\"edge\"} 1.0");
    assertLine(text, "sigma_xds_routes_fetch_failures_total{node=\"_other\"} 1.0");
    assertLine(text, "sigma_xds_node_registrations_total{result=\"created\"} 1.0");
  }

  @Test
  void tenThousandRandomNodeIdsConnectingAndLeavingLeaveNoSeries() throws Exception {
    for (int i = 0; i < 10_000; i++) {
      String node = UUID.randomUUID().toString();
      metrics.onStreamOpened(i, node);
      metrics.onResponseSent(node, TypeUrls.CLUSTER, "1", 1);
      metrics.onAck(node, TypeUrls.CLUSTER, "1");
      metrics.onNack(node, TypeUrls.LISTENER, "1", "bad");
      metrics.onStreamClosed(i, node);
    }

    String text = scrape();
    assertEquals(Set.of(), nodeLabelValues(text), text);
  }

  @Test
  void tenThousandNodeIdsConnectedAtOnceShareTheOtherLabelBeyondTheLimit() throws Exception {
    List<String> nodes = new ArrayList<>();
    for (int i = 0; i < 10_000; i++) {
      String node = UUID.randomUUID().toString();
      nodes.add(node);
      metrics.onStreamOpened(i, node);
      metrics.onResponseSent(node, TypeUrls.CLUSTER, "1", 1);
      metrics.onNack(node, TypeUrls.CLUSTER, "1", "bad");
    }

    String text = scrape();
    Set<String> values = nodeLabelValues(text);
    assertEquals(XdsMetrics.NODE_LABEL_LIMIT + 1, values.size(), "64 nodes and _other");
    assertTrue(values.contains("_other"));
    int others = 10_000 - XdsMetrics.NODE_LABEL_LIMIT;
    assertLine(text, "sigma_xds_connected_streams{node=\"_other\"} " + others + ".0");
    assertLine(text, "sigma_xds_nacks_total{node=\"_other\",type=\"Cluster\"} " + others + ".0");
    assertLine(text, "sigma_xds_other_nodes " + others + ".0");
    assertTrue(text.length() < 64 * 1024, "a scrape stays small: " + text.length() + " bytes");

    for (int i = 0; i < nodes.size(); i++) {
      metrics.onStreamClosed(i, nodes.get(i));
    }
    String after = scrape();
    assertEquals(Set.of("_other"), nodeLabelValues(after), after);
    assertLine(after, "sigma_xds_connected_streams{node=\"_other\"} 0.0");
    assertLine(after, "sigma_xds_other_nodes 0.0");
  }

  @Test
  void aNodeCountedUnderOtherGetsItsOwnSeriesWhenAValueIsFree() throws Exception {
    for (int i = 0; i < XdsMetrics.NODE_LABEL_LIMIT; i++) {
      metrics.onStreamOpened(i, "hostile-" + i);
    }
    metrics.onStreamOpened(100, "edge");
    metrics.onStreamOpened(101, "edge");
    metrics.onSnapshotServed("edge", 3, 1, Map.of());
    String full = scrape();
    assertFalse(full.contains("node=\"edge\""), full);
    assertFalse(full.contains("sigma_xds_snapshot_version{node=\"_other\""), full);
    assertLine(full, "sigma_xds_connected_streams{node=\"_other\"} 2.0");

    metrics.onStreamClosed(0, "hostile-0");
    metrics.onResponseSent("edge", TypeUrls.CLUSTER, "3", 1);
    metrics.onSnapshotServed("edge", 4, 2, Map.of());

    String text = scrape();
    assertLine(text, "sigma_xds_connected_streams{node=\"edge\"} 2.0");
    assertLine(text, "sigma_xds_connected_streams{node=\"_other\"} 0.0");
    assertLine(text, "sigma_xds_responses_sent_total{node=\"edge\",type=\"Cluster\"} 1.0");
    assertLine(text, "sigma_xds_snapshot_version{node=\"edge\"} 4.0");
    assertFalse(text.contains("node=\"hostile-0\""), text);
  }

  @Test
  void aRemovedNodeKeepsItsStreamSeriesOnlyWhileItsEnvoysAreConnected() throws Exception {
    metrics.onSnapshotServed("edge", 7, 2, Map.of(Reason.PLACEHOLDER, 1));
    metrics.onStreamOpened(1, "edge");
    metrics.onResponseSent("edge", TypeUrls.CLUSTER, "7", 2);
    metrics.onRoutesFetchFailed("edge");

    metrics.onNodeRemoved("edge");

    String removed = scrape();
    assertLine(removed, "sigma_xds_connected_streams{node=\"edge\"} 1.0");
    assertLine(removed, "sigma_xds_responses_sent_total{node=\"edge\",type=\"Cluster\"} 1.0");
    assertFalse(removed.contains("sigma_xds_snapshot_version{node=\"edge\""), removed);
    assertFalse(removed.contains("sigma_xds_rejected_routes{node=\"edge\""), removed);
    assertFalse(removed.contains("sigma_xds_routes_fetch_failures_total{node=\"edge\""), removed);

    metrics.onStreamClosed(1, "edge");

    String gone = scrape();
    assertFalse(gone.contains("node=\"edge\""), gone);
  }

  @Test
  void aServedNodeKeepsItsSeriesWhenItsLastStreamCloses() throws Exception {
    metrics.onSnapshotServed("edge", 7, 2, Map.of());
    metrics.onStreamOpened(1, "edge");
    metrics.onAck("edge", TypeUrls.CLUSTER, "7");
    metrics.onStreamClosed(1, "edge");

    String text = scrape();
    assertLine(text, "sigma_xds_connected_streams{node=\"edge\"} 0.0");
    assertLine(text, "sigma_xds_acks_total{node=\"edge\",type=\"Cluster\"} 1.0");
    assertLine(text, "sigma_xds_snapshot_version{node=\"edge\"} 7.0");
  }

  @Test
  void aVeryLongNodeIdOrOneNamedOtherCountsUnderOther() throws Exception {
    String longId = "n".repeat(XdsMetrics.NODE_LABEL_MAX_CHARS + 1);
    metrics.onStreamOpened(1, longId);
    metrics.onStreamOpened(2, "_other");
    metrics.onStreamClosed(2, "_other");

    String text = scrape();
    assertEquals(Set.of("_other"), nodeLabelValues(text), text);
    assertLine(text, "sigma_xds_connected_streams{node=\"_other\"} 1.0");
  }

  private static Set<String> nodeLabelValues(String text) {
    Set<String> values = new TreeSet<>();
    Pattern node = Pattern.compile("node=\"([^\"]*)\"");
    text.lines()
        .filter(line -> !line.startsWith("#"))
        .forEach(
            line -> {
              Matcher matcher = node.matcher(line);
              if (matcher.find()) {
                values.add(matcher.group(1));
              }
            });
    return values;
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
