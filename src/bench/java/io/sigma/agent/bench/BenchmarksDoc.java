package io.sigma.agent.bench;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Writes one benchmark's figures into docs/benchmarks.md without touching anything else in it:
 * within the benchmark's own {@code ## heading}, only the block between its begin/end markers is
 * replaced, so the hand-written text of the section and every other section stay as they are. A
 * missing file or section is created (heading, intro, markers).
 */
final class BenchmarksDoc {
  private final Path file;

  BenchmarksDoc(Path file) {
    this.file = file;
  }

  /**
   * @param heading the section's heading text, without {@code ## }
   * @param marker names the generated block, e.g. {@code fleet-simulation}
   * @param intro hand-written text for a new section (ignored when the section exists)
   * @param figures the generated block's new content
   */
  void writeFigures(String heading, String marker, String intro, String figures)
      throws IOException {
    String begin = "<!-- " + marker + ":begin (written by the benchmark; edit outside) -->";
    String end = "<!-- " + marker + ":end -->";
    String block = begin + "\n" + figures.strip() + "\n" + end;
    String text =
        Files.exists(file)
            ? Files.readString(file, StandardCharsets.UTF_8)
            : "# Benchmarks\n\nFigures measured on this project's machines; each section says how to "
                + "rerun it.\n";
    String headingLine = "## " + heading;
    int section = findLine(text, headingLine);
    String updated;
    if (section < 0) {
      updated =
          text.stripTrailing()
              + "\n\n"
              + headingLine
              + "\n\n"
              + intro.strip()
              + "\n\n"
              + block
              + "\n";
    } else {
      int next = nextHeading(text, section + headingLine.length());
      String body = text.substring(section, next);
      int b = body.indexOf(begin.substring(0, begin.indexOf(':')) + ":begin");
      int e = body.indexOf(end);
      String newBody;
      if (b >= 0 && e > b) {
        newBody = body.substring(0, b) + block + body.substring(e + end.length());
      } else {
        newBody = body.stripTrailing() + "\n\n" + block + "\n\n";
      }
      updated = text.substring(0, section) + newBody + text.substring(next);
    }
    Files.createDirectories(file.toAbsolutePath().getParent());
    Files.writeString(file, updated, StandardCharsets.UTF_8);
  }

  /** Index of a line equal to {@code line}, or -1. */
  private static int findLine(String text, String line) {
    int from = 0;
    while (true) {
      int i = text.indexOf(line, from);
      if (i < 0) {
        return -1;
      }
      boolean startsLine = i == 0 || text.charAt(i - 1) == '\n';
      int after = i + line.length();
      boolean endsLine =
          after == text.length() || text.charAt(after) == '\n' || text.charAt(after) == '\r';
      if (startsLine && endsLine) {
        return i;
      }
      from = i + 1;
    }
  }

  /** Start of the next "## " heading line after {@code from}, or the end of the text. */
  private static int nextHeading(String text, int from) {
    int i = from;
    while (true) {
      int nl = text.indexOf('\n', i);
      if (nl < 0) {
        return text.length();
      }
      if (text.startsWith("## ", nl + 1)) {
        return nl + 1;
      }
      i = nl + 1;
    }
  }
}
