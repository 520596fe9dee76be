package io.sigma.agent.fleet;

import io.prometheus.metrics.core.metrics.CounterWithCallback;
import io.prometheus.metrics.core.metrics.GaugeWithCallback;
import io.sigma.agent.metrics.AgentMetrics;

/** The registration/heartbeat loop's health, read from {@link FleetStatus} at scrape time. */
public final class FleetMetrics {
  private FleetMetrics() {}

  public static void register(AgentMetrics metrics, FleetStatus status) {
    GaugeWithCallback.builder()
        .name("sigma_agent_registered")
        .help("1 when the agent is registered with sigma-api, else 0")
        .constLabels(metrics.constLabels())
        .callback(cb -> cb.call(status.isRegistered() ? 1 : 0))
        .register(metrics.registry());
    CounterWithCallback.builder()
        .name("sigma_agent_heartbeats")
        .help("Heartbeats sent to sigma-api, by result")
        .constLabels(metrics.constLabels())
        .labelNames("result")
        .callback(
            cb -> {
              cb.call(status.heartbeatSuccesses(), "success");
              cb.call(status.heartbeatFailures(), "failure");
            })
        .register(metrics.registry());
    CounterWithCallback.builder()
        .name("sigma_agent_registrations")
        .help("Registration attempts with sigma-api, by result")
        .constLabels(metrics.constLabels())
        .labelNames("result")
        .callback(
            cb -> {
              cb.call(status.registrationSuccesses(), "success");
              cb.call(status.registrationFailures(), "failure");
            })
        .register(metrics.registry());
    // A timestamp, not an age: it stays right between scrapes and when scrapes are missed, and
    // `time() - sigma_agent_last_heartbeat_timestamp_seconds` gives the age in PromQL.
    GaugeWithCallback.builder()
        .name("sigma_agent_last_heartbeat_timestamp_seconds")
        .help(
            "When the last successful heartbeat was sent (Unix time; absent before the first one)")
        .constLabels(metrics.constLabels())
        .callback(
            cb ->
                status.lastHeartbeatSuccess().ifPresent(at -> cb.call(at.toEpochMilli() / 1000.0)))
        .register(metrics.registry());
  }
}
