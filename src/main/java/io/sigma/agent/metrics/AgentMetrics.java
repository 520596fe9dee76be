package io.sigma.agent.metrics;

import io.prometheus.metrics.core.metrics.Info;
import io.prometheus.metrics.instrumentation.jvm.JvmMetrics;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.prometheus.metrics.model.snapshots.Labels;

/**
 * One agent's metrics registry. Never the JVM-wide default registry: two agents in one JVM (tests,
 * the fleet simulation) each have their own.
 *
 * <p>Series carry no self-reported host label by default: Prometheus adds {@code instance} to every
 * scraped series, and a label the agent reports about itself would duplicate it with a value any
 * local config can set. {@code --metrics-hostname-label} puts the original agent's {@code hostname}
 * label back on every sigma_* series ({@link #constLabels}) for dashboards that still group by it.
 */
public final class AgentMetrics {
  public static final String HOSTNAME_LABEL = "hostname";

  private final PrometheusRegistry registry = new PrometheusRegistry();
  private final Labels constLabels;

  public AgentMetrics(String hostname, boolean hostnameLabel, boolean withJvmMetrics) {
    this.constLabels = hostnameLabel ? Labels.of(HOSTNAME_LABEL, hostname) : Labels.EMPTY;
    if (withJvmMetrics) {
      JvmMetrics.builder().register(registry);
    }
    // Exposed as sigma_agent_build_info (client_java appends _info); value 1, by convention.
    Info.builder()
        .name("sigma_agent_build")
        .help("The agent's version and the git commit it was built from (always 1)")
        .labelNames("version", "revision")
        .constLabels(constLabels)
        .register(registry)
        .setLabelValues(Version.current(), Version.revision());
  }

  public PrometheusRegistry registry() {
    return registry;
  }

  /** The labels every sigma_* series carries: {@code hostname} if enabled, else none. */
  public Labels constLabels() {
    return constLabels;
  }
}
