package io.sigma.agent.staticsync;

/**
 * A listener of an Envoy static config that is not synced, and why (e.g. "no
 * envoy.filters.network.tcp_proxy filter"). {@code name} is the listener's name, or {@code
 * "listener #3"} when it has none.
 */
public record SkippedListener(String name, String reason) {
  @Override
  public String toString() {
    return name + ": " + reason;
  }
}
