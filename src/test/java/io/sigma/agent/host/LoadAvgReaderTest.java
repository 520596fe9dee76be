package io.sigma.agent.host;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class LoadAvgReaderTest {

  @Test
  void fixtures() throws Exception {
    assertEquals(
        List.of(0.12, 0.08, 0.01),
        LoadAvgReader.read(Fixtures.procRoot("typical").resolve("loadavg")));
    assertEquals(
        List.of(1.5, 0.75, 0.25), LoadAvgReader.read(Fixtures.procRoot("odd").resolve("loadavg")));
  }

  @Test
  void threeNumbersAreEnough() throws Exception {
    assertEquals(List.of(3.0, 2.0, 1.0), LoadAvgReader.parse("3 2 1"));
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "",
        "0.5 0.4",
        "0.50 abc 0.10 1/2 3",
        "-1 0 0",
        "NaN 0 0",
        "1e3 0 0",
        "Infinity 1 1"
      })
  void malformed(String content) {
    ProcFormatException e =
        assertThrows(ProcFormatException.class, () -> LoadAvgReader.parse(content));
    assertEquals("does not start with three load averages", e.problem());
  }

  @Test
  void malformedFixtureAndMissingFile(@TempDir Path dir) {
    assertThrows(
        ProcFormatException.class,
        () -> LoadAvgReader.read(Fixtures.procRoot("malformed").resolve("loadavg")));
    assertThrows(NoSuchFileException.class, () -> LoadAvgReader.read(dir.resolve("loadavg")));
  }

  /**
   * This machine's file against an independent split of it. The kernel updates it every 5 s, so
   * compare only readings taken while the file did not change (retry a few times).
   */
  @Test
  void realProcLoadavg() throws Exception {
    Path file = Path.of("/proc/loadavg");
    for (int attempt = 0; attempt < 5; attempt++) {
      String before = Files.readString(file);
      List<Double> read = LoadAvgReader.read(file);
      if (before.equals(Files.readString(file))) {
        List<Double> expected =
            Stream.of(before.trim().split(" ")).limit(3).map(Double::valueOf).toList();
        assertEquals(expected, read);
        return;
      }
    }
    throw new AssertionError("/proc/loadavg changed during each of 5 readings");
  }
}
