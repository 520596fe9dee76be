package io.sigma.agent.metrics;

import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.Gauge;
import io.prometheus.metrics.core.metrics.Histogram;
import io.sigma.agent.xds.PollResult;
import io.sigma.agent.xds.PollerEvents;
import io.sigma.agent.xds.RejectedRoute;
import io.sigma.agent.xds.TypeUrls;
import io.sigma.agent.xds.XdsEvents;
import java.time.Duration;
import java.util.Map;

/**
 * The xDS control plane's metrics, on the agent's registry: the ADS streams' protocol (as
 * {@link XdsEvents}) and the config source (as {@link PollerEvents}). Every series carries the
 * {@code hostname} label; per-node series a {@code node} label (the Envoy node.id), per-type series
 * a {@code type} label (Cluster, Listener, or the short name of another requested type).
 *
 * <p>Thread-safe (client_java's metrics are): streams call it concurrently.
 */
public final class XdsMetrics implements XdsEvents, PollerEvents {

  private static final String NODE = "node";
  private static final String TYPE = "type";

  private final String host;
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

  public XdsMetrics(AgentMetrics metrics) {
    this.host = metrics.hostname();
    String h = AgentMetrics.HOSTNAME_LABEL;
    var registry = metrics.registry();
    connectedStreams = Gauge.builder().name("sigma_xds_connected_streams")
        .help("ADS streams connected now, by Envoy node.id")
        .labelNames(h, NODE).register(registry);
    responses = Counter.builder().name("sigma_xds_responses_sent")
        .help("DiscoveryResponses sent to Envoys, by node.id and resource type")
        .labelNames(h, NODE, TYPE).register(registry);
    acks = Counter.builder().name("sigma_xds_acks")
        .help("Responses Envoys accepted (ACK), by node.id and resource type")
        .labelNames(h, NODE, TYPE).register(registry);
    nacks = Counter.builder().name("sigma_xds_nacks")
        .help("Responses Envoys rejected (NACK), by node.id and resource type")
        .labelNames(h, NODE, TYPE).register(registry);
    lastNack = Gauge.builder().name("sigma_xds_last_nack_timestamp_seconds")
        .help("When an Envoy last rejected (NACK) a response, by node.id and resource type (Unix time)")
        .labelNames(h, NODE, TYPE).register(registry);
    snapshotVersion = Gauge.builder().name("sigma_xds_snapshot_version")
        .help("The config_version served to each Envoy node.id")
        .labelNames(h, NODE).register(registry);
    snapshotRoutes = Gauge.builder().name("sigma_xds_snapshot_routes")
        .help("Routes that made resources in the served snapshot, by node.id")
        .labelNames(h, NODE).register(registry);
    rejectedRoutes = Gauge.builder().name("sigma_xds_rejected_routes")
        .help("Routes of the served config that made no resources, by node.id and reason")
        .labelNames(h, NODE, "reason").register(registry);
    polls = Counter.builder().name("sigma_xds_polls")
        .help("Polls of sigma-api for Envoy config, by result (success, partial: some node's routes "
            + "failed, failure: the node listing failed)")
        .labelNames(h, "result").register(registry);
    pollDuration = Histogram.builder().name("sigma_xds_poll_duration_seconds")
        .help("Duration of polls of sigma-api for Envoy config (listing and routes fetches)")
        .classicOnly()
        .classicUpperBounds(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60)
        .labelNames(h).register(registry);
    routesFetchFailures = Counter.builder().name("sigma_xds_routes_fetch_failures")
        .help("Failed fetches of an Envoy node's routes (its last snapshot stays), by node.id")
        .labelNames(h, NODE).register(registry);
    nodeRegistrations = Counter.builder().name("sigma_xds_node_registrations")
        .help("Unknown Envoy node.ids registered with sigma-api, by result")
        .labelNames(h, "result").register(registry);
    for (PollResult result : PollResult.values()) {
      polls.initLabelValues(host, result.label());
    }
  }

  // ------------------------------------------------------------------ ADS streams

  @Override
  public void onStreamOpened(long streamId, String nodeId) {
    connectedStreams.labelValues(host, nodeId).inc();
  }

  @Override
  public void onStreamClosed(long streamId, String nodeId) {
    connectedStreams.labelValues(host, nodeId).dec();
  }

  @Override
  public void onResponseSent(String nodeId, String typeUrl, String version, int resourceCount) {
    responses.labelValues(host, nodeId, TypeUrls.shortName(typeUrl)).inc();
  }

  @Override
  public void onAck(String nodeId, String typeUrl, String version) {
    acks.labelValues(host, nodeId, TypeUrls.shortName(typeUrl)).inc();
  }

  @Override
  public void onNack(String nodeId, String typeUrl, String version, String message) {
    String type = TypeUrls.shortName(typeUrl);
    nacks.labelValues(host, nodeId, type).inc();
    lastNack.labelValues(host, nodeId, type).set(System.currentTimeMillis() / 1000.0);
  }

  // ------------------------------------------------------------------ config source

  @Override
  public void onPollFinished(PollResult result, Duration duration) {
    polls.labelValues(host, result.label()).inc();
    pollDuration.labelValues(host).observe(duration.toNanos() / 1e9);
  }

  @Override
  public void onSnapshotServed(String nodeId, long version, int routeCount,
      Map<RejectedRoute.Reason, Integer> rejected) {
    snapshotVersion.labelValues(host, nodeId).set(version);
    snapshotRoutes.labelValues(host, nodeId).set(routeCount);
    rejectedRoutes.removeIf(labels -> labels.get(1).equals(nodeId));
    rejected.forEach((reason, count) -> rejectedRoutes.labelValues(host, nodeId, reason.name()).set(count));
  }

  @Override
  public void onNodeRemoved(String nodeId) {
    snapshotVersion.remove(host, nodeId);
    snapshotRoutes.remove(host, nodeId);
    rejectedRoutes.removeIf(labels -> labels.get(1).equals(nodeId));
  }

  @Override
  public void onRoutesFetchFailed(String nodeId) {
    routesFetchFailures.labelValues(host, nodeId).inc();
  }

  @Override
  public void onNodeRegistration(String nodeId, boolean created) {
    nodeRegistrations.labelValues(host, created ? "created" : "failed").inc();
  }
}
