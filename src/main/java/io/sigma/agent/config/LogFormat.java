package io.sigma.agent.config;

import java.util.Locale;

/** {@code --log-format}: one line of text per event, or one JSON object per line. */
public enum LogFormat {
  TEXT,
  JSON;

  static LogFormat parse(String text) {
    try {
      return valueOf(text.trim().toUpperCase(Locale.ROOT));
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("must be text or json");
    }
  }

  @Override
  public String toString() {
    return name().toLowerCase(Locale.ROOT);
  }
}
