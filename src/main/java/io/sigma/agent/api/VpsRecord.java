package io.sigma.agent.api;

/** The part of sigma-api's VPS record the agent uses; every other field is ignored. */
public record VpsRecord(String id, String hostname, String status) {}
