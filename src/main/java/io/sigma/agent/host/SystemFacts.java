package io.sigma.agent.host;

import io.sigma.agent.api.SystemInfo;
import java.util.List;

/**
 * What the host reports in {@code system_info}, in the contract's units (whole numbers rounded
 * down; {@code loadAvg} is three numbers). A field that could not be read is 0 (load: 0, 0, 0).
 */
public record SystemFacts(
    int cpuCores,
    long ramMb,
    long diskGb,
    long diskUsedGb,
    long uptimeSeconds,
    List<Double> loadAvg) {

  /** Every field unread: what is reported when nothing could be read. */
  public static final SystemFacts NONE = new SystemFacts(0, 0, 0, 0, 0, List.of(0.0, 0.0, 0.0));

  public SystemFacts {
    loadAvg = List.copyOf(loadAvg);
    if (loadAvg.size() != 3) {
      throw new IllegalArgumentException("loadAvg has three numbers, not " + loadAvg);
    }
  }

  /**
   * The wire record.
   *
   * @param metricsPort the metrics server's port, or null when it is off (then omitted)
   * @param publicIp the public IP when known, or null (then omitted)
   */
  public SystemInfo toSystemInfo(Integer metricsPort, String publicIp) {
    return new SystemInfo(
        cpuCores, ramMb, diskGb, diskUsedGb, uptimeSeconds, loadAvg, metricsPort, publicIp);
  }
}
