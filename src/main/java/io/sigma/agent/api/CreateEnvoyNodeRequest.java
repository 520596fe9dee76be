package io.sigma.agent.api;

import com.fasterxml.jackson.annotation.JsonInclude;

/** Body of {@code POST /envoy-nodes}. {@code admin_port} is sent as an explicit null. */
public record CreateEnvoyNodeRequest(
    String vpsId,
    String nodeId,
    String description,
    @JsonInclude(JsonInclude.Include.ALWAYS) Integer adminPort,
    String status) {}
