package io.sigma.agent.bench;

import io.sigma.agent.devapi.DevApiAdmin;
import io.sigma.agent.devapi.DevVps;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * Watches one hostname's VPS record in the dev API (every 100 ms) and notes when it changes: each
 * change is a heartbeat (or registration) that reached the API. Also the soak's clock ({@link
 * #millisSinceStart}), started with {@link #start}.
 */
final class HeartbeatWatch implements AutoCloseable {
  /** What the heartbeat check found. */
  record Verdict(int beats, List<String> violations, String summary) {}

  private final DevApiAdmin admin;
  private final String hostname;
  private final List<Double> beats = new CopyOnWriteArrayList<>();
  private final long startNanos = System.nanoTime();
  private volatile long clockStartNanos = startNanos;
  private volatile boolean running = true;
  private Thread thread;

  HeartbeatWatch(DevApiAdmin admin, String hostname) {
    this.admin = admin;
    this.hostname = hostname;
  }

  /** Starts the clock and the watching. */
  void start() {
    clockStartNanos = System.nanoTime();
    thread = new Thread(this::watch, "soak-heartbeat-watch");
    thread.setDaemon(true);
    thread.start();
  }

  long millisSinceStart() {
    return (System.nanoTime() - clockStartNanos) / 1_000_000;
  }

  List<Double> beats() {
    return List.copyOf(beats);
  }

  private void watch() {
    String last = null;
    while (running) {
      Optional<DevVps> vps = admin.vpsByHostname(hostname);
      String updated = vps.map(DevVps::updatedAt).orElse(null);
      if (updated != null && !updated.equals(last)) {
        if (last != null) {
          beats.add(millisSinceStart() / 1000.0);
        }
        last = updated;
      }
      try {
        Thread.sleep(100);
      } catch (InterruptedException e) {
        return;
      }
    }
  }

  /**
   * In each healthy window, the time from the window's start to the first heartbeat may be up to
   * {@code firstLimit} (the cap plus one request timeout: a request sent just before the API turned
   * healthy may still time out), and every later gap, including the one to the window's end, at
   * most {@code cap} seconds.
   */
  Verdict verdict(List<FaultSchedule.Window> windows, double cap, double firstLimit) {
    List<Double> all = beats();
    List<String> violations = new ArrayList<>();
    double maxFirst = 0;
    double maxGap = 0;
    for (FaultSchedule.Window w : windows) {
      double previous = w.from();
      boolean first = true;
      for (double b : all) {
        if (b < w.from() || b > w.to()) {
          continue;
        }
        double gap = b - previous;
        if (first) {
          maxFirst = Math.max(maxFirst, gap);
        } else {
          maxGap = Math.max(maxGap, gap);
        }
        if (gap > (first ? firstLimit : cap)) {
          violations.add(
              String.format(
                  Locale.ROOT,
                  "no heartbeat from %.0f s to %.0f s (%.1f s) "
                      + "while the API was healthy; limit %.0f s",
                  previous,
                  b,
                  gap,
                  first ? firstLimit : cap));
        }
        previous = b;
        first = false;
      }
      double tail = w.to() - previous;
      double limit = first ? firstLimit : cap;
      if (tail > limit) {
        violations.add(
            String.format(
                Locale.ROOT,
                "no heartbeat from %.0f s to the end of the "
                    + "healthy window at %.0f s (%.1f s); limit %.0f s",
                previous,
                w.to(),
                tail,
                limit));
      }
    }
    String summary =
        String.format(
            Locale.ROOT,
            "in the healthy windows the first heartbeat came "
                + "at most %.1f s after the API turned healthy (limit %.0f s = backoff cap + request "
                + "timeout) and later gaps were at most %.1f s (limit: the %.0f s backoff cap).",
            maxFirst,
            firstLimit,
            maxGap,
            cap);
    return new Verdict(all.size(), violations, summary);
  }

  @Override
  public void close() throws InterruptedException {
    running = false;
    if (thread != null) {
      thread.join(2000);
    }
  }
}
