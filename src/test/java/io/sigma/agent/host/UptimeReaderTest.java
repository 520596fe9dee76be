package io.sigma.agent.host;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class UptimeReaderTest {

  @Test
  void fixtures() throws Exception {
    assertEquals(86400, UptimeReader.readSeconds(Fixtures.procRoot("typical").resolve("uptime")));
    assertEquals(12345, UptimeReader.readSeconds(Fixtures.procRoot("odd").resolve("uptime")));
  }

  @ParameterizedTest
  @CsvSource(
      delimiter = '|',
      value = {"0.99 1.00|0", "59.999999 1|59", "  7  |7", "3600.5|3600"})
  void roundsTheFirstNumberDown(String content, long expected) throws Exception {
    assertEquals(expected, UptimeReader.parseSeconds(content));
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "",
        "up 3 days",
        "-5 2",
        "1e5 2",
        "NaN 1",
        "12,5 1",
        "0x10 1",
        "1234567890123456789012 1"
      })
  void malformed(String content) {
    assertThrows(ProcFormatException.class, () -> UptimeReader.parseSeconds(content));
  }

  @Test
  void malformedFixtureAndMissingFile(@TempDir Path dir) {
    assertThrows(
        ProcFormatException.class,
        () -> UptimeReader.readSeconds(Fixtures.procRoot("malformed").resolve("uptime")));
    assertThrows(NoSuchFileException.class, () -> UptimeReader.readSeconds(dir.resolve("uptime")));
  }

  /** Between two independent readings of this machine's /proc/uptime. */
  @Test
  void realProcUptime() throws Exception {
    long before = firstNumberFloor(Files.readString(Path.of("/proc/uptime")));
    long read = UptimeReader.readSeconds(Path.of("/proc/uptime"));
    long after = firstNumberFloor(Files.readString(Path.of("/proc/uptime")));
    assertTrue(before <= read && read <= after, before + " <= " + read + " <= " + after);
  }

  private static long firstNumberFloor(String content) {
    return (long) Math.floor(Double.parseDouble(content.trim().split(" ")[0]));
  }
}
