package io.sigma.agent.bench;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** Writes one "## " section of a Markdown file, leaving the other sections as they are. */
final class Docs {
  private Docs() {}

  /**
   * Replaces the section that starts with the line {@code heading} (up to the next "## " line) with
   * {@code lines}, which start with the heading; appends it when the file has no such section, and
   * creates the file when it is missing.
   */
  static void replaceSection(Path file, String heading, List<String> lines) throws IOException {
    List<String> in =
        Files.exists(file)
            ? Files.readAllLines(file, StandardCharsets.UTF_8)
            : List.of("# Benchmarks", "");
    List<String> out = new ArrayList<>();
    boolean replaced = false;
    int i = 0;
    while (i < in.size()) {
      if (in.get(i).strip().equals(heading)) {
        out.addAll(lines);
        replaced = true;
        i++;
        while (i < in.size() && !in.get(i).startsWith("## ")) {
          i++;
        }
      } else {
        out.add(in.get(i++));
      }
    }
    if (!replaced) {
      if (!out.isEmpty() && !out.get(out.size() - 1).isBlank()) {
        out.add("");
      }
      out.addAll(lines);
    }
    while (!out.isEmpty() && out.get(out.size() - 1).isBlank()) {
      out.remove(out.size() - 1);
    }
    out.add("");
    Files.write(file, String.join("\n", out).getBytes(StandardCharsets.UTF_8));
  }
}
