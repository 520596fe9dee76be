package io.sigma.agent.api;

/** Values from the API in messages and logs: control characters masked, length capped. */
final class Excerpt {
  private static final int MAX = 64;

  private Excerpt() {}

  static String of(String value) {
    if (value == null) {
      return "null";
    }
    String head = value.length() > MAX ? value.substring(0, MAX) : value;
    StringBuilder b = new StringBuilder(head.length() + 16);
    head.codePoints()
        .forEach(
            c -> {
              if (Character.isISOControl(c)
                  || Character.getType(c) == Character.FORMAT
                  || Character.getType(c) == Character.LINE_SEPARATOR
                  || Character.getType(c) == Character.PARAGRAPH_SEPARATOR) {
                b.append('?');
              } else {
                b.appendCodePoint(c);
              }
            });
    if (value.length() > MAX) {
      b.append("… (").append(value.length()).append(" chars)");
    }
    return b.toString();
  }
}
