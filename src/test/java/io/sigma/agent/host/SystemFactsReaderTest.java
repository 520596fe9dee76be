package io.sigma.agent.host;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import ch.qos.logback.classic.Level;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sigma.agent.api.Json;
import io.sigma.agent.api.SystemInfo;
import java.io.File;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

class SystemFactsReaderTest {
  private static final long GIB = 1L << 30;

  @Test
  void typicalProcRoot(@TempDir Path disk) {
    SystemFacts facts = new SystemFactsReader(Fixtures.procRoot("typical"), disk).read();
    assertEquals(2, facts.cpuCores());
    assertEquals(2034860 / 1024, facts.ramMb()); // 1987, as in the contract's example
    assertEquals(1987, facts.ramMb());
    assertEquals(86400, facts.uptimeSeconds());
    assertEquals(List.of(0.12, 0.08, 0.01), facts.loadAvg());
    assertEquals(new File(disk.toString()).getTotalSpace() / GIB, facts.diskGb());
  }

  @Test
  void oddButReadableFiles(@TempDir Path disk) {
    try (LogCapture logs = new LogCapture(SystemFactsReader.class)) {
      SystemFacts facts = new SystemFactsReader(Fixtures.procRoot("odd"), disk).read();
      assertEquals(4, facts.cpuCores());
      assertEquals(4095, facts.ramMb()); // 4194303 kB / 1024 = 4095.999…, rounded down
      assertEquals(12345, facts.uptimeSeconds());
      assertEquals(List.of(1.5, 0.75, 0.25), facts.loadAvg());
      assertEquals(List.of(), logs.messages(Level.WARN));
    }
  }

  @Test
  void missingFilesDegradeToZeroWithOneWarningEachAcrossManyReads(@TempDir Path emptyProc) {
    try (LogCapture logs = new LogCapture(SystemFactsReader.class)) {
      SystemFactsReader reader =
          new SystemFactsReader(emptyProc, emptyProc.resolve("no-such-mount"));
      for (int i = 0; i < 5; i++) {
        assertEquals(new SystemFacts(0, 0, 0, 0, 0, List.of(0.0, 0.0, 0.0)), reader.read());
      }
      List<String> warnings = logs.messages(Level.WARN);
      assertEquals(5, warnings.size(), warnings.toString());
      for (String field : List.of("cpu_cores", "ram_mb", "disk_gb", "uptime_seconds", "load_avg")) {
        assertEquals(
            1, warnings.stream().filter(w -> w.startsWith("system_info." + field)).count(), field);
      }
      assertTrue(
          warnings.stream().allMatch(w -> w.contains("file is missing") && w.contains("reporting")),
          warnings.toString());
      assertEquals(20, logs.messages(Level.DEBUG).size(), "repeats go to debug");
    }
  }

  @Test
  void malformedFilesDegradeToZeroWithOneWarningEach(@TempDir Path disk) {
    try (LogCapture logs = new LogCapture(SystemFactsReader.class)) {
      SystemFactsReader reader = new SystemFactsReader(Fixtures.procRoot("malformed"), disk);
      SystemFacts facts = reader.read();
      reader.read();
      assertEquals(0, facts.cpuCores());
      assertEquals(0, facts.ramMb());
      assertEquals(0, facts.uptimeSeconds());
      assertEquals(List.of(0.0, 0.0, 0.0), facts.loadAvg());
      assertTrue(facts.diskGb() > 0, "the disk is still read");
      List<String> warnings = logs.messages(Level.WARN);
      assertEquals(4, warnings.size(), warnings.toString());
      assertTrue(
          warnings.stream().anyMatch(w -> w.contains("no MemTotal line")), warnings.toString());
      assertTrue(
          warnings.stream().anyMatch(w -> w.contains("no 'processor' line")), warnings.toString());
      assertTrue(warnings.stream().anyMatch(w -> w.contains("'up 3 days'")), warnings.toString());
    }
  }

  /**
   * A FIFO, a symlink to /dev/zero and a 50 MB file: each field degrades to 0 with a warning naming
   * the file and why, the good file is still read, and nothing blocks (without the type check the
   * FIFO's open(2) never returns: the timeout fails the test instead).
   */
  @Test
  @Timeout(value = 20, unit = TimeUnit.SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
  void specialAndHugeFilesAreRefusedAndTheOtherFieldsStillRead(@TempDir Path dir) throws Exception {
    Path proc = HostileProcRoot.create(dir.resolve("proc"));
    try (LogCapture logs = new LogCapture(SystemFactsReader.class)) {
      SystemFactsReader reader = new SystemFactsReader(proc, dir);
      SystemFacts facts = reader.read();
      reader.read();
      assertEquals(0, facts.cpuCores());
      assertEquals(0, facts.ramMb());
      assertEquals(List.of(0.0, 0.0, 0.0), facts.loadAvg());
      assertEquals(86400, facts.uptimeSeconds(), "the good file is still read");
      assertEquals(
          List.of(
              "system_info.cpu_cores: cannot read "
                  + proc.resolve("cpuinfo")
                  + ": it is a FIFO, not a regular file; reporting 0 until it can be read",
              "system_info.ram_mb: cannot read "
                  + proc.resolve("meminfo")
                  + ": it is a character device, not a regular file; reporting 0 until it can be read",
              "system_info.load_avg: cannot read "
                  + proc.resolve("loadavg")
                  + ": it is larger than 1 MiB (the most the agent reads from it); reporting [0, 0, 0]"
                  + " until it can be read"),
          logs.messages(Level.WARN),
          "one warning each, not one per read");
    }
  }

  @Test
  void aDifferentProblemWithTheSameFileIsWarnedAgain(@TempDir Path proc) throws Exception {
    Path meminfo = proc.resolve("meminfo");
    try (LogCapture logs = new LogCapture(SystemFactsReader.class)) {
      SystemFactsReader reader = new SystemFactsReader(proc, proc);
      reader.read(); // all missing
      Files.writeString(meminfo, "MemFree: 5 kB\n");
      reader.read(); // meminfo now lacks MemTotal
      Files.writeString(meminfo, "MemTotal: 2048 kB\n");
      assertEquals(2, reader.read().ramMb());
      Files.writeString(meminfo, "MemFree: 7 kB\n");
      reader.read(); // the MemTotal problem again: no new warning
      List<String> memWarnings =
          logs.messages(Level.WARN).stream()
              .filter(w -> w.startsWith("system_info.ram_mb"))
              .toList();
      assertEquals(2, memWarnings.size(), memWarnings.toString());
      assertTrue(memWarnings.get(0).contains("file is missing"));
      assertTrue(memWarnings.get(1).contains("no MemTotal line"));
    }
  }

  @Test
  void separateReadersWarnSeparately(@TempDir Path emptyProc) {
    try (LogCapture logs = new LogCapture(SystemFactsReader.class)) {
      new SystemFactsReader(emptyProc, emptyProc).read();
      new SystemFactsReader(emptyProc, emptyProc).read();
      assertEquals(8, logs.messages(Level.WARN).size(), "4 missing proc files, per reader");
    }
  }

  @Test
  void toSystemInfoSerialisesAsTheContractShows() throws Exception {
    SystemFacts facts = new SystemFacts(2, 1987, 40, 12, 86400, List.of(0.12, 0.08, 0.01));
    ObjectMapper mapper = Json.newMapper();
    JsonNode full =
        mapper.readTree(mapper.writeValueAsString(facts.toSystemInfo(9102, "203.0.113.7")));
    assertEquals(
        mapper.readTree(
            """
        {"cpu_cores": 2, "ram_mb": 1987, "disk_gb": 40, "disk_used_gb": 12,
         "uptime_seconds": 86400, "load_avg": [0.12, 0.08, 0.01],
         "metrics_port": 9102, "public_ip": "203.0.113.7"}"""),
        full);
    JsonNode bare = mapper.readTree(mapper.writeValueAsString(facts.toSystemInfo(null, null)));
    assertFalse(bare.has("metrics_port"));
    assertFalse(bare.has("public_ip"));
    assertEquals(
        new SystemInfo(2, 1987, 40, 12, 86400, List.of(0.12, 0.08, 0.01), null, null),
        facts.toSystemInfo(null, null));
  }

  @Test
  void loadAvgMustHaveThreeNumbers() {
    assertThrows(
        IllegalArgumentException.class, () -> new SystemFacts(1, 1, 1, 1, 1, List.of(1.0)));
  }

  /**
   * This machine's /proc and / against independent sources: a plain count of the processor lines,
   * the JVM's total memory figure, java.io.File's statvfs view, and /proc/uptime read before and
   * after.
   */
  @Test
  void realProcAndRootFileSystem() throws Exception {
    long uptimeBefore =
        (long) Double.parseDouble(Files.readString(Path.of("/proc/uptime")).split(" ")[0]);
    SystemFacts facts = new SystemFactsReader(Path.of("/proc"), Path.of("/")).read();
    long uptimeAfter =
        (long) Double.parseDouble(Files.readString(Path.of("/proc/uptime")).split(" ")[0]);

    long processorLines;
    try (var lines = Files.lines(Path.of("/proc/cpuinfo"))) {
      processorLines = lines.filter(l -> l.startsWith("processor")).count();
    }
    assertEquals(processorLines, facts.cpuCores());
    assertTrue(uptimeBefore <= facts.uptimeSeconds() && facts.uptimeSeconds() <= uptimeAfter);
    assertEquals(new File("/").getTotalSpace() / GIB, facts.diskGb());
    assertTrue(facts.diskUsedGb() <= facts.diskGb());
    assertEquals(3, facts.loadAvg().size());
    assertTrue(facts.loadAvg().stream().allMatch(l -> l >= 0));
  }

  /**
   * MemTotal against {@code OperatingSystemMXBean#getTotalMemorySize}, which is MemTotal in bytes
   * unless the JVM runs under a cgroup memory limit (then it is the limit: skipped).
   */
  @Test
  void realMemTotalMatchesTheJvmFigure() throws Exception {
    Path cgroupLimit = Path.of("/sys/fs/cgroup/memory.max");
    assumeTrue(
        !Files.exists(cgroupLimit) || Files.readString(cgroupLimit).trim().equals("max"),
        "a cgroup memory limit makes the JVM report the limit instead of MemTotal");
    var os =
        (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
    SystemFacts facts = new SystemFactsReader(Path.of("/proc"), Path.of("/")).read();
    assertEquals(os.getTotalMemorySize() / 1024 / 1024, facts.ramMb());
  }
}
