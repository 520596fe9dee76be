package io.sigma.agent.logging;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.turbo.TurboFilter;
import ch.qos.logback.core.spi.FilterReply;
import java.time.Duration;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;
import org.slf4j.Marker;
import org.slf4j.helpers.BasicMarkerFactory;

/**
 * Rate-limits repeated WARN and ERROR lines, so that a client sending 10,000 bad requests writes a
 * few lines and a count, not 10,000 lines. Per logger, level and message template (the format
 * string before its arguments), the first {@code burst} events of a window pass; the rest are
 * counted and dropped, and one summary line per window says how many were dropped. The summary is
 * written when the next event of that template arrives after the window, or by a periodic flush (a
 * daemon thread, stopped with the filter, i.e. with the LoggerContext), so a burst that stops is
 * summarised too. INFO, DEBUG and TRACE pass untouched.
 *
 * <p>At most {@code maxTemplates} templates are tracked; beyond that, the events of each logger and
 * level share one window (a message built by concatenation is a new template each time).
 */
public final class RepeatedWarningFilter extends TurboFilter {
  static final int BURST = 5;
  static final Duration WINDOW = Duration.ofMinutes(1);
  static final Duration FLUSH_PERIOD = Duration.ofSeconds(10);
  static final int MAX_TEMPLATES = 256;

  // Not MarkerFactory: it binds SLF4J, and this filter is built while logback itself is binding.
  private final Marker summaryMarker =
      new BasicMarkerFactory().getDetachedMarker("REPEATED_LINES_SUMMARY");
  private final int burst;
  private final long windowNanos;
  private final int maxTemplates;
  private final LongSupplier nanoClock;
  private final Duration flushPeriod;
  private final Map<Key, Window> windows = new ConcurrentHashMap<>();
  private ScheduledExecutorService flusher;

  /** The agent's filter: 5 lines per template per minute, flushed every 10 s. */
  public RepeatedWarningFilter() {
    this(BURST, WINDOW, MAX_TEMPLATES, System::nanoTime, FLUSH_PERIOD);
  }

  /** {@code flushPeriod} null: no flush thread (tests call {@link #flush()}). */
  RepeatedWarningFilter(
      int burst, Duration window, int maxTemplates, LongSupplier nanoClock, Duration flushPeriod) {
    this.burst = burst;
    this.windowNanos = window.toNanos();
    this.maxTemplates = maxTemplates;
    this.nanoClock = nanoClock;
    this.flushPeriod = flushPeriod;
    setName("repeated-warnings");
  }

  @Override
  public void start() {
    if (flushPeriod != null) {
      flusher =
          Executors.newSingleThreadScheduledExecutor(
              task -> {
                Thread thread = new Thread(task, "log-repeated-warnings");
                thread.setDaemon(true);
                return thread;
              });
      long period = flushPeriod.toNanos();
      flusher.scheduleAtFixedRate(this::flushQuietly, period, period, TimeUnit.NANOSECONDS);
    }
    super.start();
  }

  @Override
  public void stop() {
    super.stop();
    if (flusher != null) {
      flusher.shutdownNow();
      flusher = null;
    }
    windows.clear();
  }

  @Override
  public FilterReply decide(
      Marker marker, Logger logger, Level level, String format, Object[] params, Throwable t) {
    if (marker == summaryMarker
        || level == null
        || !level.isGreaterOrEqual(Level.WARN)
        || !isStarted()
        || !level.isGreaterOrEqual(logger.getEffectiveLevel())) {
      return FilterReply.NEUTRAL;
    }
    String template = Objects.toString(format);
    Key key = new Key(logger.getName(), level, template);
    long now = nanoClock.getAsLong();
    while (true) {
      Window window = windows.get(key);
      if (window == null) {
        if (windows.size() >= maxTemplates) {
          key = new Key(logger.getName(), level, null);
        }
        window =
            windows.computeIfAbsent(key, k -> new Window(k.logger(), k.level(), template, now));
      }
      Summary summary;
      FilterReply reply;
      synchronized (window) {
        if (window.retired) {
          continue;
        }
        summary = window.expireIfOver(now, windowNanos, template);
        if (window.passed < burst) {
          window.passed++;
          reply = FilterReply.NEUTRAL;
        } else {
          window.suppressed++;
          reply = FilterReply.DENY;
        }
      }
      if (summary != null) {
        write(summary, logger);
      }
      return reply;
    }
  }

  /** A scheduled task that throws is never run again: keep the flush alive whatever happens. */
  private void flushQuietly() {
    try {
      flush();
    } catch (RuntimeException e) {
      addError("flushing the repeated-line summaries failed", e);
    }
  }

  /** Summarises and forgets the windows that are over (the periodic flush; tests call it). */
  void flush() {
    long now = nanoClock.getAsLong();
    for (Map.Entry<Key, Window> entry : windows.entrySet()) {
      Window window = entry.getValue();
      Summary summary = null;
      synchronized (window) {
        if (now - window.start < windowNanos) {
          continue;
        }
        window.retired = true;
        if (window.suppressed > 0) {
          summary = window.summary();
        }
      }
      windows.remove(entry.getKey(), window);
      if (summary != null && getContext() instanceof LoggerContext context) {
        write(summary, context.getLogger(window.logger));
      }
    }
  }

  private void write(Summary summary, Logger logger) {
    String message = "suppressed {} more {} lines like this within {} s (the first {} passed): {}";
    Object[] args = {
      String.format(Locale.ROOT, "%,d", summary.suppressed()),
      summary.level(),
      windowNanos / 1_000_000_000L,
      burst,
      summary.template()
    };
    if (summary.level() == Level.ERROR) {
      logger.error(summaryMarker, message, args);
    } else {
      logger.warn(summaryMarker, message, args);
    }
  }

  private record Key(String logger, Level level, String template) {}

  private record Summary(Level level, String template, long suppressed) {}

  /** One template's current window; guarded by its own monitor. */
  private static final class Window {
    final String logger;
    final Level level;
    String example;
    long start;
    int passed;
    long suppressed;
    boolean retired;

    Window(String logger, Level level, String example, long start) {
      this.logger = logger;
      this.level = level;
      this.example = example;
      this.start = start;
    }

    /** Starts a new window if this one is over, returning the summary of the old one, if any. */
    Summary expireIfOver(long now, long windowNanos, String template) {
      if (now - start < windowNanos) {
        return null;
      }
      Summary summary = suppressed > 0 ? summary() : null;
      start = now;
      passed = 0;
      suppressed = 0;
      example = template;
      return summary;
    }

    Summary summary() {
      return new Summary(level, example, suppressed);
    }
  }
}
