package io.sigma.agent.net;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.sigma.agent.testing.MutableClock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

class GuardLogTest {
  private final Logger logger = (Logger) LoggerFactory.getLogger("GuardLogTest");
  private final ListAppender<ILoggingEvent> appender = new ListAppender<>();

  @BeforeEach
  void capture() {
    appender.start();
    logger.addAppender(appender);
  }

  @AfterEach
  void release() {
    logger.detachAppender(appender);
  }

  private List<String> warnings() {
    return appender.list.stream()
        .filter(e -> e.getLevel() == Level.WARN)
        .map(ILoggingEvent::getFormattedMessage)
        .toList();
  }

  @Test
  void theFirstClosureIsLoggedAtOnceAndLaterOnesSummedUpOnceAMinute() {
    MutableClock clock = new MutableClock(Instant.parse("2026-12-01T04:00:00Z"));
    GuardLog log = new GuardLog(logger, () -> "metrics server on 0.0.0.0:9102", clock);

    log.closed("no complete request head within 10 s", "127.0.0.2");
    for (int i = 0; i < 500; i++) {
      clock.advance(Duration.ofMillis(100));
      log.closed(
          i % 2 == 0
              ? "over 16 open connections from one client address"
              : "no complete request head within 10 s",
          "127.0.0.2");
    }
    assertEquals(1, warnings().size(), "50 s of closures: only the first line");
    assertTrue(
        warnings()
            .get(0)
            .startsWith(
                "metrics server on 0.0.0.0:9102: closed 1 connection(s): "
                    + "no complete request head within 10 s; latest from 127.0.0.2"),
        warnings().get(0));

    clock.advance(Duration.ofSeconds(10));
    log.closed("no complete request head within 10 s", "127.0.0.3");
    assertEquals(2, warnings().size());
    assertTrue(
        warnings()
            .get(1)
            .contains(
                "closed 251 connection(s): no complete request head within 10 s, "
                    + "250 connection(s): over 16 open connections from one client address since "
                    + "2026-12-01T04:00:00Z; latest from 127.0.0.3"),
        warnings().get(1));
  }
}
