package io.sigma.agent.logging;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.util.LogbackMDCAdapter;
import ch.qos.logback.core.OutputStreamAppender;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sigma.agent.config.LogFormat;
import io.sigma.agent.config.LogLevel;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** --log-format text|json and --log-level, on a LoggerContext of the test's own. */
class LogFormatTest {
  private final LoggerContext context = new LoggerContext();
  private final ByteArrayOutputStream out = new ByteArrayOutputStream();
  private final ObjectMapper json = new ObjectMapper();

  private LoggerContext configured(LogLevel level, LogFormat format) {
    context.setMDCAdapter(new LogbackMDCAdapter());
    OutputStreamAppender<ILoggingEvent> appender = new OutputStreamAppender<>();
    appender.setOutputStream(out);
    AgentLogConfigurator.configure(
        context, Map.of("AGENT_LOG_LEVEL", "error"), level, format, appender);
    return context;
  }

  private List<String> lines() {
    return out.toString(StandardCharsets.UTF_8).lines().toList();
  }

  @Test
  void jsonIsOneObjectPerLineWithTimestampLevelLoggerMessageAndException() throws Exception {
    Logger log =
        configured(LogLevel.INFO, LogFormat.JSON).getLogger("io.sigma.agent.xds.AdsService");

    log.info("xDS stream {} opened for node {}", 7, "node-a");
    log.warn("request failed", new IllegalStateException("connection refused"));

    List<String> lines = lines();
    assertEquals(2, lines.size(), String.join("\n", lines));
    JsonNode info = json.readTree(lines.get(0));
    assertTrue(info.get("timestamp").asLong() > 1_700_000_000_000L, lines.get(0));
    assertEquals("INFO", info.get("level").asText());
    assertEquals("io.sigma.agent.xds.AdsService", info.get("loggerName").asText());
    assertEquals("xDS stream 7 opened for node node-a", info.get("formattedMessage").asText());
    assertFalse(info.has("mdc") || info.has("context") || info.has("arguments"), lines.get(0));
    JsonNode warn = json.readTree(lines.get(1));
    assertEquals(
        "java.lang.IllegalStateException", warn.get("throwable").get("className").asText());
    assertEquals("connection refused", warn.get("throwable").get("message").asText());
  }

  @Test
  void jsonKeepsOneEventOnOneLineAndEscapesEveryControlCharacter() throws Exception {
    Logger log = configured(LogLevel.INFO, LogFormat.JSON).getLogger("test");
    String hostile =
        "node\n2026-01-01T00:00:00.000Z INFO [Forged] evil\u001B[31m\u009B2J\u007F\u2028end";

    log.info("node {}", hostile, new RuntimeException("outer\r\n" + hostile));

    List<String> lines = lines();
    assertEquals(1, lines.size(), String.join("\n", lines));
    String line = lines.get(0);
    assertTrue(
        line.chars()
            .allMatch(
                c ->
                    c >= 0x20
                        && c != 0x7F
                        && !(c >= 0x80 && c <= 0x9F)
                        && c != 0x2028
                        && c != 0x2029),
        "raw control character in " + line);
    assertTrue(
        line.contains("\\u009B") && line.contains("\\u007F") && line.contains("\\u2028"), line);
    JsonNode event = json.readTree(line);
    assertEquals("node " + hostile, event.get("formattedMessage").asText(), "same value, escaped");
    assertEquals("outer\r\n" + hostile, event.get("throwable").get("message").asText());
  }

  @Test
  void textStaysTheDefaultFormat() {
    Logger log = configured(LogLevel.INFO, LogFormat.TEXT).getLogger("io.sigma.agent.Main");
    log.info("hello");
    assertTrue(
        lines().get(0).matches("\\d{4}-\\d{2}-\\d{2}T\\S+ INFO  \\[Main] hello"), lines().get(0));
  }

  @Test
  void theLevelSettingBeatsTheEnvironmentAndCanChangeLater() {
    Logger log = configured(LogLevel.DEBUG, LogFormat.TEXT).getLogger("test");
    assertEquals(Level.DEBUG, context.getLogger(Logger.ROOT_LOGGER_NAME).getLevel());
    log.debug("shown");
    AgentLogConfigurator.setLevel(context, LogLevel.WARN);
    log.info("hidden");
    log.warn("shown too");
    assertEquals(2, lines().size(), String.join("\n", lines()));
    assertEquals(Level.WARN, context.getLogger("org.apache.pekko").getLevel(), "Pekko's stays");
  }
}
