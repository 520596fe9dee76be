package io.sigma.agent.host;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class MemInfoReaderTest {

  @Test
  void typicalFile() throws Exception {
    assertEquals(
        2034860, MemInfoReader.readMemTotalKb(Fixtures.procRoot("typical").resolve("meminfo")));
  }

  @Test
  void oddSpacingAndOrder() throws Exception {
    assertEquals(
        4194303, MemInfoReader.readMemTotalKb(Fixtures.procRoot("odd").resolve("meminfo")));
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "MemTotal:1024 kB",
        "MemTotal:\t1024kB",
        "  MemTotal  :  1024  ",
        "MemTotal: 1024 KB\n",
        "X: 1\nMemTotal: 1024 kB\nMemTotal: 9 kB"
      })
  void spacingUnitCaseAndDuplicates(String content) throws Exception {
    assertEquals(1024, MemInfoReader.parseMemTotalKb(content));
  }

  @Test
  void missingMemTotal() {
    ProcFormatException e =
        assertThrows(
            ProcFormatException.class,
            () -> MemInfoReader.readMemTotalKb(Fixtures.procRoot("malformed").resolve("meminfo")));
    assertEquals("no MemTotal line", e.problem());
    // a longer key is another field
    assertThrows(
        ProcFormatException.class, () -> MemInfoReader.parseMemTotalKb("MemTotalX: 5 kB\n"));
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "MemTotal: lots kB",
        "MemTotal: -5 kB",
        "MemTotal: 1.5 kB",
        "MemTotal: 1024 MB",
        "MemTotal:",
        "MemTotal: 99999999999999999999 kB"
      })
  void badValues(String content) {
    ProcFormatException e =
        assertThrows(ProcFormatException.class, () -> MemInfoReader.parseMemTotalKb(content));
    assertEquals("MemTotal is not a number of kB", e.problem());
  }

  @Test
  void missingFile(@TempDir Path dir) {
    assertThrows(
        NoSuchFileException.class, () -> MemInfoReader.readMemTotalKb(dir.resolve("meminfo")));
  }
}
