package io.sigma.agent.logging;

import ch.qos.logback.classic.pattern.ClassicConverter;
import ch.qos.logback.classic.spi.ILoggingEvent;

/**
 * {@code %safeMsg}: the formatted message with its control characters escaped, so one event is one
 * line whatever a client or sigma-api put in the values it carries (node.id, error_detail, VPS ids,
 * answers, file contents).
 */
public final class EscapedMessageConverter extends ClassicConverter {
  @Override
  public String convert(ILoggingEvent event) {
    return ControlCharacters.escape(event.getFormattedMessage());
  }
}
