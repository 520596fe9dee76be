package io.sigma.agent.logging;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.turbo.TurboFilter;
import ch.qos.logback.core.spi.FilterReply;
import org.slf4j.Marker;

/**
 * Drops Pekko's own "Bind failed for TCP channel on endpoint [...]" error, logged with a 30-line
 * BindException stack trace when a port is taken: the agent reports the same failure itself, in one
 * line that names the setting to change ("Could not start the metrics server: 127.0.0.1:9102 is
 * already in use. Free the port or change --metrics-port ..."). TcpListener's other errors (e.g.
 * "Accept error", when file descriptors run out) still pass.
 */
final class PekkoBindFailureFilter extends TurboFilter {
  static final String LOGGER = "org.apache.pekko.io.TcpListener";

  @Override
  public FilterReply decide(
      Marker marker, Logger logger, Level level, String format, Object[] params, Throwable t) {
    return format != null
            && format.startsWith("Bind failed for TCP channel")
            && LOGGER.equals(logger.getName())
        ? FilterReply.DENY
        : FilterReply.NEUTRAL;
  }
}
