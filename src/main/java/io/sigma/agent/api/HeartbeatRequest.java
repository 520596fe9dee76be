package io.sigma.agent.api;

import java.util.List;

/** Body of {@code POST /agent/heartbeat}. An empty address list keeps the stored ones. */
public record HeartbeatRequest(
    String hostname, List<IpAddress> ipAddresses, SystemInfo systemInfo) {}
