package io.sigma.agent.staticsync;

import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.GaugeWithCallback;
import io.sigma.agent.metrics.AgentMetrics;
import java.time.Instant;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The static-config sync's metrics: {@code sigma_envoy_static_syncs_total{result}} (success,
 * api_error, invalid_file) and {@code sigma_envoy_static_sync_last_success_timestamp_seconds}.
 */
public final class StaticSyncMetrics {
  static final String SUCCESS = "success";
  static final String API_ERROR = "api_error";
  static final String INVALID_FILE = "invalid_file";

  private final Counter syncs;
  private final AtomicLong lastSuccessMillis = new AtomicLong(-1);

  public StaticSyncMetrics(AgentMetrics metrics) {
    syncs =
        Counter.builder()
            .name("sigma_envoy_static_syncs")
            .help(
                "Envoy static config syncs with sigma-api, by result (invalid_file: a file that"
                    + " changed but cannot be read or parsed; counted once per distinct problem)")
            .constLabels(metrics.constLabels())
            .labelNames("result")
            .register(metrics.registry());
    syncs.initLabelValues(SUCCESS);
    syncs.initLabelValues(API_ERROR);
    syncs.initLabelValues(INVALID_FILE);
    GaugeWithCallback.builder()
        .name("sigma_envoy_static_sync_last_success_timestamp_seconds")
        .help(
            "When a static config was last synced with sigma-api (Unix time; absent before the"
                + " first sync)")
        .constLabels(metrics.constLabels())
        .callback(
            cb -> {
              long at = lastSuccessMillis.get();
              if (at >= 0) {
                cb.call(at / 1000.0);
              }
            })
        .register(metrics.registry());
  }

  public void synced(Instant at) {
    syncs.labelValues(SUCCESS).inc();
    lastSuccessMillis.set(at.toEpochMilli());
  }

  public void apiFailed() {
    syncs.labelValues(API_ERROR).inc();
  }

  public void invalidFile() {
    syncs.labelValues(INVALID_FILE).inc();
  }
}
