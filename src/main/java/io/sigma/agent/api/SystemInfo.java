package io.sigma.agent.api;

import com.fasterxml.jackson.annotation.JsonInclude;
import java.util.List;

/**
 * {@code system_info} of register and heartbeat requests. Units as in the contract: whole numbers
 * rounded down. {@code metricsPort} and {@code publicIp} are omitted when null.
 */
public record SystemInfo(
    int cpuCores,
    long ramMb,
    long diskGb,
    long diskUsedGb,
    long uptimeSeconds,
    List<Double> loadAvg,
    @JsonInclude(JsonInclude.Include.NON_NULL) Integer metricsPort,
    @JsonInclude(JsonInclude.Include.NON_NULL) String publicIp) {}
