package io.sigma.agent.host;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** {@code uptime_seconds} from {@code /proc/uptime}: its first number, rounded down. */
public final class UptimeReader {
  private static final Pattern FIRST_NUMBER =
      Pattern.compile("(\\d{1,18})(\\.\\d+)?(\\s.*)?", Pattern.DOTALL);

  private UptimeReader() {}

  public static long readSeconds(Path uptime) throws IOException {
    return parseSeconds(
        HostFileReader.readString(uptime, HostFileReader.DEFAULT_CAP, StandardCharsets.ISO_8859_1));
  }

  /**
   * @throws ProcFormatException when the text does not start with a non-negative number
   */
  public static long parseSeconds(String content) throws ProcFormatException {
    Matcher m = FIRST_NUMBER.matcher(content.strip());
    if (!m.matches()) {
      throw new ProcFormatException(
          "does not start with a number of seconds", LogText.excerpt(content, 40));
    }
    return Long.parseLong(m.group(1));
  }
}
