package io.sigma.agent.api;

import com.fasterxml.jackson.annotation.JsonAnyGetter;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.databind.JsonNode;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * {@code system_info} of register and heartbeat requests. Units as in the contract: whole numbers
 * rounded down. {@code metricsPort} and {@code publicIp} are omitted when null. {@code extra}: more
 * objects of {@code system_info} by key (e.g. {@code "envoy"}), written next to the facts; a key
 * that names one of the facts is dropped ({@link #withExtra}).
 */
public record SystemInfo(
    int cpuCores,
    long ramMb,
    long diskGb,
    long diskUsedGb,
    long uptimeSeconds,
    List<Double> loadAvg,
    @JsonInclude(JsonInclude.Include.NON_NULL) Integer metricsPort,
    @JsonInclude(JsonInclude.Include.NON_NULL) String publicIp,
    @JsonAnyGetter Map<String, JsonNode> extra) {

  /** The keys of the facts themselves, which no extra object may replace. */
  private static final Set<String> FACTS =
      Set.of(
          "cpu_cores",
          "ram_mb",
          "disk_gb",
          "disk_used_gb",
          "uptime_seconds",
          "load_avg",
          "metrics_port",
          "public_ip");

  public SystemInfo {
    extra = extra == null ? Map.of() : Map.copyOf(extra);
  }

  /** The facts alone. */
  public SystemInfo(
      int cpuCores,
      long ramMb,
      long diskGb,
      long diskUsedGb,
      long uptimeSeconds,
      List<Double> loadAvg,
      Integer metricsPort,
      String publicIp) {
    this(cpuCores, ramMb, diskGb, diskUsedGb, uptimeSeconds, loadAvg, metricsPort, publicIp, null);
  }

  /** These facts with {@code objects} besides them (keys naming a fact are dropped). */
  public SystemInfo withExtra(Map<String, JsonNode> objects) {
    Map<String, JsonNode> kept = new LinkedHashMap<>();
    objects.forEach(
        (key, value) -> {
          if (key != null && value != null && !FACTS.contains(key)) {
            kept.put(key, value);
          }
        });
    return new SystemInfo(
        cpuCores, ramMb, diskGb, diskUsedGb, uptimeSeconds, loadAvg, metricsPort, publicIp, kept);
  }
}
