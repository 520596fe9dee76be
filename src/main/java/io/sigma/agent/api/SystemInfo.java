package io.sigma.agent.api;

import com.fasterxml.jackson.annotation.JsonAnyGetter;
import com.fasterxml.jackson.annotation.JsonIgnore;
import com.fasterxml.jackson.annotation.JsonInclude;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * {@code system_info} of register and heartbeat requests. Units as in the contract: whole numbers
 * rounded down. {@code metricsPort} and {@code publicIp} are omitted when null. {@code extra} holds
 * further objects sigma-api stores verbatim for its UI (contract section 6, e.g. {@code envoy}),
 * written as fields of {@code system_info} beside the others.
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
    @JsonIgnore Map<String, Object> extra) {

  /** The fields of the contract, which an extra object may not replace. */
  private static final Set<String> OWN_FIELDS =
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

  /** Without extra objects. */
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

  /**
   * This system_info with {@code objects} added (names as written on the wire); names of the
   * contract's own fields and null values are left out.
   */
  public SystemInfo withExtra(Map<String, ?> objects) {
    Map<String, Object> added = new LinkedHashMap<>(extra);
    objects.forEach(
        (name, value) -> {
          if (name != null && value != null && !OWN_FIELDS.contains(name)) {
            added.put(name, value);
          }
        });
    return new SystemInfo(
        cpuCores, ramMb, diskGb, diskUsedGb, uptimeSeconds, loadAvg, metricsPort, publicIp, added);
  }

  @JsonAnyGetter
  Map<String, Object> extraFields() {
    return extra;
  }
}
