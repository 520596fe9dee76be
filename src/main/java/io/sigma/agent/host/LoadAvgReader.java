package io.sigma.agent.host;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

/** {@code load_avg} from {@code /proc/loadavg}: its first three numbers (1, 5, 15 minutes). */
public final class LoadAvgReader {
  private static final Pattern NUMBER = Pattern.compile("\\d{1,9}(\\.\\d{1,9})?");

  private LoadAvgReader() {}

  public static List<Double> read(Path loadavg) throws IOException {
    return parse(
        HostFileReader.readString(
            loadavg, HostFileReader.DEFAULT_CAP, StandardCharsets.ISO_8859_1));
  }

  /**
   * @throws ProcFormatException when the text does not start with three non-negative numbers
   */
  public static List<Double> parse(String content) throws ProcFormatException {
    String[] fields = content.strip().split("\\s+");
    List<Double> averages = new ArrayList<>(3);
    for (int i = 0; i < 3; i++) {
      if (i >= fields.length || !NUMBER.matcher(fields[i]).matches()) {
        throw new ProcFormatException(
            "does not start with three load averages", LogText.excerpt(content, 40));
      }
      averages.add(Double.parseDouble(fields[i]));
    }
    return List.copyOf(averages);
  }
}
