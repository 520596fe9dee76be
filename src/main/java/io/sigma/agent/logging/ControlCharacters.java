package io.sigma.agent.logging;

/**
 * Escapes the characters that let a logged value forge log lines or drive a terminal: CR, LF and
 * the other C0 controls, DEL, the C1 controls (ANSI CSI among them) and the Unicode line and
 * paragraph separators. {@code \n}, {@code \r} and {@code \t} become those two-character escapes,
 * the others {@code \}{@code u00XX}. Everything else, backslashes included, is kept as it is.
 */
public final class ControlCharacters {
  private static final char[] HEX = "0123456789ABCDEF".toCharArray();

  private ControlCharacters() {}

  /** {@code text} with its control characters escaped; {@code text} itself when it has none. */
  public static String escape(String text) {
    if (text == null) {
      return null;
    }
    int first = 0;
    while (first < text.length() && !isControl(text.charAt(first))) {
      first++;
    }
    if (first == text.length()) {
      return text;
    }
    StringBuilder escaped = new StringBuilder(text.length() + 16).append(text, 0, first);
    for (int i = first; i < text.length(); i++) {
      char c = text.charAt(i);
      switch (c) {
        case '\n' -> escaped.append("\\n");
        case '\r' -> escaped.append("\\r");
        case '\t' -> escaped.append("\\t");
        default -> {
          if (isControl(c)) {
            escaped
                .append("\\u")
                .append(HEX[c >> 12])
                .append(HEX[(c >> 8) & 0xF])
                .append(HEX[(c >> 4) & 0xF])
                .append(HEX[c & 0xF]);
          } else {
            escaped.append(c);
          }
        }
      }
    }
    return escaped.toString();
  }

  static boolean isControl(char c) {
    return c < 0x20 || (c >= 0x7F && c <= 0x9F) || c == '\u2028' || c == '\u2029';
  }
}
