package io.sigma.agent.metrics;

import io.prometheus.metrics.core.metrics.CounterWithCallback;
import io.prometheus.metrics.core.metrics.GaugeWithCallback;
import io.sigma.agent.fleet.FleetStatus;

/** The registration/heartbeat loop's health, read from {@link FleetStatus} at scrape time. */
public final class FleetMetrics {
  private FleetMetrics() {}

  public static void register(AgentMetrics metrics, FleetStatus status) {
    String host = metrics.hostname();
    GaugeWithCallback.builder()
        .name("sigma_agent_registered")
        .help("1 when the agent is registered with sigma-api, else 0")
        .labelNames(AgentMetrics.HOSTNAME_LABEL)
        .callback(cb -> cb.call(status.isRegistered() ? 1 : 0, host))
        .register(metrics.registry());
    CounterWithCallback.builder()
        .name("sigma_agent_heartbeats")
        .help("Heartbeats sent to sigma-api, by result")
        .labelNames(AgentMetrics.HOSTNAME_LABEL, "result")
        .callback(cb -> {
          cb.call(status.heartbeatSuccesses(), host, "success");
          cb.call(status.heartbeatFailures(), host, "failure");
        })
        .register(metrics.registry());
    CounterWithCallback.builder()
        .name("sigma_agent_registrations")
        .help("Registration attempts with sigma-api, by result")
        .labelNames(AgentMetrics.HOSTNAME_LABEL, "result")
        .callback(cb -> {
          cb.call(status.registrationSuccesses(), host, "success");
          cb.call(status.registrationFailures(), host, "failure");
        })
        .register(metrics.registry());
    GaugeWithCallback.builder()
        .name("sigma_agent_seconds_since_last_heartbeat")
        .help("Seconds since the last successful heartbeat (absent before the first one)")
        .labelNames(AgentMetrics.HOSTNAME_LABEL)
        .callback(cb -> status.sinceLastHeartbeat()
            .ifPresent(d -> cb.call(d.toMillis() / 1000.0, host)))
        .register(metrics.registry());
  }
}
