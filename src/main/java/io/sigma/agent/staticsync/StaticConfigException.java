package io.sigma.agent.staticsync;

/** A whole Envoy static config file cannot be used (not YAML, not an Envoy config, too large). */
public final class StaticConfigException extends Exception {
  public StaticConfigException(String message) {
    super(message);
  }
}
