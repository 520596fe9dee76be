package io.sigma.agent.config;

import io.sigma.agent.api.ApiKey;
import io.sigma.agent.host.Cidr;
import io.sigma.agent.web.WebConfig;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;

/**
 * Every setting of the agent, validated. Built by {@link ConfigLoader} from flags, environment
 * variables, the config file and defaults (in that order of precedence).
 *
 * @param configFile the config file read, if there was one
 */
public record AgentConfig(
    URI apiUrl,
    Optional<ApiKey> apiKey,
    Duration interval,
    Optional<String> hostname,
    Optional<String> alias,
    int sshPort,
    int metricsPort,
    String metricsBind,
    boolean portScan,
    PortRange portScanRange,
    Duration portScanInterval,
    Optional<AllocationToken> allocateToken,
    Duration allocateReservation,
    List<Cidr> allocateAllowFrom,
    boolean xdsEnabled,
    int xdsPort,
    String xdsBind,
    Duration xdsPollInterval,
    Path hostProc,
    Path hostHostnameFile,
    Path stateDir,
    List<Cidr> ignoredIpRanges,
    boolean publicIpLookup,
    List<URI> publicIpServices,
    int managementPort,
    String managementBind,
    Duration requestTimeout,
    Duration backoffInitial,
    Duration backoffMax,
    boolean dev,
    LogLevel logLevel,
    LogFormat logFormat,
    Optional<Path> configFile,
    boolean metricsHostnameLabel,
    Optional<WebConfig> webConfigFile,
    EnvoyConfigSync envoyConfigSync) {

  /** The metrics/allocation HTTP server is off when its port is 0. */
  public boolean metricsEnabled() {
    return metricsPort != 0;
  }

  public boolean managementEnabled() {
    return managementPort != 0;
  }

  /** A copy pointed at another sigma-api (used by {@code --dev}). */
  public AgentConfig withApi(URI url, Optional<ApiKey> key) {
    return new AgentConfig(
        url,
        key,
        interval,
        hostname,
        alias,
        sshPort,
        metricsPort,
        metricsBind,
        portScan,
        portScanRange,
        portScanInterval,
        allocateToken,
        allocateReservation,
        allocateAllowFrom,
        xdsEnabled,
        xdsPort,
        xdsBind,
        xdsPollInterval,
        hostProc,
        hostHostnameFile,
        stateDir,
        ignoredIpRanges,
        publicIpLookup,
        publicIpServices,
        managementPort,
        managementBind,
        requestTimeout,
        backoffInitial,
        backoffMax,
        dev,
        logLevel,
        logFormat,
        configFile,
        metricsHostnameLabel,
        webConfigFile,
        envoyConfigSync);
  }

  /**
   * A one-line summary for the start-up log; the API key is shown only as set or not, a password in
   * the API URL not at all.
   */
  public String summary() {
    return "api="
        + RedactedUrl.of(apiUrl)
        + " api-key="
        + (apiKey.isPresent() ? "set" : "none")
        + " interval="
        + interval.toSeconds()
        + "s"
        + " metrics="
        + (metricsEnabled()
            ? metricsBind + ":" + metricsPort + webConfigFile.map(w -> "/" + w.summary()).orElse("")
            : "off")
        + " port-scan="
        + (portScan ? portScanRange.first() + "-" + portScanRange.last() : "off")
        + " xds="
        + (xdsEnabled ? xdsBind + ":" + xdsPort : "off")
        + " envoy-config-sync="
        + (envoyConfigSync.enabled() ? String.join(",", envoyConfigSync.paths()) : "off")
        + " management="
        + (managementEnabled() ? managementBind + ":" + managementPort : "off")
        + " host-proc="
        + hostProc
        + " state-dir="
        + stateDir
        + " log="
        + logLevel
        + "/"
        + logFormat
        + " config-file="
        + configFile.map(Path::toString).orElse("none");
  }

  /** The summary: the record's own toString would print a password in the API URL. */
  @Override
  public String toString() {
    return "AgentConfig[" + summary() + "]";
  }
}
