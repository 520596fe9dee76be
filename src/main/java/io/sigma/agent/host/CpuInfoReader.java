package io.sigma.agent.host;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.regex.Pattern;

/**
 * {@code cpu_cores} from {@code /proc/cpuinfo}: the number of {@code processor : N} lines (one per
 * logical CPU the kernel sees; ARM's capitalised "Processor : ARMv7…" line is not one).
 */
public final class CpuInfoReader {
  private static final Pattern PROCESSOR_LINE =
      Pattern.compile("^processor\\s*:", Pattern.MULTILINE);

  private CpuInfoReader() {}

  public static int read(Path cpuinfo) throws IOException {
    return parse(
        HostFileReader.readString(
            cpuinfo, HostFileReader.DEFAULT_CAP, StandardCharsets.ISO_8859_1));
  }

  /**
   * @throws ProcFormatException when there is no processor line
   */
  public static int parse(String content) throws ProcFormatException {
    int count = (int) PROCESSOR_LINE.matcher(content).results().count();
    if (count == 0) {
      throw new ProcFormatException("no 'processor' line", LogText.excerpt(content, 60));
    }
    return count;
  }
}
