package io.sigma.agent.host;

import java.nio.file.Path;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reads {@link SystemFacts} from a proc root ({@code cpuinfo}, {@code meminfo}, {@code uptime},
 * {@code loadavg}) and the file system of a path (statvfs). Reads the files on every call.
 *
 * <p>Never throws: a field whose source is missing or malformed is 0 (load: 0, 0, 0), and each
 * distinct problem is logged once per instance (then at debug). Keep one instance for the agent's
 * lifetime so a broken file gives one warning, not one per heartbeat.
 */
public final class SystemFactsReader {
  private static final Logger log = LoggerFactory.getLogger(SystemFactsReader.class);
  private static final List<Double> NO_LOAD = List.of(0.0, 0.0, 0.0);

  private final Path cpuinfo;
  private final Path meminfo;
  private final Path uptime;
  private final Path loadavg;
  private final Path diskPath;
  private final WarnOnce warnings = new WarnOnce(log);

  /**
   * @param procRoot the host's proc directory, usually {@code /proc}
   * @param diskPath a path on the file system to report, usually {@code /}
   */
  public SystemFactsReader(Path procRoot, Path diskPath) {
    this.cpuinfo = procRoot.resolve("cpuinfo");
    this.meminfo = procRoot.resolve("meminfo");
    this.uptime = procRoot.resolve("uptime");
    this.loadavg = procRoot.resolve("loadavg");
    this.diskPath = diskPath;
  }

  public SystemFacts read() {
    int cpuCores = readOr("cpu_cores", cpuinfo, () -> CpuInfoReader.read(cpuinfo), 0, "0");
    long ramMb =
        readOr("ram_mb", meminfo, () -> MemInfoReader.readMemTotalKb(meminfo) / 1024, 0L, "0");
    DiskSpace disk =
        readOr(
            "disk_gb/disk_used_gb",
            diskPath,
            () -> DiskSpaceReader.read(diskPath),
            new DiskSpace(0, 0),
            "0");
    long uptimeSeconds =
        readOr("uptime_seconds", uptime, () -> UptimeReader.readSeconds(uptime), 0L, "0");
    List<Double> load =
        readOr("load_avg", loadavg, () -> LoadAvgReader.read(loadavg), NO_LOAD, "[0, 0, 0]");
    return new SystemFacts(cpuCores, ramMb, disk.totalGb(), disk.usedGb(), uptimeSeconds, load);
  }

  private interface Source<T> {
    T read() throws Exception;
  }

  private <T> T readOr(String field, Path file, Source<T> source, T fallback, String fallbackText) {
    try {
      return source.read();
    } catch (Exception e) {
      warnings.warn(
          WarnOnce.key(file, e),
          "system_info."
              + field
              + ": cannot read "
              + file
              + ": "
              + WarnOnce.describe(e)
              + "; reporting "
              + fallbackText
              + " until it can be read");
      return fallback;
    }
  }
}
