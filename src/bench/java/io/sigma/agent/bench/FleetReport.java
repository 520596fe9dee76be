package io.sigma.agent.bench;

import io.sigma.agent.devapi.EndpointKind;
import io.sigma.agent.devapi.SecondCounts;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.function.ToLongFunction;

/**
 * The figures of one simulation run, computed from the per-second request counts (as the dev API
 * received them, and as the agents sent them) and from when each agent was back.
 *
 * @param received per second, what the dev API received (every second of the run)
 * @param sent per second, what the agents sent (attempts, including those the closed port never
 *     saw)
 * @param backAt per agent, its first successful heartbeat after the API came back, or null
 * @param heapPerAgentBytes used heap after GC with the fleet running, minus before, per agent
 */
record FleetReport(
    FleetSimulationSettings settings,
    FleetPhases phases,
    List<SecondCounts> received,
    List<SecondCounts> sent,
    Instant[] backAt,
    long heapPerAgentBytes,
    String clientOutcomes) {

  /** The goal of issue 5: the recovery peak at most this many times the steady rate. */
  static final double GOAL_RATIO = 2.0;

  double steadyRate() {
    return mean(received, phases.steadyStart(), phases.outageStart(), SecondCounts::total);
  }

  long steadyPeak() {
    return max(
        received,
        fullSecondsFrom(phases.steadyStart()),
        lastSecondBefore(phases.outageStart()),
        SecondCounts::total);
  }

  double rate503Phase() {
    return mean(received, phases.outageStart(), phases.refusedFrom(), SecondCounts::total);
  }

  double attemptsRefusedPhase() {
    return mean(sent, phases.refusedFrom(), phases.apiBack(), SecondCounts::total);
  }

  /** The busiest second in the minute after the API came back (its first, partial second too). */
  long recoveryPeak() {
    long from = FleetPhases.second(phases.apiBack());
    return max(
        received,
        from,
        from + FleetSimulationSettings.PEAK_WINDOW.toSeconds() - 1,
        SecondCounts::total);
  }

  /** Seconds after the API came back at which {@link #recoveryPeak} happened. */
  long recoveryPeakOffset() {
    long from = FleetPhases.second(phases.apiBack());
    long peak = recoveryPeak();
    return received.stream()
        .filter(
            s ->
                s.epochSecond() >= from
                    && s.epochSecond() < from + FleetSimulationSettings.PEAK_WINDOW.toSeconds()
                    && s.total() == peak)
        .mapToLong(s -> s.epochSecond() - from)
        .findFirst()
        .orElse(-1);
  }

  double ratio() {
    double steady = steadyRate();
    return steady == 0 ? Double.POSITIVE_INFINITY : recoveryPeak() / steady;
  }

  long registrationsAfterRecovery() {
    return sum(
        received,
        FleetPhases.second(phases.apiBack()),
        FleetPhases.second(phases.watchEnd()),
        s -> s.count(EndpointKind.REGISTER));
  }

  long lost() {
    return Arrays.stream(backAt).filter(Objects::isNull).count();
  }

  /** Per agent that came back, how long after the API did; sorted. */
  long[] backMillis() {
    return Arrays.stream(backAt)
        .filter(Objects::nonNull)
        .mapToLong(t -> Duration.between(phases.apiBack(), t).toMillis())
        .sorted()
        .toArray();
  }

  /** When the last agent was back (all of them, if none was lost). */
  Duration lastBack() {
    long[] b = backMillis();
    return b.length == 0 ? Duration.ZERO : Duration.ofMillis(b[b.length - 1]);
  }

  Duration backPercentile(double p) {
    long[] b = backMillis();
    return b.length == 0
        ? Duration.ZERO
        : Duration.ofMillis(b[(int) Math.min(b.length - 1, Math.ceil(p * b.length) - 1)]);
  }

  boolean ratioMet() {
    return ratio() <= GOAL_RATIO;
  }

  boolean backInTimeMet() {
    return lost() == 0 && lastBack().compareTo(settings.backWithin()) <= 0;
  }

  boolean noneLostMet() {
    return lost() == 0;
  }

  Duration startup() {
    return Duration.between(phases.fleetStart(), phases.allHeartbeating());
  }

  /** The table printed at the end of a run. */
  String table() {
    StringBuilder b = new StringBuilder();
    row(b, "scenario", settings.describe());
    row(
        b,
        "all agents registered + heartbeating",
        String.format(
            Locale.ROOT, "%.1f s after the first one started", startup().toMillis() / 1e3));
    row(
        b,
        "steady state (received)",
        String.format(
            Locale.ROOT,
            "%.1f req/s mean over %d s (busiest second %d)",
            steadyRate(),
            Duration.between(phases.steadyStart(), phases.outageStart()).toSeconds(),
            steadyPeak()));
    row(b, "during 503 (received)", String.format(Locale.ROOT, "%.1f req/s", rate503Phase()));
    row(
        b,
        "while refused (sent)",
        String.format(Locale.ROOT, "%.1f attempts/s", attemptsRefusedPhase()));
    row(
        b,
        "recovery peak (received)",
        String.format(
            Locale.ROOT,
            "%d req/s, %d s after the API was back",
            recoveryPeak(),
            recoveryPeakOffset()));
    row(
        b,
        "peak / steady",
        String.format(
            Locale.ROOT, "%.2f (goal <= %.1f): %s", ratio(), GOAL_RATIO, verdict(ratioMet())));
    row(
        b,
        "every agent back",
        String.format(
            Locale.ROOT,
            "%.1f s after the API (median %.1f s, p90 %.1f s; goal <= %d s = two caps): %s",
            lastBack().toMillis() / 1e3,
            backPercentile(0.5).toMillis() / 1e3,
            backPercentile(0.9).toMillis() / 1e3,
            settings.backWithin().toSeconds(),
            verdict(backInTimeMet())));
    row(b, "agents lost", lost() + " of " + settings.agents() + ": " + verdict(noneLostMet()));
    row(b, "registrations after recovery", Long.toString(registrationsAfterRecovery()));
    row(
        b,
        "heap per agent instance",
        String.format(Locale.ROOT, "%.1f KiB", heapPerAgentBytes / 1024.0));
    row(b, "client outcomes (whole run)", clientOutcomes);
    return b.toString();
  }

  /** The figures as a Markdown table, for docs/benchmarks.md. */
  String markdown() {
    StringBuilder b = new StringBuilder();
    b.append("| figure | value | goal |\n|---|---|---|\n");
    md(b, "agents (K)", Integer.toString(settings.agents()), "1,000");
    md(
        b,
        "outage (T)",
        String.format(
            Locale.ROOT,
            "%d s: %d s answering 503, %d s refusing " + "connections",
            settings.outage().toSeconds(),
            settings.outage503().toSeconds(),
            settings.outageDown().toSeconds()),
        "3 min");
    md(
        b,
        "heartbeat interval, xDS poll interval / backoff cap",
        settings.interval().toSeconds()
            + " s, "
            + (settings.xds() ? settings.pollInterval().toSeconds() + " s" : "no xDS")
            + " / "
            + settings.backoffMax().toSeconds()
            + " s",
        "");
    md(
        b,
        "steady state (received)",
        String.format(Locale.ROOT, "%.1f req/s (busiest second %d)", steadyRate(), steadyPeak()),
        "");
    md(b, "during 503 (received)", String.format(Locale.ROOT, "%.1f req/s", rate503Phase()), "");
    md(
        b,
        "while refused (sent by the agents)",
        String.format(Locale.ROOT, "%.1f attempts/s", attemptsRefusedPhase()),
        "");
    md(
        b,
        "peak in the minute after recovery",
        String.format(
            Locale.ROOT,
            "%d req/s (%d s after the API was back)",
            recoveryPeak(),
            recoveryPeakOffset()),
        "");
    md(
        b,
        "peak / steady",
        String.format(Locale.ROOT, "**%.2f** %s", ratio(), verdict(ratioMet())),
        "≤ 2");
    md(
        b,
        "every agent registered and heartbeating again",
        String.format(
            Locale.ROOT,
            "**%.1f s** after the API was back (median %.1f s, p90 %.1f s) %s",
            lastBack().toMillis() / 1e3,
            backPercentile(0.5).toMillis() / 1e3,
            backPercentile(0.9).toMillis() / 1e3,
            verdict(backInTimeMet())),
        "≤ two caps (" + settings.backWithin().toSeconds() + " s)");
    md(b, "agents lost", "**" + lost() + "** " + verdict(noneLostMet()), "0");
    md(b, "registrations after recovery", Long.toString(registrationsAfterRecovery()), "");
    md(
        b,
        "heap per agent instance",
        String.format(Locale.ROOT, "%.1f KiB", heapPerAgentBytes / 1024.0),
        "");
    md(
        b,
        "fleet start (all registered + heartbeating)",
        String.format(Locale.ROOT, "%.1f s", startup().toMillis() / 1e3),
        "");
    return b.toString();
  }

  private static String verdict(boolean met) {
    return met ? "(met)" : "(MISSED)";
  }

  private static void row(StringBuilder b, String name, String value) {
    b.append(String.format(Locale.ROOT, "%-38s %s%n", name, value));
  }

  private static void md(StringBuilder b, String name, String value, String goal) {
    b.append("| ")
        .append(name)
        .append(" | ")
        .append(value)
        .append(" | ")
        .append(goal)
        .append(" |\n");
  }

  private static long fullSecondsFrom(Instant t) {
    return t.getNano() == 0 ? t.getEpochSecond() : t.getEpochSecond() + 1;
  }

  private static long lastSecondBefore(Instant t) {
    return t.getEpochSecond() - 1;
  }

  /** Mean per second over the whole seconds inside {@code [from, to)}. */
  private static double mean(
      List<SecondCounts> series, Instant from, Instant to, ToLongFunction<SecondCounts> value) {
    long first = fullSecondsFrom(from);
    long last = lastSecondBefore(to);
    if (last < first) {
      return 0;
    }
    return sum(series, first, last, value) / (double) (last - first + 1);
  }

  private static long sum(
      List<SecondCounts> series, long first, long last, ToLongFunction<SecondCounts> value) {
    return series.stream()
        .filter(s -> s.epochSecond() >= first && s.epochSecond() <= last)
        .mapToLong(value)
        .sum();
  }

  private static long max(
      List<SecondCounts> series, long first, long last, ToLongFunction<SecondCounts> value) {
    return series.stream()
        .filter(s -> s.epochSecond() >= first && s.epochSecond() <= last)
        .mapToLong(value)
        .max()
        .orElse(0);
  }
}
