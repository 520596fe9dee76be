package io.sigma.agent.config;

import java.util.Locale;

/** {@code --log-level}: the level of the agent's own loggers (Pekko's is PEKKO_LOG_LEVEL). */
public enum LogLevel {
  ERROR,
  WARN,
  INFO,
  DEBUG,
  TRACE;

  static LogLevel parse(String text) {
    try {
      return valueOf(text.trim().toUpperCase(Locale.ROOT));
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("must be error, warn, info, debug or trace");
    }
  }

  @Override
  public String toString() {
    return name().toLowerCase(Locale.ROOT);
  }
}
