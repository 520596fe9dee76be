package io.sigma.agent.host;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * {@code MemTotal} from {@code /proc/meminfo}, in kB as the kernel writes it. Tolerates any spacing
 * around the colon and the number, a missing unit, other lines in any order.
 */
public final class MemInfoReader {
  private static final Pattern VALUE =
      Pattern.compile("(\\d{1,18})\\s*(kB)?", Pattern.CASE_INSENSITIVE);

  private MemInfoReader() {}

  public static long readMemTotalKb(Path meminfo) throws IOException {
    return parseMemTotalKb(
        HostFileReader.readString(
            meminfo, HostFileReader.DEFAULT_CAP, StandardCharsets.ISO_8859_1));
  }

  /**
   * @throws ProcFormatException when there is no MemTotal line or its value is not a kB count
   */
  public static long parseMemTotalKb(String content) throws ProcFormatException {
    for (String line : content.split("\n")) {
      int colon = line.indexOf(':');
      if (colon < 0 || !line.substring(0, colon).strip().equals("MemTotal")) {
        continue;
      }
      String value = line.substring(colon + 1).strip();
      Matcher m = VALUE.matcher(value);
      if (!m.matches()) {
        throw new ProcFormatException("MemTotal is not a number of kB", LogText.excerpt(value, 40));
      }
      return Long.parseLong(m.group(1));
    }
    throw new ProcFormatException("no MemTotal line");
  }
}
