package io.sigma.agent.api;

import com.fasterxml.jackson.annotation.JsonInclude;
import java.util.List;

/** Body of {@code POST /agent/register}; {@code alias} is omitted when not configured. */
public record RegisterRequest(
    String hostname,
    @JsonInclude(JsonInclude.Include.NON_NULL) String alias,
    List<IpAddress> ipAddresses,
    int sshPort,
    SystemInfo systemInfo) {}
