package io.sigma.agent.bench;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * Reads one process's footprint from outside: RSS ({@code VmRSS} of /proc/PID/status), heap after a
 * full GC ({@code jcmd PID GC.run}, then the used bytes of {@code jcmd PID GC.heap_info}: right
 * after a full collection of the serial collector that is the live set), threads (entries of
 * /proc/PID/task) and open file descriptors (entries of /proc/PID/fd).
 */
final class SoakSampler {
  /** One sample; {@code seconds} since the soak's clock started. */
  record Sample(double seconds, long rssKb, long heapAfterGcKb, int threads, int fds) {}

  /** "def new generation total 3776K, used 123K" / "tenured generation total 9000K, used 5000K". */
  private static final Pattern USED =
      Pattern.compile("generation\\s+total\\s+\\d+K,\\s+used\\s+(\\d+)K");

  private final long pid;

  SoakSampler(long pid) {
    this.pid = pid;
  }

  Sample sample(double seconds) throws IOException, InterruptedException {
    jcmd("GC.run");
    long heap = parseHeapUsedKb(jcmd("GC.heap_info"));
    return new Sample(seconds, rssKb(), heap, count("task"), count("fd"));
  }

  /** Sum of the generations' used kB in a serial-GC heap_info report; -1 if none is there. */
  static long parseHeapUsedKb(String heapInfo) {
    Matcher m = USED.matcher(heapInfo);
    long sum = 0;
    boolean found = false;
    while (m.find()) {
      sum += Long.parseLong(m.group(1));
      found = true;
    }
    return found ? sum : -1;
  }

  private long rssKb() throws IOException {
    for (String line : Files.readAllLines(Path.of("/proc/" + pid + "/status"))) {
      if (line.startsWith("VmRSS:")) {
        return Long.parseLong(line.replaceAll("\\D", ""));
      }
    }
    throw new IOException("no VmRSS in /proc/" + pid + "/status");
  }

  private int count(String dir) throws IOException {
    try (Stream<Path> entries = Files.list(Path.of("/proc/" + pid + "/" + dir))) {
      return (int) entries.count();
    }
  }

  private String jcmd(String command) throws IOException, InterruptedException {
    Process p =
        new ProcessBuilder("jcmd", Long.toString(pid), command).redirectErrorStream(true).start();
    String out;
    try (InputStream in = p.getInputStream()) {
      out = new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
    if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
      p.destroyForcibly();
      throw new IOException("jcmd " + pid + " " + command + " failed: " + out.strip());
    }
    return out;
  }
}
