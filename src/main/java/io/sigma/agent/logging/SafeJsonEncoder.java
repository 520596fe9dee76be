package io.sigma.agent.logging;

import ch.qos.logback.classic.encoder.JsonEncoder;
import ch.qos.logback.classic.spi.ILoggingEvent;
import java.nio.charset.StandardCharsets;

/**
 * {@code --log-format json}: logback's {@link JsonEncoder}, one JSON object per line with {@code
 * timestamp} (epoch milliseconds), {@code level}, {@code loggerName}, {@code formattedMessage} and
 * {@code throwable} (class, message, frames, causes).
 *
 * <p>JSON escaping keeps a line feed in a value from starting a line; logback escapes the C0
 * controls but leaves DEL, the C1 controls (ANSI CSI among them) and U+2028/U+2029 raw. They only
 * occur inside JSON strings (the structure is ASCII), so they are written as {@code \}{@code u00XX}
 * escapes here: same JSON value, and the guarantee of the text format ({@link ControlCharacters})
 * holds for json too.
 */
public final class SafeJsonEncoder extends JsonEncoder {
  public SafeJsonEncoder() {
    setWithSequenceNumber(false);
    setWithNanoseconds(false);
    setWithThreadName(false);
    setWithContext(false);
    setWithMDC(false);
    setWithMessage(false);
    setWithArguments(false);
    setWithFormattedMessage(true);
  }

  @Override
  public byte[] encode(ILoggingEvent event) {
    byte[] bytes = super.encode(event);
    if (!mayHoldControls(bytes)) {
      return bytes;
    }
    String json = new String(bytes, StandardCharsets.UTF_8);
    StringBuilder escaped = new StringBuilder(json.length() + 16);
    for (int i = 0; i < json.length(); i++) {
      char c = json.charAt(i);
      // C0 controls are already escaped by logback, apart from the line feed that ends the object
      if (c >= 0x20 && ControlCharacters.isControl(c)) {
        escaped.append(ControlCharacters.escape(String.valueOf(c)));
      } else {
        escaped.append(c);
      }
    }
    return escaped.toString().getBytes(StandardCharsets.UTF_8);
  }

  /** DEL is 0x7F; C1 and U+2028/9 are multi-byte in UTF-8, so their bytes are >= 0x80. */
  private static boolean mayHoldControls(byte[] bytes) {
    for (byte b : bytes) {
      if (b < 0 || b == 0x7F) {
        return true;
      }
    }
    return false;
  }
}
