package io.sigma.agent.logging;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import java.util.Map;
import org.junit.jupiter.api.Test;

class AgentLogConfiguratorTest {
  @Test
  void defaultsAreInfoForTheAgentAndWarnForPekko() {
    LoggerContext context = new LoggerContext();
    AgentLogConfigurator.configure(context, Map.of());
    assertEquals(Level.INFO, context.getLogger(Logger.ROOT_LOGGER_NAME).getLevel());
    assertEquals(Level.WARN, context.getLogger("org.apache.pekko").getLevel());
    assertNotNull(context.getLogger(Logger.ROOT_LOGGER_NAME).getAppender("STDOUT"));
  }

  @Test
  void levelsComeFromTheEnvironment() {
    LoggerContext context = new LoggerContext();
    AgentLogConfigurator.configure(context,
        Map.of("AGENT_LOG_LEVEL", "debug", "PEKKO_LOG_LEVEL", "INFO"));
    assertEquals(Level.DEBUG, context.getLogger(Logger.ROOT_LOGGER_NAME).getLevel());
    assertEquals(Level.INFO, context.getLogger("org.apache.pekko").getLevel());
  }

  @Test
  void aBadLevelFallsBackToTheDefault() {
    LoggerContext context = new LoggerContext();
    AgentLogConfigurator.configure(context, Map.of("AGENT_LOG_LEVEL", "loud"));
    assertEquals(Level.INFO, context.getLogger(Logger.ROOT_LOGGER_NAME).getLevel());
  }
}
