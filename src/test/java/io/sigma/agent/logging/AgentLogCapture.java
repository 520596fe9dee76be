package io.sigma.agent.logging;

import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.util.ContextInitializer;
import ch.qos.logback.core.OutputStreamAppender;
import ch.qos.logback.core.joran.spi.JoranException;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import org.slf4j.LoggerFactory;

/**
 * Puts the process's logging under the agent's own configuration ({@link AgentLogConfigurator}, not
 * logback-test.xml) for the length of a test, writing into memory, so a test can read what an
 * operator would see. {@link #close()} restores the test configuration.
 */
public final class AgentLogCapture implements AutoCloseable {
  private final LoggerContext context;
  private final ByteArrayOutputStream out = new ByteArrayOutputStream();

  private AgentLogCapture(LoggerContext context) {
    this.context = context;
  }

  /** Reconfigures the process's LoggerContext with the agent's configurator. */
  public static AgentLogCapture start() {
    LoggerContext context = (LoggerContext) LoggerFactory.getILoggerFactory();
    AgentLogCapture capture = new AgentLogCapture(context);
    context.reset();
    OutputStreamAppender<ILoggingEvent> appender = new OutputStreamAppender<>();
    appender.setOutputStream(capture.out);
    AgentLogConfigurator.configure(context, Map.of(), appender);
    return capture;
  }

  /** Everything logged so far. */
  public String text() {
    return out.toString(StandardCharsets.UTF_8);
  }

  /** The lines logged so far. */
  public List<String> lines() {
    return text().lines().toList();
  }

  @Override
  public void close() throws JoranException {
    context.reset();
    new ContextInitializer(context).autoConfig();
  }
}
