package io.sigma.agent.fleet;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.prometheus.metrics.expositionformats.PrometheusTextFormatWriter;
import io.sigma.agent.metrics.AgentMetrics;
import io.sigma.agent.testing.MutableClock;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The fleet's series as a scrape shows them, read from a {@link FleetStatus} driven through the
 * events the registration actor reports: every count by its result, the registered flag, and the
 * last successful heartbeat as Unix seconds.
 */
class FleetMetricsTest {
  private final MutableClock clock = new MutableClock(Instant.ofEpochMilli(1_700_000_000_250L));
  private final FleetStatus status = new FleetStatus(clock);
  private final AgentMetrics metrics = new AgentMetrics("fleet-metrics", false, false);

  {
    FleetMetrics.register(metrics, status);
  }

  /** The sample lines of the fleet's series, sorted. */
  private List<String> samples() throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    PrometheusTextFormatWriter.create().write(out, metrics.registry().scrape());
    return out.toString(StandardCharsets.UTF_8)
        .lines()
        .filter(line -> line.startsWith("sigma_agent_"))
        .filter(line -> !line.startsWith("sigma_agent_build_info")) // AgentMetrics' own
        .sorted()
        .toList();
  }

  @Test
  void beforeAnyAnswerEveryCountIsZeroAndThereIsNoHeartbeatTimestamp() throws IOException {
    assertEquals(
        List.of(
            "sigma_agent_heartbeats_total{result=\"failure\"} 0.0",
            "sigma_agent_heartbeats_total{result=\"success\"} 0.0",
            "sigma_agent_registered 0.0",
            "sigma_agent_registrations_total{result=\"failure\"} 0.0",
            "sigma_agent_registrations_total{result=\"success\"} 0.0"),
        samples());
  }

  @Test
  void everyResultIsCountedOnItsOwnSeriesAndTheLastSuccessIsATimestamp() throws IOException {
    status.registrationFailed("HTTP 503");
    status.registrationFailed("HTTP 503");
    status.registrationFailed("HTTP 401");
    status.registered();
    clock.advance(Duration.ofSeconds(10));
    status.heartbeatSucceeded();
    clock.advance(Duration.ofMillis(500));
    status.heartbeatSucceeded();
    clock.advance(Duration.ofSeconds(60));
    // Failures count but leave the timestamp of the last success where it was.
    status.heartbeatFailed("HTTP 502");
    status.heartbeatFailed("timeout");
    status.heartbeatFailed("HTTP 502");
    status.heartbeatFailed("HTTP 502");

    assertEquals(
        List.of(
            "sigma_agent_heartbeats_total{result=\"failure\"} 4.0",
            "sigma_agent_heartbeats_total{result=\"success\"} 2.0",
            "sigma_agent_last_heartbeat_timestamp_seconds 1.70000001075E9",
            "sigma_agent_registered 1.0",
            "sigma_agent_registrations_total{result=\"failure\"} 3.0",
            "sigma_agent_registrations_total{result=\"success\"} 1.0"),
        samples());

    status.deregistered();
    assertEquals(
        List.of(
            "sigma_agent_heartbeats_total{result=\"failure\"} 4.0",
            "sigma_agent_heartbeats_total{result=\"success\"} 2.0",
            "sigma_agent_last_heartbeat_timestamp_seconds 1.70000001075E9",
            "sigma_agent_registered 0.0",
            "sigma_agent_registrations_total{result=\"failure\"} 3.0",
            "sigma_agent_registrations_total{result=\"success\"} 1.0"),
        samples(),
        "a 404 heartbeat deregisters: the flag drops, the counts stay");
  }
}
