package io.sigma.agent.metrics;

import io.prometheus.metrics.instrumentation.jvm.JvmMetrics;
import io.prometheus.metrics.model.registry.PrometheusRegistry;

/**
 * One agent's metrics registry. Never the JVM-wide default registry: two agents in one JVM
 * (tests, the fleet simulation) each have their own. Every sigma_* metric carries a
 * {@code hostname} label, as the original agent's did, so a central Prometheus can tell VPSs apart.
 */
public final class AgentMetrics {
  public static final String HOSTNAME_LABEL = "hostname";

  private final PrometheusRegistry registry = new PrometheusRegistry();
  private final String hostname;

  public AgentMetrics(String hostname, boolean withJvmMetrics) {
    this.hostname = hostname;
    if (withJvmMetrics) {
      JvmMetrics.builder().register(registry);
    }
  }

  public PrometheusRegistry registry() {
    return registry;
  }

  public String hostname() {
    return hostname;
  }
}
