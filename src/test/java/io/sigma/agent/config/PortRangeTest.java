package io.sigma.agent.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class PortRangeTest {

  @Test
  void defaultRangeHolds20001Ports() {
    assertEquals(new PortRange(10000, 30000), PortRange.DEFAULT);
    assertEquals(20001, PortRange.DEFAULT.size());
  }

  @ParameterizedTest
  @CsvSource({
    "10000-30000, 10000, 30000",
    "' 1 - 65535 ', 1, 65535",
    "8080, 8080, 8080",
    "22-22, 22, 22",
  })
  void parsesRanges(String text, int first, int last) {
    PortRange range = PortRange.parse(text);
    assertEquals(new PortRange(first, last), range);
    assertEquals(last - first + 1, range.size());
  }

  @Test
  void containsItsBoundsOnly() {
    PortRange range = new PortRange(100, 200);
    assertTrue(range.contains(100));
    assertTrue(range.contains(200));
    assertFalse(range.contains(99));
    assertFalse(range.contains(201));
  }

  @Test
  void toStringParsesBack() {
    PortRange range = new PortRange(12, 3456);
    assertEquals("12-3456", range.toString());
    assertEquals(range, PortRange.parse(range.toString()));
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "",
        "  ",
        "abc",
        "10000-",
        "-30000",
        "10000-30000-40000",
        "10000:30000",
        "1e4-2e4",
        "+10-20",
        "10000 30000",
        "١٠-٢٠",
        "123456-123457"
      })
  void rejectsTextThatIsNotARange(String text) {
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> PortRange.parse(text));
    assertTrue(
        e.getMessage().contains("expected FIRST-LAST")
            || e.getMessage().contains("is not FIRST-LAST"),
        e.getMessage());
  }

  @Test
  void rejectsNull() {
    assertThrows(IllegalArgumentException.class, () -> PortRange.parse(null));
  }

  @Test
  void rejectsPortsOutside1To65535WithTheOffendingText() {
    IllegalArgumentException zero =
        assertThrows(IllegalArgumentException.class, () -> PortRange.parse("0-100"));
    assertEquals("port range '0-100': first port 0 is outside 1..65535", zero.getMessage());
    IllegalArgumentException high =
        assertThrows(IllegalArgumentException.class, () -> PortRange.parse("100-65536"));
    assertEquals("port range '100-65536': last port 65536 is outside 1..65535", high.getMessage());
    assertThrows(IllegalArgumentException.class, () -> new PortRange(-1, 10));
  }

  @Test
  void rejectsReversedRange() {
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> PortRange.parse("30000-10000"));
    assertEquals(
        "port range '30000-10000': first port 30000 is greater than last port 10000",
        e.getMessage());
  }
}
