package io.sigma.agent.metrics;

import io.prometheus.metrics.expositionformats.PrometheusTextFormatWriter;
import io.sigma.agent.config.PortRange;
import io.sigma.agent.fleet.FleetMetrics;
import io.sigma.agent.fleet.FleetStatus;
import io.sigma.agent.fleet.FleetStatusEvents;
import io.sigma.agent.ports.LatestPortScan;
import io.sigma.agent.ports.ListenerAttribution;
import io.sigma.agent.ports.ListenerSource;
import io.sigma.agent.ports.PortMetrics;
import io.sigma.agent.ports.PortScan;
import io.sigma.agent.staticsync.StaticSyncMetrics;
import io.sigma.agent.xds.EnvoyAdminMetrics;
import io.sigma.agent.xds.PollResult;
import io.sigma.agent.xds.RejectedRoute;
import io.sigma.agent.xds.TypeUrls;
import io.sigma.agent.xds.XdsMetrics;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The metrics an agent with every feature on exports, as the Prometheus text format of a scrape
 * shows them. The registry is built as {@code AgentGuardian} builds it (JVM metrics, fleet, port
 * scan, xDS), then every feature is driven once so that each metric family has samples, hence its
 * label names in the exposition (a family without samples shows neither HELP nor labels).
 */
final class ExportedMetrics {
  private ExportedMetrics() {}

  /**
   * One metric family as Prometheus sees it: exposed name (with _total for counters), type, label
   * names, help.
   */
  record Family(String name, String type, List<String> labels, String help) {}

  /** The registry of an agent with every feature on, each feature driven once. */
  static AgentMetrics agentWithEveryFeature() {
    AgentMetrics metrics = new AgentMetrics("vps-1", false, true);

    FleetStatus fleet = new FleetStatus(Clock.systemUTC());
    FleetMetrics.register(metrics, fleet);
    FleetStatusEvents.registered(fleet);
    FleetStatusEvents.heartbeatSucceeded(fleet);

    LatestPortScan latest = new LatestPortScan();
    PortMetrics.register(metrics, latest);
    PortRange range = new PortRange(10000, 10009);
    BitSet occupied = new BitSet();
    occupied.set(10000);
    latest.set(
        new PortScan(
            range,
            occupied,
            new ListenerAttribution(Map.of(ListenerSource.OTHER, 1), Map.of("redis-server", 1)),
            Instant.now(),
            Duration.ofMillis(20)));

    XdsMetrics xds = new XdsMetrics(metrics);
    xds.onStreamOpened(1, "edge");
    xds.onResponseSent("edge", TypeUrls.CLUSTER, "1", 1);
    xds.onAck("edge", TypeUrls.CLUSTER, "1");
    xds.onNack("edge", TypeUrls.CLUSTER, "1", "rejected");
    xds.onPollFinished(PollResult.SUCCESS, Duration.ofMillis(30));
    xds.onSnapshotServed("edge", 1, 1, Map.of(RejectedRoute.Reason.PLACEHOLDER, 1));
    xds.onRoutesFetchFailed("edge");
    xds.onNodeRegistration("edge", true);
    new EnvoyAdminMetrics(metrics).onProbed("edge", true);

    StaticSyncMetrics staticSync = new StaticSyncMetrics(metrics);
    staticSync.synced(Instant.now());
    staticSync.apiFailed();
    staticSync.invalidFile();

    awaitGarbageCollectionSeen(metrics);
    return metrics;
  }

  /**
   * jvm_memory_pool_allocated_bytes_total counts from the JVM's garbage collection notifications,
   * so a new registry has no sample of it until a collection after its registration: ask for
   * collections until the notification has arrived.
   */
  private static void awaitGarbageCollectionSeen(AgentMetrics metrics) {
    long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
    while (metrics
        .registry()
        .scrape(name -> name.equals("jvm_memory_pool_allocated_bytes"))
        .stream()
        .allMatch(snapshot -> snapshot.getDataPoints().isEmpty())) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("no garbage collection notification within 10 s");
      }
      System.gc();
      try {
        Thread.sleep(10);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new AssertionError(e);
      }
    }
  }

  static String scrape(AgentMetrics metrics) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try {
      PrometheusTextFormatWriter.create().write(out, metrics.registry().scrape());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return out.toString(StandardCharsets.UTF_8);
  }

  /** The families of a Prometheus text exposition, in its order. */
  static List<Family> families(String exposition) {
    Map<String, String> help = new LinkedHashMap<>();
    Map<String, String> types = new LinkedHashMap<>();
    Map<String, Set<String>> labels = new LinkedHashMap<>();
    String current = null;
    for (String line : exposition.split("\n")) {
      if (line.startsWith("# HELP ")) {
        String[] parts = line.substring(7).split(" ", 2);
        help.put(parts[0], parts.length > 1 ? unescapeHelp(parts[1]) : "");
      } else if (line.startsWith("# TYPE ")) {
        String[] parts = line.substring(7).split(" ", 2);
        current = parts[0];
        types.put(current, parts[1]);
        labels.put(current, new LinkedHashSet<>());
      } else if (!line.isBlank() && !line.startsWith("#")) {
        if (current == null) {
          throw new IllegalArgumentException("sample before any # TYPE line: " + line);
        }
        labels.get(current).addAll(labelNames(line));
      }
    }
    List<Family> families = new ArrayList<>();
    types.forEach(
        (name, type) -> {
          List<String> names = new ArrayList<>(labels.get(name));
          names.remove(type.equals("histogram") ? "le" : type.equals("summary") ? "quantile" : "");
          families.add(new Family(name, type, List.copyOf(names), help.getOrDefault(name, "")));
        });
    return families;
  }

  private static String unescapeHelp(String text) {
    StringBuilder out = new StringBuilder();
    for (int i = 0; i < text.length(); i++) {
      char c = text.charAt(i);
      if (c == '\\' && i + 1 < text.length()) {
        char next = text.charAt(++i);
        out.append(next == 'n' ? '\n' : next);
      } else {
        out.append(c);
      }
    }
    return out.toString();
  }

  /** The label names of one sample line {@code name{a="x",b="y"} value}. */
  private static List<String> labelNames(String sample) {
    int open = sample.indexOf('{');
    int space = sample.indexOf(' ');
    if (open < 0 || (space >= 0 && space < open)) {
      return List.of();
    }
    List<String> names = new ArrayList<>();
    int i = open + 1;
    while (i < sample.length() && sample.charAt(i) != '}') {
      int eq = sample.indexOf('=', i);
      names.add(sample.substring(i, eq));
      i = eq + 2; // past ="
      while (sample.charAt(i) != '"') {
        i += sample.charAt(i) == '\\' ? 2 : 1;
      }
      i++; // past the closing quote
      if (sample.charAt(i) == ',') {
        i++;
      }
    }
    return names;
  }
}
