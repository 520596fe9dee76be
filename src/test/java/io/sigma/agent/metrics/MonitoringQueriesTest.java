package io.sigma.agent.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sigma.agent.metrics.ExportedMetrics.Family;
import io.sigma.agent.metrics.MonitoringQueries.Query;
import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The Grafana dashboard and the alert rules of monitoring/ query only what the agent exports, and
 * every dashboard query parses (promtool, Debian package 'prometheus', as a recording rule). The
 * alert rules themselves are checked and unit-tested by promtool in CI (.ci/run).
 */
class MonitoringQueriesTest {
  /** Series Prometheus itself adds for every target. */
  private static final Set<String> SCRAPE_SERIES =
      Set.of(
          "up",
          "scrape_duration_seconds",
          "scrape_samples_scraped",
          "scrape_samples_post_metric_relabeling",
          "scrape_series_added");

  /** Labels Prometheus adds to every series of a target. */
  private static final Set<String> TARGET_LABELS = Set.of("instance", "job");

  @TempDir Path tmp;

  /** Built once: an immutable view of what the agent exports. */
  private static final Map<String, Family> EXPORTED = Map.copyOf(exportedSeries());

  /** Series name (a histogram's _bucket, _sum, _count...) to its family. */
  private static Map<String, Family> exportedSeries() {
    Map<String, Family> series = new HashMap<>();
    AgentMetrics metrics = ExportedMetrics.agentWithEveryFeature();
    for (Family family : ExportedMetrics.families(ExportedMetrics.scrape(metrics))) {
      List<String> suffixes =
          switch (family.type()) {
            case "histogram" -> List.of("_bucket", "_sum", "_count");
            case "summary" -> List.of("", "_sum", "_count");
            default -> List.of("");
          };
      suffixes.forEach(suffix -> series.put(family.name() + suffix, family));
    }
    return series;
  }

  private static List<Query> allQueries() throws IOException {
    List<Query> queries =
        new ArrayList<>(MonitoringQueries.dashboardQueries(MonitoringQueries.dashboard()));
    queries.addAll(MonitoringQueries.alertQueries());
    return queries;
  }

  @Test
  void dashboardAndAlertsSelectOnlyExportedMetricsAndLabels() throws IOException {
    List<Query> queries = allQueries();
    assertTrue(queries.size() > 40, "queries found: " + queries.size());
    List<String> problems = new ArrayList<>();
    for (Query query : queries) {
      for (String name : MonitoringQueries.metricNames(query.expr())) {
        if (!EXPORTED.containsKey(name) && !SCRAPE_SERIES.contains(name)) {
          problems.add(query.where() + ": metric " + name + " is not exported (docs/metrics.md)");
        }
      }
      MonitoringQueries.matchedLabels(query.expr())
          .forEach(
              (name, labels) -> {
                Family family = EXPORTED.get(name);
                for (String label : labels) {
                  boolean known =
                      TARGET_LABELS.contains(label)
                          || (family != null && family.labels().contains(label))
                          || (family != null
                              && family.type().equals("histogram")
                              && label.equals("le"));
                  if (family != null && !known) {
                    problems.add(
                        query.where()
                            + ": "
                            + name
                            + " has no label "
                            + label
                            + " (it has "
                            + family.labels()
                            + " and instance, job)");
                  }
                }
              });
    }
    assertEquals(List.of(), problems);
  }

  @Test
  void everyDashboardQueryParses() throws Exception {
    assumeTrue(onPath("promtool"), "promtool is not installed (Debian package 'prometheus')");
    List<Query> queries = MonitoringQueries.dashboardQueries(MonitoringQueries.dashboard());
    PromtoolResult result = checkAsRules(queries);
    assertEquals(
        0,
        result.exitCode(),
        "promtool check rules on the dashboard's queries "
            + "(with Grafana variables substituted):\n"
            + result.output());
    assertTrue(
        result.output().contains("SUCCESS: " + queries.size() + " rules found"), result.output());
  }

  /** The parse check bites: a query Prometheus would reject makes promtool fail, naming it. */
  @Test
  void aQueryThatDoesNotParseFailsTheCheck() throws Exception {
    assumeTrue(onPath("promtool"), "promtool is not installed (Debian package 'prometheus')");
    PromtoolResult result =
        checkAsRules(
            List.of(
                new Query(
                    "panel 'fine' A",
                    "sum(rate(sigma_xds_polls_total{instance=~\"$instance\"}[$__rate_interval]))"),
                new Query("panel 'broken' A", "sum by (instance (up)")));
    assertNotEquals(0, result.exitCode(), result.output());
    assertTrue(
        result.output().contains("rule 2 is panel 'broken' A: sum by (instance (up)"),
        result.output());
  }

  @Test
  void everyPanelQueryUsesTheDataSourceAndInstanceVariables() throws IOException {
    JsonNode dashboard = MonitoringQueries.dashboard();
    Set<String> variables = new LinkedHashSet<>();
    dashboard.path("templating").path("list").forEach(v -> variables.add(v.path("name").asText()));
    assertTrue(variables.containsAll(List.of("datasource", "instance")), "variables: " + variables);
    List<String> problems = new ArrayList<>();
    for (JsonNode panel : MonitoringQueries.panels(dashboard)) {
      for (JsonNode target : panel.path("targets")) {
        String where =
            "panel '" + panel.path("title").asText() + "' " + target.path("refId").asText();
        if (!target.path("datasource").path("uid").asText().equals("${datasource}")) {
          problems.add(where + ": data source is not ${datasource}");
        }
        if (!target.path("expr").asText().contains("instance=~\"$instance\"")) {
          problems.add(where + ": does not select instance=~\"$instance\"");
        }
      }
    }
    assertEquals(List.of(), problems);
    assertTrue(dashboard.path("schemaVersion").asInt() >= 36, "Grafana 9+/10 schema");
  }

  @Test
  void everyAlertHasSeverityAndInstanceNamingAnnotations() throws IOException {
    List<String> lines = Files.readAllLines(MonitoringQueries.ALERTS, StandardCharsets.UTF_8);
    List<List<String>> alerts = new ArrayList<>();
    for (String line : lines) {
      if (line.strip().startsWith("- alert:")) {
        alerts.add(new ArrayList<>());
      }
      if (!alerts.isEmpty()) {
        alerts.get(alerts.size() - 1).add(line);
      }
    }
    assertTrue(alerts.size() >= 10, "alerts found: " + alerts.size());
    List<String> problems = new ArrayList<>();
    Pattern severity = Pattern.compile("^\\s*severity:\\s*(critical|warning|info)\\s*$");
    for (List<String> alert : alerts) {
      String name = alert.get(0).strip();
      String text = String.join("\n", alert);
      if (alert.stream().noneMatch(line -> severity.matcher(line).matches())) {
        problems.add(name + ": no severity critical|warning|info");
      }
      for (String annotation : List.of("summary:", "description:")) {
        if (alert.stream().noneMatch(line -> line.strip().startsWith(annotation))) {
          problems.add(name + ": no " + annotation);
        }
      }
      boolean absent = text.contains("expr: absent(");
      if (!absent && !text.contains("{{ $labels.instance }}")) {
        problems.add(name + ": annotations do not name {{ $labels.instance }}");
      }
    }
    assertEquals(List.of(), problems);
  }

  @Test
  void metricNamesAndLabelsAreReadFromPromql() {
    String expr =
        "60 * sum by (instance, result) (rate(sigma_agent_heartbeats_total{job=~\"a|b\","
            + "result=\"x{y}\"}[5m] offset 1h)) / on(instance) group_left(node) sigma_xds_other_nodes "
            + "> bool 1e3 and histogram_quantile(0.9, rate(h_bucket[$__rate_interval])) unless up == 0";
    assertEquals(
        Set.of("sigma_agent_heartbeats_total", "sigma_xds_other_nodes", "h_bucket", "up"),
        MonitoringQueries.metricNames(expr));
    assertEquals(
        Map.of("sigma_agent_heartbeats_total", Set.of("job", "result")),
        MonitoringQueries.matchedLabels(expr));
    assertEquals(
        "rate(x{instance=~\"value-of-instance\"}[5m]) [1m] [6h] value-of-node",
        MonitoringQueries.substituteVariables(
            "rate(x{instance=~\"$instance\"}[$__rate_interval]) [$__interval] [$__range] ${node:regex}"));
    assertEquals(
        "up{job=~\"$job\"}",
        MonitoringQueries.variableSelector("label_values(up{job=~\"$job\"}, instance)"));
  }

  @Test
  void ruleExpressionsAreReadFromPlainQuotedAndBlockScalars() {
    List<Query> queries =
        MonitoringQueries.ruleExpressions(
            List.of(
                "groups:",
                "  - name: g",
                "    rules:",
                "      - alert: Plain",
                "        expr: up == 0",
                "        for: 5m",
                "      - alert: Quoted",
                "        expr: 'up{job=\"a\"} == 0'",
                "      - alert: Block",
                "        expr: >-",
                "          up",
                "",
                "            == 0",
                "        labels:",
                "          severity: warning"));
    assertEquals(
        List.of(
            new Query("alert Plain", "up == 0"),
            new Query("alert Quoted", "up{job=\"a\"} == 0"),
            new Query("alert Block", "up\n\n== 0")),
        queries);
  }

  // ------------------------------------------------------------------ promtool

  record PromtoolResult(int exitCode, String output) {}

  /** Writes the queries as recording rules (with Grafana variables substituted) and checks them. */
  private PromtoolResult checkAsRules(List<Query> queries) throws Exception {
    ObjectMapper json = new ObjectMapper();
    StringBuilder rules = new StringBuilder("groups:\n  - name: dashboard\n    rules:\n");
    int n = 0;
    for (Query query : queries) {
      rules
          .append("      # ")
          .append(query.where().replace('\n', ' '))
          .append('\n')
          .append("      - record: dashboard_query_")
          .append(++n)
          .append('\n')
          .append("        expr: ")
          .append(json.writeValueAsString(MonitoringQueries.substituteVariables(query.expr())))
          .append('\n');
    }
    Path file = tmp.resolve("dashboard-queries.yml");
    Files.writeString(file, rules, StandardCharsets.UTF_8);
    Process promtool =
        new ProcessBuilder("promtool", "check", "rules", file.toString())
            .redirectErrorStream(true)
            .start();
    String output = new String(promtool.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertTrue(promtool.waitFor(30, TimeUnit.SECONDS), "promtool did not finish");
    return new PromtoolResult(promtool.exitValue(), output + whichQueries(output, queries));
  }

  private static final Pattern RULE_NUMBER = Pattern.compile("rule (\\d+),");

  /**
   * promtool names a bad rule by its number ("group \"dashboard\", rule 3, ..."): say which query.
   */
  private static String whichQueries(String output, List<Query> queries) {
    StringBuilder which = new StringBuilder();
    var matcher = RULE_NUMBER.matcher(output);
    while (matcher.find()) {
      Query query = queries.get(Integer.parseInt(matcher.group(1)) - 1);
      which
          .append("\nrule ")
          .append(matcher.group(1))
          .append(" is ")
          .append(query.where())
          .append(": ")
          .append(query.expr());
    }
    return which.toString();
  }

  private static boolean onPath(String command) {
    String path = System.getenv("PATH");
    if (path == null) {
      return false;
    }
    for (String dir : path.split(File.pathSeparator)) {
      if (Files.isExecutable(Path.of(dir, command))) {
        return true;
      }
    }
    return false;
  }
}
