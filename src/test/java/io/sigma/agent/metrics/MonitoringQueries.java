package io.sigma.agent.metrics;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The PromQL of monitoring/: every query of the Grafana dashboard (panels and template variables)
 * and every expression of the alert rules, and what they refer to.
 */
final class MonitoringQueries {
  static final Path DASHBOARD = Path.of("monitoring", "grafana", "sigma-agent-dashboard.json");
  static final Path ALERTS = Path.of("monitoring", "prometheus", "sigma-agent-alerts.yml");

  private MonitoringQueries() {}

  /** One query and where it is, for messages ("panel 'Free ports' A", "alert SigmaAgentDown"). */
  record Query(String where, String expr) {}

  // ------------------------------------------------------------------ reading them

  /** Every panel target's expr, and the selector of every label_values() template variable. */
  static List<Query> dashboardQueries(JsonNode dashboard) {
    List<Query> queries = new ArrayList<>();
    collectPanelQueries(dashboard.path("panels"), queries);
    for (JsonNode variable : dashboard.path("templating").path("list")) {
      if (!variable.path("type").asText().equals("query")) {
        continue;
      }
      JsonNode query = variable.path("query");
      String text = query.isTextual() ? query.asText() : query.path("query").asText();
      queries.add(new Query("variable $" + variable.path("name").asText(), variableSelector(text)));
    }
    return queries;
  }

  static List<JsonNode> panels(JsonNode dashboard) {
    List<JsonNode> panels = new ArrayList<>();
    collectPanels(dashboard.path("panels"), panels);
    return panels;
  }

  private static void collectPanels(JsonNode list, List<JsonNode> out) {
    for (JsonNode panel : list) {
      out.add(panel);
      collectPanels(panel.path("panels"), out); // panels of a collapsed row
    }
  }

  private static void collectPanelQueries(JsonNode list, List<Query> out) {
    List<JsonNode> panels = new ArrayList<>();
    collectPanels(list, panels);
    for (JsonNode panel : panels) {
      for (JsonNode target : panel.path("targets")) {
        out.add(
            new Query(
                "panel '" + panel.path("title").asText() + "' " + target.path("refId").asText(),
                target.path("expr").asText()));
      }
    }
  }

  private static final Pattern LABEL_VALUES =
      Pattern.compile(
          "^\\s*label_values\\((.*),\\s*[a-zA-Z_][a-zA-Z0-9_]*\\s*\\)\\s*$", Pattern.DOTALL);
  private static final Pattern QUERY_RESULT =
      Pattern.compile("^\\s*query_result\\((.*)\\)\\s*$", Pattern.DOTALL);

  /** The PromQL inside Grafana's label_values(selector, label) / query_result(expr). */
  static String variableSelector(String variableQuery) {
    Matcher labelValues = LABEL_VALUES.matcher(variableQuery);
    if (labelValues.matches()) {
      return labelValues.group(1);
    }
    Matcher queryResult = QUERY_RESULT.matcher(variableQuery);
    if (queryResult.matches()) {
      return queryResult.group(1);
    }
    throw new IllegalArgumentException("unsupported template variable query: " + variableQuery);
  }

  private static final Pattern ALERT = Pattern.compile("^\\s*- alert:\\s*(\\S+)\\s*$");
  private static final Pattern EXPR = Pattern.compile("^(\\s*)expr:\\s*(.*?)\\s*$");

  /**
   * Every {@code expr} of a rules file, by alert name. A line reader rather than a YAML parser (the
   * build has none): it knows plain, quoted and block ({@code >-}, {@code |}) scalars.
   */
  static List<Query> ruleExpressions(List<String> lines) {
    List<Query> queries = new ArrayList<>();
    String alert = "?";
    for (int i = 0; i < lines.size(); i++) {
      Matcher name = ALERT.matcher(lines.get(i));
      if (name.matches()) {
        alert = name.group(1);
      }
      Matcher expr = EXPR.matcher(lines.get(i));
      if (!expr.matches()) {
        continue;
      }
      String value = expr.group(2);
      if (value.matches("[>|][-+]?")) {
        int indent = expr.group(1).length();
        StringBuilder block = new StringBuilder();
        while (i + 1 < lines.size()
            && (lines.get(i + 1).isBlank()
                || lines.get(i + 1).length() - lines.get(i + 1).stripLeading().length() > indent)) {
          block.append(lines.get(++i).strip()).append('\n');
        }
        value = block.toString().strip();
      } else if (value.length() >= 2 && (value.startsWith("'") && value.endsWith("'"))) {
        value = value.substring(1, value.length() - 1).replace("''", "'");
      } else if (value.length() >= 2 && value.startsWith("\"") && value.endsWith("\"")) {
        value = value.substring(1, value.length() - 1).replace("\\\"", "\"").replace("\\\\", "\\");
      }
      queries.add(new Query("alert " + alert, value));
    }
    return queries;
  }

  static List<Query> alertQueries() throws IOException {
    return ruleExpressions(Files.readAllLines(ALERTS, StandardCharsets.UTF_8));
  }

  static JsonNode dashboard() throws IOException {
    return new ObjectMapper().readTree(DASHBOARD.toFile());
  }

  // ------------------------------------------------------------------ Grafana variables

  private static final Pattern VARIABLE =
      Pattern.compile(
          "\\$\\{([a-zA-Z0-9_]+)(?::[a-zA-Z0-9_]+)?}|\\$([a-zA-Z0-9_]+)|\\[\\[([a-zA-Z0-9_]+)]]");
  private static final Map<String, String> TIME_VARIABLES =
      Map.of("__rate_interval", "5m", "__interval", "1m", "__range", "6h");

  /**
   * The query as Prometheus would get it: Grafana's interval variables become durations, any other
   * variable a plain value (they only ever stand inside label matcher strings here).
   */
  static String substituteVariables(String expr) {
    Matcher matcher = VARIABLE.matcher(expr);
    StringBuilder out = new StringBuilder();
    while (matcher.find()) {
      String name =
          matcher.group(1) != null
              ? matcher.group(1)
              : matcher.group(2) != null ? matcher.group(2) : matcher.group(3);
      matcher.appendReplacement(
          out, Matcher.quoteReplacement(TIME_VARIABLES.getOrDefault(name, "value-of-" + name)));
    }
    matcher.appendTail(out);
    return out.toString();
  }

  // ------------------------------------------------------------------ PromQL names

  private static final Pattern STRING =
      Pattern.compile("\"(?:[^\"\\\\]|\\\\.)*\"|'(?:[^'\\\\]|\\\\.)*'|`[^`]*`");
  private static final Pattern SELECTOR =
      Pattern.compile("([a-zA-Z_:][a-zA-Z0-9_:]*)?\\s*\\{([^}]*)}");
  private static final Pattern MATCHER =
      Pattern.compile("\\s*([a-zA-Z_][a-zA-Z0-9_]*)\\s*(?:=~|!~|!=|=)\\s*S\\s*,?");
  private static final Pattern GROUPING =
      Pattern.compile("\\b(?:by|without|on|ignoring|group_left|group_right)\\s*\\([^)]*\\)");
  private static final Pattern IDENTIFIER = Pattern.compile("[a-zA-Z_:][a-zA-Z0-9_:]*(\\s*\\()?");
  private static final Set<String> KEYWORDS =
      Set.of(
          "and",
          "or",
          "unless",
          "bool",
          "offset",
          "by",
          "without",
          "on",
          "ignoring",
          "group_left",
          "group_right",
          "inf",
          "nan",
          "atan2",
          "start",
          "end");

  /** The metric names a PromQL expression selects (not functions, keywords, labels or numbers). */
  static Set<String> metricNames(String expr) {
    String text = STRING.matcher(expr).replaceAll("S");
    text =
        SELECTOR
            .matcher(text)
            .replaceAll(
                match ->
                    match.group(1) == null ? " " : Matcher.quoteReplacement(match.group(1)) + " ");
    text = text.replaceAll("\\[[^]]*]", " ");
    text = GROUPING.matcher(text).replaceAll(" ");
    Set<String> names = new LinkedHashSet<>();
    Matcher identifier = IDENTIFIER.matcher(text);
    while (identifier.find()) {
      boolean call = identifier.group(1) != null;
      boolean partOfNumber =
          identifier.start() > 0
              && (Character.isDigit(text.charAt(identifier.start() - 1))
                  || text.charAt(identifier.start() - 1) == '.');
      String token =
          call
              ? identifier.group().substring(0, identifier.group().indexOf('(')).strip()
              : identifier.group();
      if (!call && !partOfNumber && !KEYWORDS.contains(token.toLowerCase())) {
        names.add(token);
      }
    }
    return names;
  }

  /**
   * For each selector {@code name{label="..."}} of an expression: the label names it matches on.
   */
  static Map<String, Set<String>> matchedLabels(String expr) {
    String text = STRING.matcher(expr).replaceAll("S");
    Map<String, Set<String>> labels = new LinkedHashMap<>();
    Matcher selector = SELECTOR.matcher(text);
    while (selector.find()) {
      if (selector.group(1) == null) {
        continue;
      }
      Set<String> names = labels.computeIfAbsent(selector.group(1), name -> new LinkedHashSet<>());
      Matcher matcher = MATCHER.matcher(selector.group(2));
      while (matcher.find()) {
        names.add(matcher.group(1));
      }
    }
    return labels;
  }
}
