package io.sigma.agent.net;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Supplier;
import org.slf4j.Logger;

/**
 * What a server's guard closed, for the operator: the first closure is logged at once, later ones
 * are counted and summed up in at most one WARN line a {@link #WINDOW} (an attack closes thousands
 * of connections a minute; a line each would bury the log). Per-connection detail is at DEBUG.
 */
public final class GuardLog {
  static final Duration WINDOW = Duration.ofMinutes(1);

  private final Logger log;
  private final Supplier<String> server;
  private final Clock clock;
  private final Map<String, Integer> counts = new TreeMap<>();
  private Instant windowStart;

  /** {@code server} names the port in the lines, e.g. "metrics server on 0.0.0.0:9102". */
  public GuardLog(Logger log, Supplier<String> server, Clock clock) {
    this.log = log;
    this.server = server;
    this.clock = clock;
  }

  /**
   * Records one closed connection: {@code reason} is the operator-facing cause (the same text for
   * the same cause, it is the summary's key), {@code client} the peer's address.
   */
  public void closed(String reason, Object client) {
    log.debug("{}: closed the connection from {}: {}", server.get(), client, reason);
    String line = null;
    synchronized (this) {
      counts.merge(reason, 1, Integer::sum);
      Instant now = clock.instant();
      if (windowStart == null || !now.isBefore(windowStart.plus(WINDOW))) {
        line =
            "closed "
                + summary()
                + (windowStart == null ? "" : " since " + windowStart)
                + "; latest from "
                + client;
        counts.clear();
        windowStart = now;
      }
    }
    if (line != null) {
      log.warn(
          "{}: {}. Slow or abusive clients; honest callers are not affected. At most one "
              + "such line a minute.",
          server.get(),
          line);
    }
  }

  private String summary() {
    StringBuilder text = new StringBuilder();
    counts.forEach(
        (reason, n) ->
            text.append(text.isEmpty() ? "" : ", ")
                .append(n)
                .append(" connection(s): ")
                .append(reason));
    return text.toString();
  }
}
