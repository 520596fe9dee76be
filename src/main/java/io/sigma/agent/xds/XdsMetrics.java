package io.sigma.agent.xds;

import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.Gauge;
import io.prometheus.metrics.core.metrics.Histogram;
import io.sigma.agent.metrics.AgentMetrics;
import java.time.Duration;
import java.util.Map;

/**
 * The xDS control plane's metrics, on the agent's registry: the ADS streams' protocol (as {@link
 * XdsEvents}) and the config source (as {@link PollerEvents}). Every series carries {@link
 * AgentMetrics#constLabels}; per-node series a {@code node} label (the Envoy node.id), per-type
 * series a {@code type} label (Cluster, Listener, or the short name of another requested type).
 *
 * <p>Per-node series are bounded, since a client picks its node.id: at most {@link
 * #NODE_LABEL_LIMIT} node label values at a time (see {@link NodeLabels}); other nodes count under
 * {@code node="_other"}. A node's series go when it has neither an open stream nor a served
 * snapshot (its last stream closed and sigma-api does not list it, or it was removed).
 *
 * <p>Thread-safe: streams call it concurrently; per-node updates hold one lock so that a node's
 * series are never re-created by an update racing with their removal.
 */
public final class XdsMetrics implements XdsEvents, PollerEvents {

  /**
   * Node label values at a time. An agent serves the Envoys of one VPS (a handful of node.ids); 64
   * leaves room for many while a node has ~15 series, so the worst case stays ~1,000 series (~100
   * KB a scrape) however many node.ids clients invent.
   */
  public static final int NODE_LABEL_LIMIT = 64;

  /** node.ids longer than this count under {@code _other} (a label value is in every scrape). */
  public static final int NODE_LABEL_MAX_CHARS = 128;

  private static final String NODE = "node";
  private static final String TYPE = "type";

  private final Gauge connectedStreams;
  private final Counter responses;
  private final Counter acks;
  private final Counter nacks;
  private final Gauge lastNack;
  private final Gauge snapshotVersion;
  private final Gauge snapshotRoutes;
  private final Gauge rejectedRoutes;
  private final Counter polls;
  private final Histogram pollDuration;
  private final Counter routesFetchFailures;
  private final Counter nodeRegistrations;
  private final Gauge otherNodes;
  private final NodeLabels labels = new NodeLabels(NODE_LABEL_LIMIT, NODE_LABEL_MAX_CHARS);
  private final Object lock = new Object();

  public XdsMetrics(AgentMetrics metrics) {
    var registry = metrics.registry();
    var constLabels = metrics.constLabels();
    connectedStreams =
        Gauge.builder()
            .name("sigma_xds_connected_streams")
            .help("ADS streams connected now, by Envoy node.id")
            .constLabels(constLabels)
            .labelNames(NODE)
            .register(registry);
    responses =
        Counter.builder()
            .name("sigma_xds_responses_sent")
            .help("DiscoveryResponses sent to Envoys, by node.id and resource type")
            .constLabels(constLabels)
            .labelNames(NODE, TYPE)
            .register(registry);
    acks =
        Counter.builder()
            .name("sigma_xds_acks")
            .help("Responses Envoys accepted (ACK), by node.id and resource type")
            .constLabels(constLabels)
            .labelNames(NODE, TYPE)
            .register(registry);
    nacks =
        Counter.builder()
            .name("sigma_xds_nacks")
            .help("Responses Envoys rejected (NACK), by node.id and resource type")
            .constLabels(constLabels)
            .labelNames(NODE, TYPE)
            .register(registry);
    lastNack =
        Gauge.builder()
            .name("sigma_xds_last_nack_timestamp_seconds")
            .help(
                "When an Envoy last rejected (NACK) a response, by node.id and resource type (Unix time)")
            .constLabels(constLabels)
            .labelNames(NODE, TYPE)
            .register(registry);
    snapshotVersion =
        Gauge.builder()
            .name("sigma_xds_snapshot_version")
            .help("The config_version served to each Envoy node.id")
            .constLabels(constLabels)
            .labelNames(NODE)
            .register(registry);
    snapshotRoutes =
        Gauge.builder()
            .name("sigma_xds_snapshot_routes")
            .help("Routes that made resources in the served snapshot, by node.id")
            .constLabels(constLabels)
            .labelNames(NODE)
            .register(registry);
    rejectedRoutes =
        Gauge.builder()
            .name("sigma_xds_rejected_routes")
            .help("Routes of the served config that made no resources, by node.id and reason")
            .constLabels(constLabels)
            .labelNames(NODE, "reason")
            .register(registry);
    polls =
        Counter.builder()
            .name("sigma_xds_polls")
            .help(
                "Polls of sigma-api for Envoy config, by result (success, partial: some node's routes "
                    + "failed, failure: the node listing failed)")
            .constLabels(constLabels)
            .labelNames("result")
            .register(registry);
    pollDuration =
        Histogram.builder()
            .name("sigma_xds_poll_duration_seconds")
            .help("Duration of polls of sigma-api for Envoy config (listing and routes fetches)")
            .classicOnly()
            .classicUpperBounds(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60)
            .constLabels(constLabels)
            .register(registry);
    routesFetchFailures =
        Counter.builder()
            .name("sigma_xds_routes_fetch_failures")
            .help("Failed fetches of an Envoy node's routes (its last snapshot stays), by node.id")
            .constLabels(constLabels)
            .labelNames(NODE)
            .register(registry);
    nodeRegistrations =
        Counter.builder()
            .name("sigma_xds_node_registrations")
            .help("Unknown Envoy node.ids registered with sigma-api, by result")
            .constLabels(constLabels)
            .labelNames("result")
            .register(registry);
    otherNodes =
        Gauge.builder()
            .name("sigma_xds_other_nodes")
            .help(
                "Envoy node.ids with an open stream or a served snapshot whose series are counted under "
                    + "node=\"_other\" (beyond "
                    + NODE_LABEL_LIMIT
                    + " node label values, or an id over "
                    + NODE_LABEL_MAX_CHARS
                    + " characters)")
            .constLabels(constLabels)
            .register(registry);
    otherNodes.set(0);
    for (PollResult result : PollResult.values()) {
      polls.initLabelValues(result.label());
    }
  }

  // ------------------------------------------------------------------ ADS streams

  @Override
  public void onStreamOpened(long streamId, String nodeId) {
    synchronized (lock) {
      connectedStreams.labelValues(label(labels.streamOpened(nodeId))).inc();
      updateOtherNodes();
    }
  }

  @Override
  public void onStreamClosed(long streamId, String nodeId) {
    synchronized (lock) {
      NodeLabels.Label label = labels.streamClosed(nodeId);
      if (label == null) {
        return;
      }
      connectedStreams.labelValues(label(label)).dec();
      if (label.own() && !labels.isTracked(nodeId)) {
        removeSeriesOf(nodeId);
      }
      updateOtherNodes();
    }
  }

  @Override
  public void onResponseSent(String nodeId, String typeUrl, String version, int resourceCount) {
    synchronized (lock) {
      responses.labelValues(label(labels.of(nodeId)), TypeUrls.shortName(typeUrl)).inc();
    }
  }

  @Override
  public void onAck(String nodeId, String typeUrl, String version) {
    synchronized (lock) {
      acks.labelValues(label(labels.of(nodeId)), TypeUrls.shortName(typeUrl)).inc();
    }
  }

  @Override
  public void onNack(String nodeId, String typeUrl, String version, String message) {
    String type = TypeUrls.shortName(typeUrl);
    synchronized (lock) {
      String node = label(labels.of(nodeId));
      nacks.labelValues(node, type).inc();
      lastNack.labelValues(node, type).set(System.currentTimeMillis() / 1000.0);
    }
  }

  // ------------------------------------------------------------------ config source

  @Override
  public void onPollFinished(PollResult result, Duration duration) {
    polls.labelValues(result.label()).inc();
    pollDuration.observe(duration.toNanos() / 1e9);
  }

  @Override
  public void onSnapshotServed(
      String nodeId, long version, int routeCount, Map<RejectedRoute.Reason, Integer> rejected) {
    synchronized (lock) {
      NodeLabels.Label label = labels.served(nodeId);
      label(label);
      updateOtherNodes();
      if (!label.own()) {
        return; // a version or a route count summed over several nodes means nothing
      }
      snapshotVersion.labelValues(nodeId).set(version);
      snapshotRoutes.labelValues(nodeId).set(routeCount);
      rejectedRoutes.removeIf(values -> values.get(0).equals(nodeId));
      rejected.forEach(
          (reason, count) -> rejectedRoutes.labelValues(nodeId, reason.name()).set(count));
    }
  }

  @Override
  public void onNodeRemoved(String nodeId) {
    synchronized (lock) {
      NodeLabels.Label label = labels.removed(nodeId);
      if (label == null || !label.own()) {
        updateOtherNodes();
        return;
      }
      if (labels.isTracked(nodeId)) {
        // Envoys of the node are still connected: their stream series stay until they go.
        snapshotVersion.remove(nodeId);
        snapshotRoutes.remove(nodeId);
        rejectedRoutes.removeIf(values -> values.get(0).equals(nodeId));
        routesFetchFailures.remove(nodeId);
      } else {
        removeSeriesOf(nodeId);
      }
      updateOtherNodes();
    }
  }

  @Override
  public void onRoutesFetchFailed(String nodeId) {
    synchronized (lock) {
      routesFetchFailures.labelValues(label(labels.of(nodeId))).inc();
    }
  }

  @Override
  public void onNodeRegistration(String nodeId, boolean created) {
    nodeRegistrations.labelValues(created ? "created" : "failed").inc();
  }

  // ------------------------------------------------------------------ node label values (under
  // lock)

  /** The label value to use, after moving the connected streams of a node that just got its own. */
  private String label(NodeLabels.Label label) {
    if (label.movedStreams() > 0) {
      connectedStreams.labelValues(NodeLabels.OTHER).dec(label.movedStreams());
      connectedStreams.labelValues(label.value()).inc(label.movedStreams());
    }
    return label.value();
  }

  private void removeSeriesOf(String nodeId) {
    connectedStreams.remove(nodeId);
    responses.removeIf(values -> values.get(0).equals(nodeId));
    acks.removeIf(values -> values.get(0).equals(nodeId));
    nacks.removeIf(values -> values.get(0).equals(nodeId));
    lastNack.removeIf(values -> values.get(0).equals(nodeId));
    snapshotVersion.remove(nodeId);
    snapshotRoutes.remove(nodeId);
    rejectedRoutes.removeIf(values -> values.get(0).equals(nodeId));
    routesFetchFailures.remove(nodeId);
  }

  private void updateOtherNodes() {
    otherNodes.set(labels.otherNodes());
  }
}
