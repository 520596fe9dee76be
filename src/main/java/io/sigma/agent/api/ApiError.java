package io.sigma.agent.api;

/** sigma-api's error body: {@code {"error": "message"}}. */
public record ApiError(String error) {}
