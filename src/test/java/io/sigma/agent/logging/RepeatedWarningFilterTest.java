package io.sigma.agent.logging;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.util.LogbackMDCAdapter;
import ch.qos.logback.core.read.ListAppender;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class RepeatedWarningFilterTest {
  private static final String SUMMARY_995 =
      "suppressed 995 more WARN lines like this within 60 s (the first 5 passed): xDS stream {}: bad request {}";

  private final AtomicLong nanos = new AtomicLong(1_000);
  private final LoggerContext context = new LoggerContext();
  private final ListAppender<ILoggingEvent> appender = new ListAppender<>();
  private final Logger log = context.getLogger("io.sigma.agent.xds.AdsService");

  private RepeatedWarningFilter filter =
      new RepeatedWarningFilter(5, Duration.ofMinutes(1), 4, nanos::get, null);

  private void start() {
    context.setMDCAdapter(new LogbackMDCAdapter());
    appender.setContext(context);
    appender.start();
    context.getLogger(Logger.ROOT_LOGGER_NAME).addAppender(appender);
    filter.setContext(context);
    filter.start();
    context.addTurboFilter(filter);
  }

  @AfterEach
  void stop() {
    context.stop();
  }

  @Test
  void aBurstPassesFiveLinesThenOneSummaryWithTheCount() {
    start();
    burst(1_000, "xDS stream {}: bad request {}");
    assertEquals(5, messages().size(), messages().toString());

    nanos.addAndGet(Duration.ofSeconds(59).toNanos());
    filter.flush();
    assertEquals(5, messages().size(), "the window is not over yet: " + messages());

    nanos.addAndGet(Duration.ofSeconds(1).toNanos());
    filter.flush();
    filter.flush();

    List<String> messages = messages();
    assertEquals(6, messages.size(), messages.toString());
    assertEquals(SUMMARY_995, messages.get(5));
    assertEquals(Level.WARN, appender.list.get(5).getLevel());
    assertEquals(log.getName(), appender.list.get(5).getLoggerName());
  }

  @Test
  void theNextEventAfterTheWindowWritesTheSummaryAndPassesAgain() {
    start();
    burst(1_000, "xDS stream {}: bad request {}");
    nanos.addAndGet(Duration.ofSeconds(61).toNanos());

    burst(7, "xDS stream {}: bad request {}");

    List<String> messages = messages();
    assertEquals(5 + 1 + 5, messages.size(), messages.toString());
    assertEquals(SUMMARY_995, messages.get(5));
    assertEquals("xDS stream 0: bad request no node.id", messages.get(6));
  }

  @Test
  void distinctTemplatesAndLoggersAreLimitedIndependently() {
    start();
    burst(100, "xDS stream {}: bad request {}");
    burst(100, "xDS stream {}: unknown type {}");
    for (int i = 0; i < 100; i++) {
      context
          .getLogger("io.sigma.agent.ports.AllocateRoute")
          .warn("xDS stream {}: bad request {}", i, "x");
    }

    assertEquals(15, messages().size(), messages().toString());
  }

  @Test
  void infoAndDebugAreUntouched() {
    start();
    context.getLogger(Logger.ROOT_LOGGER_NAME).setLevel(Level.DEBUG);
    for (int i = 0; i < 1_000; i++) {
      log.info("stream {} opened", i);
      log.debug("stream {} state", i);
    }
    assertEquals(2_000, messages().size());
  }

  @Test
  void errorsAreLimitedAndSummarisedAtError() {
    start();
    for (int i = 0; i < 20; i++) {
      log.error("cannot save {}", i, new IllegalStateException("disk full"));
    }
    nanos.addAndGet(Duration.ofMinutes(1).toNanos());
    filter.flush();

    assertEquals(6, messages().size(), messages().toString());
    assertEquals(
        "suppressed 15 more ERROR lines like this within 60 s (the first 5 passed): cannot save {}",
        messages().get(5));
    assertEquals(Level.ERROR, appender.list.get(5).getLevel());
  }

  @Test
  void beyondTheTemplateLimitALoggersNewTemplatesShareOneWindow() {
    start();
    for (int i = 0; i < 100; i++) {
      log.warn("concatenated message " + i);
    }
    // 4 templates tracked, one line each; then the logger's shared window lets 5 more through.
    assertEquals(4 + 5, messages().size(), messages().toString());
    nanos.addAndGet(Duration.ofMinutes(1).toNanos());
    filter.flush();
    assertEquals(
        "suppressed 91 more WARN lines like this within 60 s (the first 5 passed): concatenated message 4",
        messages().get(9));
  }

  @Test
  void warningsBelowTheLoggersLevelAreNotCounted() {
    start();
    context.getLogger("quiet").setLevel(Level.ERROR);
    for (int i = 0; i < 100; i++) {
      context.getLogger("quiet").warn("dropped by level {}", i);
    }
    context.getLogger("quiet").setLevel(Level.WARN);
    context.getLogger("quiet").warn("dropped by level {}", 0);
    assertEquals(List.of("dropped by level 0"), messages());
  }

  @Test
  void thePeriodicFlushSummarisesABurstThatStopped() {
    filter =
        new RepeatedWarningFilter(5, Duration.ofMinutes(1), 4, nanos::get, Duration.ofMillis(5));
    start();
    burst(10, "xDS stream {}: bad request {}");
    nanos.addAndGet(Duration.ofMinutes(1).toNanos());

    long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
    while (messages().size() < 6 && System.nanoTime() < deadline) {
      LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(5));
    }
    assertTrue(messages().size() >= 6, messages().toString());
    assertTrue(messages().get(5).startsWith("suppressed 5 more WARN lines"), messages().get(5));

    context.stop();
    assertFalse(filter.isStarted(), "stopped with its LoggerContext");
  }

  private void burst(int count, String template) {
    for (int i = 0; i < count; i++) {
      log.warn(template, i, "no node.id");
    }
  }

  private List<String> messages() {
    synchronized (appender) {
      return appender.list.stream().map(ILoggingEvent::getFormattedMessage).toList();
    }
  }
}
