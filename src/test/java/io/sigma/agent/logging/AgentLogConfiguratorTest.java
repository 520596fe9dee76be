package io.sigma.agent.logging;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.util.LogbackMDCAdapter;
import ch.qos.logback.core.OutputStreamAppender;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

class AgentLogConfiguratorTest {
  private static final String FORGED = "2026-01-01T00:00:00.000Z INFO  [Forged] evil";

  /** What starts a line of the agent's log: its timestamp. */
  private static final Pattern EVENT_START = Pattern.compile("^\\d{4}-\\d{2}-\\d{2}T.*");

  private final LoggerContext context = new LoggerContext();
  private final ByteArrayOutputStream out = new ByteArrayOutputStream();

  @Test
  void defaultsAreInfoForTheAgentAndWarnForPekko() {
    AgentLogConfigurator.configure(context, Map.of());
    assertEquals(Level.INFO, context.getLogger(Logger.ROOT_LOGGER_NAME).getLevel());
    assertEquals(Level.WARN, context.getLogger("org.apache.pekko").getLevel());
    assertNotNull(context.getLogger(Logger.ROOT_LOGGER_NAME).getAppender("STDOUT"));
  }

  @Test
  void levelsComeFromTheEnvironment() {
    AgentLogConfigurator.configure(
        context, Map.of("AGENT_LOG_LEVEL", "debug", "PEKKO_LOG_LEVEL", "INFO"));
    assertEquals(Level.DEBUG, context.getLogger(Logger.ROOT_LOGGER_NAME).getLevel());
    assertEquals(Level.INFO, context.getLogger("org.apache.pekko").getLevel());
  }

  @Test
  void aBadLevelFallsBackToTheDefault() {
    AgentLogConfigurator.configure(context, Map.of("AGENT_LOG_LEVEL", "loud"));
    assertEquals(Level.INFO, context.getLogger(Logger.ROOT_LOGGER_NAME).getLevel());
  }

  /** A taken port is reported by the agent in one line; Pekko's stack trace of it is dropped. */
  @Test
  void pekkosBindFailureStackTraceIsDroppedButItsOtherErrorsPass() {
    Logger log = configured().getLogger("org.apache.pekko.io.TcpListener");

    log.error(
        "Bind failed for TCP channel on endpoint [/127.0.0.1:9102]",
        new java.net.BindException("[/127.0.0.1:9102] Address already in use"));
    assertEquals("", text());

    log.error(
        "Accept error: could not accept new connection",
        new java.io.IOException("Too many open files"));
    assertTrue(text().contains("Accept error") && text().contains("Too many open files"), text());
  }

  @Test
  void aValueWithALineBreakCannotForgeALine() {
    Logger log = configured().getLogger("io.sigma.agent.xds.AdsService");

    log.info("xDS stream {} opened for node {}", 7, "node\n" + FORGED);

    List<String> lines = lines();
    assertEquals(1, lines.size(), text());
    assertTrue(
        lines
            .get(0)
            .matches(
                "\\S+ INFO  \\[AdsService] xDS stream 7 opened for node node\\\\n2026-01-01T00:00:00.000Z INFO  "
                    + "\\[Forged] evil"),
        lines.get(0));
  }

  @Test
  void carriageReturnsTabsAnsiEscapesAndOtherControlsAreEscaped() {
    Logger log = configured().getLogger("test");

    log.warn("values {}", "a\rb\tc\u001b[31mred\u009b2J\u007f\u0000\u2028end");

    String line = lines().get(0);
    assertTrue(
        line.endsWith("values a\\rb\\tc\\u001B[31mred\\u009B2J\\u007F\\u0000\\u2028end"), line);
    assertEquals(1, lines().size(), text());
    assertFalse(
        text().chars().anyMatch(c -> c < 0x20 && c != '\n'), "no raw control but the line end");
  }

  @Test
  void aThrowableMessageCannotStartAFakeEventLine() {
    Logger log = configured().getLogger("test");
    RuntimeException cause = new IllegalStateException("answer\n" + FORGED);

    log.warn("request failed", new RuntimeException("outer\r\n" + FORGED, cause));

    List<String> lines = lines();
    assertTrue(lines.size() > 2, "the stack trace is printed: " + text());
    assertEquals(1, lines.stream().filter(l -> EVENT_START.matcher(l).matches()).count(), text());
    assertTrue(
        lines.get(1).equals("java.lang.RuntimeException: outer\\r\\n" + FORGED), lines.get(1));
    assertTrue(
        lines.stream()
            .anyMatch(
                l -> l.equals("Caused by: java.lang.IllegalStateException: answer\\n" + FORGED)),
        text());
  }

  @Test
  void repeatedWarningsAreRateLimited() {
    Logger log = configured().getLogger("io.sigma.agent.ports.AllocateRoute");

    for (int i = 0; i < 1_000; i++) {
      log.warn("bad allocate request from {}: {}", "127.0.0.1", i);
    }
    log.info("an info line always passes");

    assertEquals(RepeatedWarningFilter.BURST + 1, lines().size(), text());
  }

  private LoggerContext configured() {
    context.setMDCAdapter(new LogbackMDCAdapter());
    OutputStreamAppender<ILoggingEvent> appender = new OutputStreamAppender<>();
    appender.setOutputStream(out);
    AgentLogConfigurator.configure(context, Map.of(), appender);
    return context;
  }

  private String text() {
    return out.toString(StandardCharsets.UTF_8);
  }

  private List<String> lines() {
    return text().lines().toList();
  }
}
