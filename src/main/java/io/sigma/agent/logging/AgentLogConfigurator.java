package io.sigma.agent.logging;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.PatternLayout;
import ch.qos.logback.classic.spi.Configurator;
import ch.qos.logback.classic.spi.ConfiguratorRank;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.ConsoleAppender;
import ch.qos.logback.core.OutputStreamAppender;
import ch.qos.logback.core.encoder.Encoder;
import ch.qos.logback.core.encoder.LayoutWrappingEncoder;
import ch.qos.logback.core.spi.ContextAwareBase;
import io.sigma.agent.config.LogFormat;
import io.sigma.agent.config.LogLevel;
import java.util.Map;
import org.slf4j.LoggerFactory;

/**
 * The agent's logging, set up in code: one line per event on stdout (journald and docker logs add
 * their own timestamps, operators grep these). Logback finds this class through META-INF/services
 * and skips its XML configurator, which would load an XML parser and several hundred classes (a few
 * MB of a 512 MB VPS) to read three settings.
 *
 * <p>{@code AGENT_LOG_LEVEL} (default INFO) sets the agent's level, {@code PEKKO_LOG_LEVEL}
 * (default WARN) Pekko's. Once the settings are read (a flag or the config file may set them),
 * {@link #apply} configures the level and the format ({@code --log-format json}: one JSON object
 * per line, see {@link SafeJsonEncoder}) again; SIGHUP may change the level later.
 *
 * <p>Values from clients and sigma-api end up in messages, so the layout escapes control characters
 * (one event is one line, see {@link ControlCharacters}), and repeated WARN/ERROR lines are
 * rate-limited ({@link RepeatedWarningFilter}).
 *
 * <p>A {@code logback.xml} named by {@code -Dlogback.configurationFile}, or a {@code
 * logback-test.xml} on the class path (the tests), still wins.
 */
@ConfiguratorRank(ConfiguratorRank.CUSTOM_HIGH_PRIORITY)
public final class AgentLogConfigurator extends ContextAwareBase implements Configurator {
  static final String PATTERN =
      "%d{yyyy-MM-dd'T'HH:mm:ss.SSSXXX} %-5level [%logger{0}] %safeMsg%n%safeEx";

  @Override
  public ExecutionStatus configure(LoggerContext context) {
    if (!isInCharge()) {
      return ExecutionStatus.INVOKE_NEXT_IF_ANY;
    }
    configure(context, System.getenv());
    return ExecutionStatus.DO_NOT_INVOKE_NEXT_IF_ANY;
  }

  /** False when a logback.xml of the operator's (or the tests' logback-test.xml) configures it. */
  private static boolean isInCharge() {
    return System.getProperty("logback.configurationFile") == null
        && AgentLogConfigurator.class.getClassLoader().getResource("logback-test.xml") == null;
  }

  /**
   * Configures the process's logging again with the validated settings, when this class is in
   * charge of it (not when a logback.xml is).
   */
  public static void apply(LogLevel level, LogFormat format) {
    if (LoggerFactory.getILoggerFactory() instanceof LoggerContext context && isInCharge()) {
      context.reset();
      configure(context, System.getenv(), level, format, new ConsoleAppender<>());
    }
  }

  /** Sets the agent's level (SIGHUP); Pekko's and the format stay. */
  public static void setLevel(LogLevel level) {
    if (LoggerFactory.getILoggerFactory() instanceof LoggerContext context && isInCharge()) {
      setLevel(context, level);
    }
  }

  static void setLevel(LoggerContext context, LogLevel level) {
    context.getLogger(Logger.ROOT_LOGGER_NAME).setLevel(Level.toLevel(level.name()));
  }

  static void configure(LoggerContext context, Map<String, String> env) {
    configure(context, env, new ConsoleAppender<>());
  }

  /** Configures {@code context} to write through {@code appender} (stdout, or a test's stream). */
  static void configure(
      LoggerContext context,
      Map<String, String> env,
      OutputStreamAppender<ILoggingEvent> appender) {
    configure(context, env, null, LogFormat.TEXT, appender);
  }

  /**
   * @param level the agent's level, or null to read AGENT_LOG_LEVEL from {@code env} (before the
   *     settings are validated)
   */
  static void configure(
      LoggerContext context,
      Map<String, String> env,
      LogLevel level,
      LogFormat format,
      OutputStreamAppender<ILoggingEvent> appender) {
    appender.setContext(context);
    appender.setName("STDOUT");
    appender.setEncoder(format == LogFormat.JSON ? jsonEncoder(context) : textEncoder(context));
    appender.start();
    RepeatedWarningFilter repeatedWarnings = new RepeatedWarningFilter();
    repeatedWarnings.setContext(context);
    repeatedWarnings.start();
    context.addTurboFilter(repeatedWarnings);
    PekkoBindFailureFilter bindFailures = new PekkoBindFailureFilter();
    bindFailures.setContext(context);
    bindFailures.start();
    context.addTurboFilter(bindFailures);
    Logger root = context.getLogger(Logger.ROOT_LOGGER_NAME);
    root.setLevel(
        level != null
            ? Level.toLevel(level.name())
            : level(env.get("AGENT_LOG_LEVEL"), Level.INFO));
    root.addAppender(appender);
    context.getLogger("org.apache.pekko").setLevel(level(env.get("PEKKO_LOG_LEVEL"), Level.WARN));
    context.getLogger("io.grpc").setLevel(Level.WARN);
  }

  private static Encoder<ILoggingEvent> textEncoder(LoggerContext context) {
    PatternLayout layout = new PatternLayout();
    layout.getInstanceConverterMap().put("safeMsg", EscapedMessageConverter::new);
    layout.getInstanceConverterMap().put("safeEx", EscapedThrowableConverter::new);
    layout.setContext(context);
    layout.setPattern(PATTERN);
    layout.start();
    LayoutWrappingEncoder<ILoggingEvent> encoder = new LayoutWrappingEncoder<>();
    encoder.setContext(context);
    encoder.setLayout(layout);
    encoder.start();
    return encoder;
  }

  private static Encoder<ILoggingEvent> jsonEncoder(LoggerContext context) {
    SafeJsonEncoder encoder = new SafeJsonEncoder();
    encoder.setContext(context);
    encoder.start();
    return encoder;
  }

  private static Level level(String name, Level fallback) {
    return name == null || name.isBlank() ? fallback : Level.toLevel(name.trim(), fallback);
  }
}
