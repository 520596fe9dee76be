package io.sigma.agent.config;

import java.time.Duration;

/**
 * Parses durations the way operators write them: a plain number is seconds (as the original agent's
 * AGENT_INTERVAL=60), or a number with a unit: {@code 500ms}, {@code 30s}, {@code 5m}, {@code 1h}.
 */
public final class DurationSetting {
  private DurationSetting() {}

  public static Duration parse(String text) {
    String s = text.trim().toLowerCase(java.util.Locale.ROOT);
    if (s.isEmpty()) {
      throw new IllegalArgumentException("is empty; expected seconds or a duration like 30s, 5m");
    }
    long multiplierMillis;
    String digits;
    if (s.endsWith("ms")) {
      multiplierMillis = 1;
      digits = s.substring(0, s.length() - 2);
    } else if (s.endsWith("s")) {
      multiplierMillis = 1_000;
      digits = s.substring(0, s.length() - 1);
    } else if (s.endsWith("m")) {
      multiplierMillis = 60_000;
      digits = s.substring(0, s.length() - 1);
    } else if (s.endsWith("h")) {
      multiplierMillis = 3_600_000;
      digits = s.substring(0, s.length() - 1);
    } else {
      multiplierMillis = 1_000;
      digits = s;
    }
    long amount;
    try {
      amount = Long.parseLong(digits.trim());
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(
          "'" + text + "' is not a duration; expected seconds or a duration like 30s, 5m");
    }
    if (amount < 0 || amount > Long.MAX_VALUE / multiplierMillis) {
      throw new IllegalArgumentException("'" + text + "' is out of range");
    }
    return Duration.ofMillis(amount * multiplierMillis);
  }
}
