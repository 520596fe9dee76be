package io.sigma.agent.api;

/** An Envoy node as sigma-api stores it; {@code nodeId} is the Envoy {@code node.id}. */
public record EnvoyNode(
    String id,
    String vpsId,
    String nodeId,
    Integer adminPort,
    String description,
    long configVersion,
    String status,
    String createdAt,
    String updatedAt) {}
