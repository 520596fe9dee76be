package io.sigma.agent.xds;

import com.fasterxml.jackson.databind.JsonNode;
import io.sigma.agent.api.SigmaApi;
import io.sigma.agent.config.AgentConfig;
import io.sigma.agent.feature.FeatureGuardian;
import io.sigma.agent.feature.FeatureServer;
import io.sigma.agent.feature.ManagementPage;
import io.sigma.agent.metrics.AgentMetrics;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.javadsl.ActorContext;

/**
 * The Envoy control plane ({@code --xds-enabled}) as the agent's root sees it: starts the {@link
 * XdsGuardian} (which supervises the snapshot registry, the poller, the sync reporter and the admin
 * probe, and starts the ADS server), and hands back
 *
 * <ul>
 *   <li>the ADS server ({@link #servers()}: the agent is not ready until it listens);
 *   <li>{@code /xds/status} for the management port (it names the VPS, its nodes and sigma-api, so
 *       it never goes on the metrics port, which sigma-api and Prometheus reach remotely);
 *   <li>{@code system_info.envoy} for heartbeats ({@link EnvoySyncReport}), from a cache the
 *       reporter refreshes, so a heartbeat never waits for it;
 *   <li>{@code --xds-poll-interval} as a live setting (the poller and the admin probe follow it).
 * </ul>
 *
 * Its series ({@link XdsMetrics}, {@link EnvoyAdminMetrics}) are recorded as streams and polls go,
 * so they are registered at start rather than through {@link #metrics()}.
 */
public final class XdsFeature implements FeatureGuardian {

  private final ActorRef<XdsGuardian.Command> guardian;
  private final ManagementPage status;
  private final FeatureServer server;
  private final EnvoySyncReporter.Latest syncReport;

  private XdsFeature(
      ActorRef<XdsGuardian.Command> guardian,
      ManagementPage status,
      FeatureServer server,
      EnvoySyncReporter.Latest syncReport) {
    this.guardian = guardian;
    this.status = status;
    this.server = server;
    this.syncReport = syncReport;
  }

  /**
   * Spawns the control plane as a child of {@code parent}, named {@code xds}; its series go on
   * {@code metrics}.
   */
  public static XdsFeature start(
      ActorContext<?> parent, AgentConfig config, SigmaApi api, AgentMetrics metrics) {
    Clock clock = Clock.systemUTC();
    XdsGuardian.Settings settings = XdsGuardian.Settings.of(config);
    CompletableFuture<XdsServer> bound = new CompletableFuture<>();
    ActorRef<XdsGuardian.Command> guardian =
        parent.spawn(
            XdsGuardian.create(
                settings,
                api,
                new NodeConfigStore(settings.stateDir(), clock),
                new XdsMetrics(metrics),
                clock,
                new SplittableRandom(),
                bound),
            "xds");
    EnvoySyncReporter.Settings reportSettings = syncReportSettings(config.interval());
    EnvoySyncReporter.Latest latest = new EnvoySyncReporter.Latest(clock, reportSettings.maxAge());
    guardian.tell(new XdsGuardian.ReportSyncStatus(latest, reportSettings));
    // Each Envoy node with an admin_port: /ready probed on loopback, exported as sigma_envoy_up.
    guardian.tell(
        new XdsGuardian.ProbeEnvoyAdmins(
            new EnvoyAdminProbe.Settings(
                config.xdsPollInterval(),
                EnvoyAdminProbe.TIMEOUT.plusSeconds(1),
                EnvoyAdminProbe.MAX_CONCURRENT),
            new EnvoyAdminClient(parent.getSystem(), EnvoyAdminProbe.TIMEOUT),
            new EnvoyAdminMetrics(metrics)));
    if (!config.managementEnabled()) {
      parent
          .getLog()
          .info(
              "/xds/status is off: it is served on the management port, and "
                  + "--management-port / AGENT_MANAGEMENT_PORT is 0");
    }
    return new XdsFeature(
        guardian,
        new ManagementPage(
            "/xds/status", XdsStatusRoutes.of(guardian, parent.getSystem(), clock).route()),
        new FeatureServer(
            "xDS server", "--xds-port / AGENT_XDS_PORT", bound.thenApply(XdsServer::localAddress)),
        latest);
  }

  /**
   * Heartbeats carry {@code system_info.envoy}, refreshed at least twice a heartbeat interval (10 s
   * at most); a report older than three refreshes plus an ask is not sent.
   */
  static EnvoySyncReporter.Settings syncReportSettings(Duration heartbeatInterval) {
    Duration refresh = heartbeatInterval.dividedBy(2);
    EnvoySyncReporter.Settings defaults = EnvoySyncReporter.Settings.DEFAULT;
    return refresh.compareTo(defaults.refreshEvery()) >= 0 || refresh.isZero()
        ? defaults
        : new EnvoySyncReporter.Settings(
            refresh, defaults.askTimeout(), refresh.multipliedBy(3).plus(defaults.askTimeout()));
  }

  /** The control plane's supervisor (the poller's commands are forwarded by it). */
  public ActorRef<XdsGuardian.Command> guardian() {
    return guardian;
  }

  @Override
  public List<ManagementPage> managementPages() {
    return List.of(status);
  }

  @Override
  public List<FeatureServer> servers() {
    return List.of(server);
  }

  @Override
  public Map<String, JsonNode> systemInfo() {
    return syncReport
        .current()
        .<Map<String, JsonNode>>map(r -> Map.of("envoy", r))
        .orElse(Map.of());
  }

  @Override
  public void vpsKnown(String vpsId) {
    guardian.tell(new ConfigPoller.VpsKnown(vpsId));
  }

  /** --xds-poll-interval is live: the poller and the admin probe take the new interval. */
  @Override
  public void apply(AgentConfig applied, AgentConfig loaded) {
    if (!loaded.xdsPollInterval().equals(applied.xdsPollInterval())) {
      guardian.tell(new ConfigPoller.IntervalChanged(loaded.xdsPollInterval()));
    }
  }
}
