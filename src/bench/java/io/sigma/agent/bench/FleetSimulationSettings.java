package io.sigma.agent.bench;

import io.sigma.agent.config.DurationSetting;
import java.nio.file.Path;
import java.time.Duration;

/**
 * The fleet simulation's knobs, read from system properties (each with the goal scenario of issue 5
 * as its default). The Maven bench profile forks the benchmark JVM; pass them with {@code
 * bench.jvm} (which replaces its default {@code -Xmx3g}, so keep that):
 *
 * <pre>
 * mvn -B -Pbench verify -Dbench=fleet -Dbench.jvm="-Xmx3g -Dfleet.agents=100 -Dfleet.outage=30s"
 * </pre>
 *
 * <table>
 *   <tr><td>fleet.agents</td><td>1000</td><td>K, agent instances in the JVM</td></tr>
 *   <tr><td>fleet.outage</td><td>3m</td><td>T, the whole outage</td></tr>
 *   <tr><td>fleet.outage503</td><td>T/2</td><td>first part of T answered 503; the rest refuses
 *       connections</td></tr>
 *   <tr><td>fleet.interval</td><td>10s</td><td>heartbeat interval</td></tr>
 *   <tr><td>fleet.xds</td><td>true</td><td>each agent also runs the xDS config poller</td></tr>
 *   <tr><td>fleet.pollInterval</td><td>10s</td><td>xDS poll interval (the agent's default)</td></tr>
 *   <tr><td>fleet.backoffMax</td><td>20s</td><td>backoff cap</td></tr>
 *   <tr><td>fleet.backoffInitial</td><td>1s</td><td>first backoff ceiling (agent default)</td></tr>
 *   <tr><td>fleet.requestTimeout</td><td>10s</td><td>request timeout (agent default)</td></tr>
 *   <tr><td>fleet.steady</td><td>60s</td><td>steady window the baseline rate is taken over</td></tr>
 *   <tr><td>fleet.startSpread</td><td>interval</td><td>agents start evenly over this time</td></tr>
 *   <tr><td>fleet.seed</td><td>1</td><td>seeds the agents' jitter (agent i gets seed+i)</td></tr>
 *   <tr><td>fleet.out</td><td>docs, or target/fleet-simulation off the goal scenario</td>
 *       <td>where the chart and benchmarks.md go</td></tr>
 * </table>
 *
 * <p>Durations are written as the agent's flags are: {@code 90s}, {@code 3m}, {@code 500ms}, or
 * plain seconds.
 */
record FleetSimulationSettings(
    int agents,
    Duration outage,
    Duration outage503,
    Duration interval,
    boolean xds,
    Duration pollInterval,
    Duration backoffInitial,
    Duration backoffMax,
    Duration requestTimeout,
    Duration steady,
    Duration startSpread,
    long seed,
    Path out) {

  /** How long after the API is back the peak is looked for (the "minute after recovery"). */
  static final Duration PEAK_WINDOW = Duration.ofMinutes(1);

  static final int GOAL_AGENTS = 1_000;
  static final Duration GOAL_OUTAGE = Duration.ofMinutes(3);

  FleetSimulationSettings {
    if (agents < 1) {
      throw new IllegalArgumentException("fleet.agents must be at least 1: " + agents);
    }
    if (outage503.compareTo(outage) > 0) {
      throw new IllegalArgumentException(
          "fleet.outage503 (" + outage503 + ") is longer than fleet.outage (" + outage + ")");
    }
    if (backoffMax.compareTo(backoffInitial) < 0
        || backoffInitial.isZero()
        || interval.isZero()
        || pollInterval.isZero()
        || requestTimeout.isZero()) {
      throw new IllegalArgumentException(
          "need 0 < fleet.backoffInitial <= fleet.backoffMax, and a non-zero interval and timeout");
    }
  }

  static FleetSimulationSettings fromSystemProperties() {
    int agents = Integer.parseInt(System.getProperty("fleet.agents", "" + GOAL_AGENTS).trim());
    Duration outage = duration("fleet.outage", GOAL_OUTAGE);
    Duration outage503 = duration("fleet.outage503", outage.dividedBy(2));
    Duration interval = duration("fleet.interval", Duration.ofSeconds(10));
    boolean goalScenario = agents == GOAL_AGENTS && outage.equals(GOAL_OUTAGE);
    Path out =
        Path.of(System.getProperty("fleet.out", goalScenario ? "docs" : "target/fleet-simulation"));
    return new FleetSimulationSettings(
        agents,
        outage,
        outage503,
        interval,
        Boolean.parseBoolean(System.getProperty("fleet.xds", "true").trim()),
        duration("fleet.pollInterval", Duration.ofSeconds(10)),
        duration("fleet.backoffInitial", Duration.ofSeconds(1)),
        duration("fleet.backoffMax", Duration.ofSeconds(20)),
        duration("fleet.requestTimeout", Duration.ofSeconds(10)),
        duration("fleet.steady", Duration.ofSeconds(60)),
        duration("fleet.startSpread", interval),
        Long.parseLong(System.getProperty("fleet.seed", "1").trim()),
        out);
  }

  /** The part of the outage that refuses connections. */
  Duration outageDown() {
    return outage.minus(outage503);
  }

  /** How long recovery is watched: the peak window, and long enough to tell late from lost. */
  Duration recoveryWatch() {
    Duration fourCaps = backoffMax.multipliedBy(4);
    return fourCaps.compareTo(PEAK_WINDOW) > 0 ? fourCaps : PEAK_WINDOW;
  }

  /** Goal of issue 5: every agent heartbeating again within two backoff caps. */
  Duration backWithin() {
    return backoffMax.multipliedBy(2);
  }

  String describe() {
    return String.format(
        "K=%d agents, outage T=%ds (%ds answered 503, then %ds refused), "
            + "interval %ds, %s, backoff %s..%ds, request timeout %ds, steady window %ds, "
            + "start spread %ds, seed %d",
        agents,
        outage.toSeconds(),
        outage503.toSeconds(),
        outageDown().toSeconds(),
        interval.toSeconds(),
        xds ? "xDS poll every " + millisOrSeconds(pollInterval) : "no xDS",
        millisOrSeconds(backoffInitial),
        backoffMax.toSeconds(),
        requestTimeout.toSeconds(),
        steady.toSeconds(),
        startSpread.toSeconds(),
        seed);
  }

  private static String millisOrSeconds(Duration d) {
    return d.toMillis() % 1000 == 0 ? d.toSeconds() + "s" : d.toMillis() + "ms";
  }

  private static Duration duration(String property, Duration fallback) {
    String text = System.getProperty(property);
    if (text == null || text.isBlank()) {
      return fallback;
    }
    try {
      return DurationSetting.parse(text);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(property + ": " + e.getMessage(), e);
    }
  }
}
