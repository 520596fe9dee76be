package io.sigma.agent.host;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CpuInfoReaderTest {

  @Test
  void countsProcessorLines() throws Exception {
    assertEquals(2, CpuInfoReader.read(Fixtures.procRoot("typical").resolve("cpuinfo")));
  }

  @Test
  void armStyleProcessorHeaderAndNoSpaceBeforeColon() throws Exception {
    // "Processor : ARMv7…" is a model line, not a CPU; "processor:3" is one.
    assertEquals(4, CpuInfoReader.read(Fixtures.procRoot("odd").resolve("cpuinfo")));
  }

  @Test
  void noProcessorLineIsMalformed() {
    ProcFormatException e =
        assertThrows(
            ProcFormatException.class,
            () -> CpuInfoReader.read(Fixtures.procRoot("malformed").resolve("cpuinfo")));
    assertEquals("no 'processor' line", e.problem());
    assertThrows(ProcFormatException.class, () -> CpuInfoReader.parse(""));
  }

  @Test
  void missingFile(@TempDir Path dir) {
    assertThrows(NoSuchFileException.class, () -> CpuInfoReader.read(dir.resolve("cpuinfo")));
  }

  /** This machine's file, against an independent count (not availableProcessors: cgroups). */
  @Test
  void realProcCpuinfo() throws Exception {
    long expected;
    try (var lines = Files.lines(Path.of("/proc/cpuinfo"))) {
      expected = lines.filter(l -> l.split(":")[0].trim().equals("processor")).count();
    }
    assertEquals(expected, CpuInfoReader.read(Path.of("/proc/cpuinfo")));
  }
}
