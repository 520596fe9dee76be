package io.sigma.agent.xds;

/**
 * Route values from sigma-api in messages an operator reads (log lines, /xds/status): on one line,
 * without characters that could forge or garble a line, and bounded in length. The API is not
 * trusted, so a route name may be 10 MB of newlines and right-to-left overrides.
 *
 * <p>Characters escaped: C0/C1 controls and DEL, Unicode format characters (bidi overrides,
 * zero-width characters), line and paragraph separators, and lone surrogates. They become {@code
 * \n}, {@code \r}, {@code \t} or {@code \}{@code uXXXX}.
 */
final class QuotedText {

  /** Marks a cut: the value went on. */
  static final String CUT = "…";

  private QuotedText() {}

  /**
   * {@code value} in single quotes, escaped so it reads back unambiguously (a backslash and a quote
   * are escaped too), at most {@code max} characters between the quotes plus the cut mark; {@code
   * null} for a null value.
   */
  static String quote(String value, int max) {
    if (value == null) {
      return "null";
    }
    return "'" + escaped(value, max, true) + "'";
  }

  /**
   * {@code text} with unsafe characters escaped (backslashes and quotes kept as they are, so text
   * built from {@link #quote} values is unchanged), cut after {@code max} characters.
   */
  static String oneLine(String text, int max) {
    return text == null ? "null" : escaped(text, max, false);
  }

  private static String escaped(String text, int max, boolean quoting) {
    StringBuilder out = new StringBuilder(Math.min(text.length(), max) + 8);
    for (int i = 0; i < text.length(); i++) {
      char c = text.charAt(i);
      String piece;
      if (Character.isHighSurrogate(c)
          && i + 1 < text.length()
          && Character.isLowSurrogate(text.charAt(i + 1))) {
        piece = text.substring(i, i + 2);
        if (isUnsafe(text.codePointAt(i))) {
          piece = unicodeEscape(c) + unicodeEscape(text.charAt(i + 1));
        }
        i++;
      } else if (quoting && (c == '\\' || c == '\'')) {
        piece = "\\" + c;
      } else if (c == '\n') {
        piece = "\\n";
      } else if (c == '\r') {
        piece = "\\r";
      } else if (c == '\t') {
        piece = "\\t";
      } else if (Character.isSurrogate(c) || isUnsafe(c)) {
        piece = unicodeEscape(c);
      } else {
        piece = String.valueOf(c);
      }
      if (out.length() + piece.length() > max) {
        return out.append(CUT).toString();
      }
      out.append(piece);
    }
    return out.toString();
  }

  private static boolean isUnsafe(int codePoint) {
    int type = Character.getType(codePoint);
    return type == Character.CONTROL
        || type == Character.FORMAT
        || type == Character.LINE_SEPARATOR
        || type == Character.PARAGRAPH_SEPARATOR
        || type == Character.UNASSIGNED
        || type == Character.PRIVATE_USE;
  }

  private static String unicodeEscape(char c) {
    return String.format("\\u%04X", (int) c);
  }
}
