package io.sigma.agent.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.time.Duration;
import org.junit.jupiter.api.Test;

class DurationSettingTest {
  @Test
  void plainNumbersAreSeconds() {
    assertEquals(Duration.ofSeconds(60), DurationSetting.parse("60"));
  }

  @Test
  void units() {
    assertEquals(Duration.ofMillis(250), DurationSetting.parse("250ms"));
    assertEquals(Duration.ofSeconds(30), DurationSetting.parse("30s"));
    assertEquals(Duration.ofMinutes(5), DurationSetting.parse("5M"));
    assertEquals(Duration.ofHours(2), DurationSetting.parse(" 2h "));
  }

  @Test
  void rejectsGarbageNegativeAndOverflow() {
    assertThrows(IllegalArgumentException.class, () -> DurationSetting.parse(""));
    assertThrows(IllegalArgumentException.class, () -> DurationSetting.parse("ten"));
    assertThrows(IllegalArgumentException.class, () -> DurationSetting.parse("-5"));
    assertThrows(IllegalArgumentException.class, () -> DurationSetting.parse("1.5s"));
    assertThrows(
        IllegalArgumentException.class, () -> DurationSetting.parse("999999999999999999h"));
  }
}
