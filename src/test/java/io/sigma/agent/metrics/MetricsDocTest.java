package io.sigma.agent.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.prometheus.metrics.model.snapshots.CounterSnapshot;
import io.prometheus.metrics.model.snapshots.InfoSnapshot;
import io.prometheus.metrics.model.snapshots.MetricSnapshot;
import io.sigma.agent.metrics.ExportedMetrics.Family;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

/**
 * docs/metrics.md lists exactly the metrics an agent with every feature on exports, with their
 * type, labels and help as a scrape shows them. On a difference the failure names what is missing
 * or stale and prints the table to paste; or regenerate the table in place with {@code mvn -o -B -q
 * test -Dtest=MetricsDocTest -Dmetrics.doc.update=true}.
 */
class MetricsDocTest {
  static final Path DOC = Path.of("docs", "metrics.md");
  static final String BEGIN =
      "<!-- BEGIN metrics table: generated from the registry by MetricsDocTest -->";
  static final String END = "<!-- END metrics table -->";

  /** The feature each metric belongs to, by name prefix (first match wins). */
  private static final Map<String, String> FEATURES = features();

  private static Map<String, String> features() {
    Map<String, String> features = new LinkedHashMap<>();
    features.put("sigma_agent_build_info", "build (always on)");
    features.put("sigma_agent_", "registration and heartbeats (always on)");
    features.put("sigma_port", "port scan (`--port-scan`)");
    features.put("sigma_xds_", "Envoy xDS (`--xds-enabled`)");
    features.put("sigma_envoy_static_", "Envoy static config sync (`--envoy-config-sync`)");
    features.put("sigma_envoy_", "Envoy admin probe (`--xds-enabled`, nodes with admin_port)");
    features.put("jvm_", "JVM (always on)");
    features.put("process_", "process (always on)");
    return features;
  }

  private final AgentMetrics metrics = ExportedMetrics.agentWithEveryFeature();
  private final List<Family> exported = ExportedMetrics.families(ExportedMetrics.scrape(metrics));

  /**
   * Every registered metric shows in the exposition once its feature ran; otherwise its label names
   * (and its line in the doc) would go unseen. A new metric fails here until {@link
   * ExportedMetrics#agentWithEveryFeature} drives it.
   */
  @Test
  void everyRegisteredMetricHasSamplesOnceItsFeatureRan() {
    TreeSet<String> registered = new TreeSet<>();
    for (MetricSnapshot snapshot : metrics.registry().scrape()) {
      registered.add(exposedName(snapshot));
    }
    TreeSet<String> scraped = new TreeSet<>();
    exported.forEach(family -> scraped.add(family.name()));
    TreeSet<String> silent = new TreeSet<>(registered);
    silent.removeAll(scraped);
    assertEquals(
        new TreeSet<>(),
        silent,
        "registered metrics without samples after "
            + "ExportedMetrics.agentWithEveryFeature(): drive them there so the doc test sees their labels");
    assertEquals(registered, scraped);
  }

  @Test
  void docListsExactlyTheExportedMetrics() throws IOException {
    List<String> expected = rows(exported);
    String doc = Files.readString(DOC, StandardCharsets.UTF_8);
    int begin = doc.indexOf(BEGIN);
    int end = doc.indexOf(END);
    assertTrue(
        begin >= 0 && end > begin,
        DOC + " must hold the table between the lines\n" + BEGIN + "\n" + END);
    String table = String.join("\n", expected);
    if (Boolean.getBoolean("metrics.doc.update")) {
      String updated =
          doc.substring(0, begin + BEGIN.length()) + "\n" + table + "\n" + doc.substring(end);
      Files.writeString(DOC, updated, StandardCharsets.UTF_8);
      doc = updated;
      end = doc.indexOf(END);
    }
    List<String> documented =
        doc.substring(begin + BEGIN.length(), end).lines().filter(line -> !line.isBlank()).toList();
    if (!documented.equals(expected)) {
      fail(
          difference(documented, expected)
              + "\n\nThe table "
              + DOC
              + " should hold (or run "
              + "mvn -o -B -q test -Dtest=MetricsDocTest -Dmetrics.doc.update=true):\n"
              + table);
    }
  }

  @Test
  void theTableNamesEveryLabelOfAMetric() {
    Family heartbeats =
        exported.stream()
            .filter(family -> family.name().equals("sigma_agent_heartbeats_total"))
            .findFirst()
            .orElseThrow();
    assertEquals(
        new Family(
            "sigma_agent_heartbeats_total",
            "counter",
            List.of("result"),
            "Heartbeats sent to sigma-api, by result"),
        heartbeats);
    assertEquals(
        "| `sigma_agent_heartbeats_total` | counter | `result` "
            + "| Heartbeats sent to sigma-api, by result | registration and heartbeats (always on) |",
        row(heartbeats));
  }

  /** The name a scrape shows: client_java appends _total to counters and _info to infos. */
  private static String exposedName(MetricSnapshot snapshot) {
    String name = snapshot.getMetadata().getPrometheusName();
    if (snapshot instanceof CounterSnapshot) {
      return name + "_total";
    }
    return snapshot instanceof InfoSnapshot ? name + "_info" : name;
  }

  /** The table's lines: header, then one row a metric, by feature then name. */
  static List<String> rows(List<Family> families) {
    List<String> featureOrder = new ArrayList<>(FEATURES.values());
    List<String> rows = new ArrayList<>();
    rows.add("| metric | type | labels | help | feature |");
    rows.add("|---|---|---|---|---|");
    families.stream()
        .sorted(
            Comparator.comparing((Family family) -> featureOrder.indexOf(feature(family.name())))
                .thenComparing(Family::name))
        .forEach(family -> rows.add(row(family)));
    return rows;
  }

  static String row(Family family) {
    String labels =
        family.labels().isEmpty()
            ? ""
            : String.join(", ", family.labels().stream().map(label -> "`" + label + "`").toList());
    String help = family.help().replace("|", "\\|").replace("\n", " ");
    return "| `"
        + family.name()
        + "` | "
        + family.type()
        + " | "
        + labels
        + " | "
        + help
        + " | "
        + feature(family.name())
        + " |";
  }

  private static String feature(String metric) {
    return FEATURES.entrySet().stream()
        .filter(entry -> metric.startsWith(entry.getKey()))
        .map(Map.Entry::getValue)
        .findFirst()
        .orElseThrow(
            () ->
                new AssertionError(
                    "no feature for metric "
                        + metric
                        + ": add its name prefix to MetricsDocTest.FEATURES"));
  }

  /** Which metrics the doc misses, which it lists but the agent does not export, which differ. */
  private static String difference(List<String> documented, List<String> expected) {
    Map<String, String> doc = byMetric(documented);
    Map<String, String> real = byMetric(expected);
    List<String> lines = new ArrayList<>();
    real.forEach(
        (name, row) -> {
          if (!doc.containsKey(name)) {
            lines.add("missing from " + DOC + ": " + name);
          } else if (!doc.get(name).equals(row)) {
            lines.add(
                "differs for " + name + ":\n  doc:      " + doc.get(name) + "\n  exported: " + row);
          }
        });
    doc.keySet().stream()
        .filter(name -> !real.containsKey(name))
        .forEach(name -> lines.add("documented but not exported: " + name));
    if (lines.isEmpty()) {
      lines.add("same metrics, but the table's header or order differs");
    }
    return String.join("\n", lines);
  }

  private static Map<String, String> byMetric(List<String> rows) {
    Map<String, String> byName = new LinkedHashMap<>();
    for (String row : rows) {
      if (row.startsWith("| `")) {
        byName.put(row.substring(3, row.indexOf('`', 3)), row);
      }
    }
    return byName;
  }
}
