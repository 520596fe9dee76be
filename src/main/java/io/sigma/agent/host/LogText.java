package io.sigma.agent.host;

/** Quoting untrusted text (file contents, HTTP answers) in log lines and error messages. */
final class LogText {
  private LogText() {}

  /**
   * At most {@code max} characters of {@code text} on one line, quoted; "…" marks a cut and other
   * control characters become '?', so the text cannot forge or garble log lines.
   */
  static String excerpt(String text, int max) {
    String oneLine = text.replaceAll("\\s+", " ").replaceAll("\\p{Cntrl}", "?").strip();
    return oneLine.length() <= max ? "'" + oneLine + "'" : "'" + oneLine.substring(0, max) + "…'";
  }
}
