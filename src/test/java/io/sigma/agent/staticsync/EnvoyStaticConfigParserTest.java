package io.sigma.agent.staticsync;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sigma.agent.api.StaticRoute;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class EnvoyStaticConfigParserTest {
  private final EnvoyStaticConfigParser parser = new EnvoyStaticConfigParser();

  static String fixture(String name) {
    try (InputStream in =
        EnvoyStaticConfigParserTest.class.getResourceAsStream("/envoy-static/" + name)) {
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new AssertionError(e);
    }
  }

  @Test
  void everyFieldInEveryFormEnvoyAccepts() throws Exception {
    StaticConfig config = parser.parse(fixture("every-field.yaml"));
    assertEquals(
        List.of(
            new StaticRoute("tcp-static", 10001, "10.0.0.5", 8080, "static", 1, 2),
            new StaticRoute("tcp-strict", 10002, "hk013.example.com", 30008, "strict_dns", 5, 1),
            new StaticRoute("tcp-logical", 10003, "backend.example.net", 443, "logical_dns", 2, 0),
            new StaticRoute("listener-10004", 10004, "192.0.2.10", 9000, "static", 5, 1),
            new StaticRoute(
                "tcp-second-chain", 10005, "backend.example.net", 443, "logical_dns", 2, 0)),
        config.routes());
    assertEquals(1, config.skipped().size());
    assertEquals("http", config.skipped().get(0).name());
    assertTrue(
        config.skipped().get(0).reason().contains("no envoy.filters.network.tcp_proxy filter"),
        config.skipped().get(0).reason());
  }

  @Test
  void everyUnusableListenerIsSkippedWithItsReasonAndTheGoodOneKept() throws Exception {
    StaticConfig config = parser.parse(fixture("hostile-listeners.yaml"));
    assertEquals(
        List.of(new StaticRoute("good", 10001, "10.0.0.1", 80, "static", 5, 0)), config.routes());
    Map<String, String> reasons =
        config.skipped().stream()
            .collect(
                Collectors.toMap(
                    SkippedListener::name,
                    SkippedListener::reason,
                    (a, b) -> a + " | " + b,
                    LinkedHashMap::new));
    Map<String, String> expected = new LinkedHashMap<>();
    expected.put("static_resources.listeners[1]", "is a string, not a mapping");
    expected.put("no-address", "has no address.socket_address.port_value");
    expected.put("pipe", "listens on a pipe, not a TCP port");
    expected.put("port-zero", "listener port_value 0 is out of range 1-65535");
    expected.put("port-too-high", "listener port_value 70000 is out of range 1-65535");
    expected.put(
        "port-huge", "listener port_value 99999999999999999999999 is out of range 1-65535");
    expected.put("port-text", "listener port_value is a string, not an integer");
    expected.put("port-decimal", "listener port_value is a decimal number, not an integer");
    expected.put("port-list", "listener port_value is a list, not an integer");
    expected.put("udp", "is a UDP listener");
    expected.put("http-only", "has no envoy.filters.network.tcp_proxy filter (not a TCP proxy)");
    expected.put(
        "no-filter-chains", "has no envoy.filters.network.tcp_proxy filter (not a TCP proxy)");
    expected.put("no-typed-config", "its tcp_proxy filter has no typed_config");
    expected.put(
        "weighted", "its tcp_proxy uses weighted_clusters; only a single cluster is synced");
    expected.put("no-cluster", "its tcp_proxy names no cluster");
    expected.put("missing-cluster", "its cluster 'nowhere' is not in static_resources.clusters");
    expected.put(
        "eds",
        "cluster 'eds' has type EDS; only STATIC, STRICT_DNS and LOGICAL_DNS have a fixed"
            + " endpoint");
    expected.put("custom-type", "cluster 'custom' has a custom cluster_type");
    expected.put("type-number", "cluster 'type-number' type is an integer, not a string");
    expected.put(
        "no-endpoint",
        "cluster 'no-endpoint' has no endpoint (load_assignment.endpoints[0].lb_endpoints[0]"
            + ".endpoint.address.socket_address)");
    expected.put(
        "empty-endpoints",
        "cluster 'empty-endpoints' has no endpoint (load_assignment.endpoints[0]"
            + ".lb_endpoints[0].endpoint.address.socket_address)");
    expected.put(
        "no-host", "cluster 'no-host' endpoint address is missing or not a host name/address");
    expected.put(
        "host-number",
        "cluster 'host-number' endpoint address is missing or not a host name/address");
    expected.put(
        "backend-port-out-of-range",
        "cluster 'backend-port' endpoint port_value 65536 is out of range 1-65535");
    expected.put(
        "timeout-no-unit",
        "cluster 'timeout-no-unit' connect_timeout is not a duration such as \"5s\" or"
            + " \"0.25s\"");
    expected.put(
        "timeout-number",
        "cluster 'timeout-number' connect_timeout is an integer, not a duration such as \"5s\""
            + " or \"0.25s\"");
    expected.put(
        "timeout-negative",
        "cluster 'timeout-negative' connect_timeout is not a duration such as \"5s\" or"
            + " \"0.25s\"");
    expected.put("timeout-huge", "cluster 'timeout-huge' connect_timeout is out of range");
    expected.put(
        "proxy-v3",
        "cluster 'proxy-v3' PROXY protocol version is not V1 or V2"
            + " (transport_socket.typed_config.config.version)");
    expected.put("same-port-as-good", "port 10001 is already synced for listener 'good'");
    assertEquals(expected, reasons);
  }

  @ParameterizedTest
  @CsvSource({
    "5s, 5",
    "0s, 0",
    "0.25s, 1",
    "0.000000001s, 1",
    "5.000s, 5",
    "5.5s, 6",
    "2147483647s, 2147483647"
  })
  void connectTimeoutIsRoundedUpToWholeSeconds(String timeout, int seconds) throws Exception {
    assertEquals(seconds, EnvoyStaticConfigParser.connectTimeoutSecs(timeout, "c"));
  }

  @Test
  void aYamlBombIsStoppedByTheAliasLimit() {
    StaticConfigException e =
        assertThrows(
            StaticConfigException.class,
            () ->
                assertTimeoutPreemptively(
                    Duration.ofSeconds(10), () -> parser.parse(fixture("billion-laughs.yaml"))));
    assertTrue(e.getMessage().startsWith("is not valid YAML: "), e.getMessage());
    assertTrue(e.getMessage().contains("aliases"), e.getMessage());
  }

  @Test
  void selfReferencingCollectionsAreSkippedNotFollowed() throws Exception {
    StaticConfig config = parser.parse(fixture("self-referencing.yaml"));
    assertEquals(List.of(), config.routes());
    assertEquals(
        List.of(
            new SkippedListener("static_resources.listeners[0]", "is a list, not a mapping"),
            new SkippedListener("loop", "its tcp_proxy names no cluster"),
            new SkippedListener("root", "has no address.socket_address.port_value")),
        config.skipped());
  }

  @Test
  void notYamlFailsWithThePlaceAndWithoutTheText() {
    StaticConfigException e =
        assertThrows(StaticConfigException.class, () -> parser.parse(fixture("not-yaml.txt")));
    assertTrue(e.getMessage().startsWith("is not valid YAML: "), e.getMessage());
    assertTrue(e.getMessage().matches(".*\\(line \\d+, column \\d+\\)"), e.getMessage());
    assertFalse(e.getMessage().contains("unterminated"), e.getMessage());
    assertFalse(e.getMessage().contains("\n"), e.getMessage());
  }

  @Test
  void aSecretInTheFileNeverReachesTheMessage() {
    String text = "static_resources:\n  private_key: {inline_string: HUNTER2-SECRET}\n   bad: [\n";
    StaticConfigException e = assertThrows(StaticConfigException.class, () -> parser.parse(text));
    assertFalse(e.getMessage().contains("HUNTER2"), e.getMessage());
  }

  @ParameterizedTest
  @CsvSource(
      delimiter = '|',
      value = {
        "''| is empty",
        "'# only a comment'| is empty",
        "'- a\n- b'| is not an Envoy config: the top level is a list, not a mapping",
        "'just text'| is not an Envoy config: the top level is a string, not a mapping",
        "'42'| is not an Envoy config: the top level is an integer, not a mapping",
        "'admin: {}'| is not an Envoy static config: it has no static_resources",
        "'static_resources: [1]'| static_resources is a list, not a mapping",
        "'static_resources: {listeners: {a: 1}}'| static_resources.listeners is a mapping, not a"
            + " list",
        "'static_resources: {clusters: 7}'| static_resources.clusters is an integer, not a list",
        "'a: 1\na: 2'| is not valid YAML: while constructing a mapping: found duplicate key a",
        "'a: 1\n---\nb: 2'| is not valid YAML: expected a single document in the stream: but"
            + " found another document (line 2, column 1)",
        "'a: !!java.io.File /etc'| is not valid YAML: ",
        "'a: *nowhere'| is not valid YAML: found undefined alias nowhere",
      })
  void aFileThatIsNotAnEnvoyStaticConfigFailsAsAWhole(String text, String problem) {
    StaticConfigException e = assertThrows(StaticConfigException.class, () -> parser.parse(text));
    assertTrue(e.getMessage().startsWith(problem), e.getMessage());
  }

  @Test
  void deepNestingIsRefused() {
    String deep = "a: " + "[".repeat(10_000) + "]".repeat(10_000);
    StaticConfigException e = assertThrows(StaticConfigException.class, () -> parser.parse(deep));
    assertTrue(
        e.getMessage().contains("is not valid YAML: Nesting Depth exceeded"), e.getMessage());
  }

  @Test
  void tooManyListenersAreRefusedAsAWhole() {
    String many =
        "static_resources:\n  listeners:\n"
            + "  - {}\n".repeat(EnvoyStaticConfigParser.MAX_LISTENERS + 1);
    StaticConfigException e = assertThrows(StaticConfigException.class, () -> parser.parse(many));
    assertEquals("has 4097 listeners, more than the 4096 the agent syncs", e.getMessage());
  }

  @Test
  void noListenersIsAValidEmptyConfig() throws Exception {
    assertEquals(
        new StaticConfig(List.of(), List.of()),
        parser.parse("static_resources: {listeners: [], clusters: []}"));
    assertEquals(new StaticConfig(List.of(), List.of()), parser.parse("static_resources: {}"));
  }

  @Test
  void jsonIsYamlToo() throws Exception {
    String json =
        "{\"static_resources\": {\"listeners\": [{\"name\": \"j\", \"address\":"
            + " {\"socket_address\": {\"port_value\": 10001}}, \"filter_chains\": [{\"filters\":"
            + " [{\"name\": \"envoy.filters.network.tcp_proxy\", \"typed_config\": {\"cluster\":"
            + " \"c\"}}]}]}], \"clusters\": [{\"name\": \"c\", \"type\": \"LOGICAL_DNS\","
            + " \"connect_timeout\": \"3s\", \"load_assignment\": {\"endpoints\":"
            + " [{\"lb_endpoints\": [{\"endpoint\": {\"address\": {\"socket_address\":"
            + " {\"address\": \"b.example\", \"port_value\": 7}}}}]}]}}]}}";
    assertEquals(
        List.of(new StaticRoute("j", 10001, "b.example", 7, "logical_dns", 3, 0)),
        parser.parse(json).routes());
  }
}
