package io.sigma.agent.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sigma.agent.host.Cidr;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class ConfigLoaderTest {
  private static final Map<String, String> NO_ENV = Map.of();

  private static AgentConfig run(Map<String, String> env, String... args) {
    ConfigLoader.Outcome outcome = ConfigLoader.load(args, env, "test");
    return assertInstanceOf(
            ConfigLoader.Outcome.Run.class, outcome, () -> "expected a config, got " + outcome)
        .config();
  }

  private static ConfigLoader.Outcome.Exit exit(Map<String, String> env, String... args) {
    ConfigLoader.Outcome outcome = ConfigLoader.load(args, env, "test");
    return assertInstanceOf(ConfigLoader.Outcome.Exit.class, outcome);
  }

  @Test
  void defaultsMatchTheDocumentedOnes() {
    AgentConfig c = run(NO_ENV);
    assertEquals(URI.create("http://localhost:3000/api"), c.apiUrl());
    assertEquals(Optional.empty(), c.apiKey());
    assertEquals(Duration.ofSeconds(60), c.interval());
    assertEquals(22, c.sshPort());
    assertEquals(9102, c.metricsPort());
    assertFalse(c.portScan());
    assertEquals(10000, c.portScanRange().first());
    assertEquals(30000, c.portScanRange().last());
    assertEquals(Duration.ofSeconds(60), c.portScanInterval());
    assertFalse(c.xdsEnabled());
    assertEquals(18000, c.xdsPort());
    assertEquals("127.0.0.1", c.xdsBind());
    assertEquals(Duration.ofSeconds(10), c.xdsPollInterval());
    assertEquals(Path.of("/proc"), c.hostProc());
    assertTrue(c.publicIpLookup());
    assertEquals(3, c.ignoredIpRanges().size());
    assertEquals(Duration.ofSeconds(30), c.allocateReservation());
    assertFalse(c.dev());
  }

  @Test
  void flagsOverrideEnvironmentWhichOverridesDefaults() {
    Map<String, String> env =
        Map.of(
            "AGENT_INTERVAL",
            "30",
            "AGENT_SSH_PORT",
            "2222",
            "SIGMA_API_URL",
            "https://env.example.com/api");
    AgentConfig c = run(env, "--interval", "15");
    assertEquals(Duration.ofSeconds(15), c.interval(), "flag beats env");
    assertEquals(2222, c.sshPort(), "env beats default");
    assertEquals(URI.create("https://env.example.com/api"), c.apiUrl());
  }

  @Test
  void emptyEnvironmentVariableCountsAsUnset() {
    AgentConfig c = run(Map.of("AGENT_INTERVAL", ""));
    assertEquals(Duration.ofSeconds(60), c.interval());
  }

  @Test
  void everySettingHasAFlagAndAVariable() {
    for (Setting s : Setting.values()) {
      assertTrue(s.flag().startsWith("--"), s.name());
      assertTrue(s.env().matches("(SIGMA|AGENT)_[A-Z_]+"), s.name());
    }
  }

  @ParameterizedTest
  @CsvSource({
    "--port-scan,true",
    "--port-scan=true,true",
    "--port-scan=false,false",
    "--port-scan=1,true",
    "--port-scan=no,false"
  })
  void booleanFlagsWorkBareAndWithAValue(String arg, boolean expected) {
    assertEquals(expected, run(NO_ENV, arg).portScan());
  }

  @Test
  void booleanFromEnvironment() {
    assertTrue(run(Map.of("AGENT_XDS_ENABLED", "true")).xdsEnabled());
    assertFalse(run(Map.of("AGENT_XDS_ENABLED", "true"), "--xds-enabled=false").xdsEnabled());
  }

  @Test
  void durationsAcceptUnits() {
    assertEquals(Duration.ofMinutes(5), run(NO_ENV, "--interval", "5m").interval());
    assertEquals(
        Duration.ofMillis(1500), run(NO_ENV, "--request-timeout", "1500ms").requestTimeout());
  }

  @Test
  void trailingSlashOfApiUrlIsDropped() {
    assertEquals(
        URI.create("http://api.example.com/api"),
        run(NO_ENV, "--api-url", "http://api.example.com/api/").apiUrl());
  }

  @ParameterizedTest
  @CsvSource(
      delimiter = '|',
      value = {
        "--interval=0|--interval '0': must be between 1s and 24h",
        "--interval=abc|--interval 'abc': 'abc' is not a duration",
        "--ssh-port=70000|--ssh-port '70000': must be within 1-65535",
        "--metrics-port=-1|--metrics-port '-1': must be within 0-65535",
        "--xds-port=0|--xds-port '0': must be within 1-65535",
        "--port-scan-range=30000-10000|--port-scan-range '30000-10000'",
        "--port-scan-range=abc|--port-scan-range 'abc'",
        "--api-url=ftp://x/api|--api-url 'ftp://x/api': must be an http:// or https:// URL",
        "--api-url=not a url|--api-url 'not a url'",
        "--port-scan=maybe|--port-scan 'maybe': must be true or false",
        "--xds-bind=localhost.example|--xds-bind 'localhost.example': must be an IP address",
        "--ignore-ip-ranges=10.1.2.3/8|--ignore-ip-ranges '10.1.2.3/8'",
        "--allocate-allow-from=10.0.0.0/8;192.168.1.0/24|--allocate-allow-from '10.0.0.0/8;192.168.1.0/24'",
        "--allocate-allow-from=sigma.example.com|is not a CIDR range",
        "--backoff-max=1s|--backoff-max '1s'"
      })
  void badValuesExitWithStatusTwoAndOneLineNamingTheSetting(String arg, String expected) {
    String[] args =
        arg.startsWith("--backoff-max")
            ? new String[] {arg, "--backoff-initial=5s"}
            : new String[] {arg};
    ConfigLoader.Outcome.Exit exit = exit(NO_ENV, args);
    assertEquals(2, exit.status());
    assertTrue(exit.message().contains(expected), exit.message());
    assertFalse(exit.message().contains("\n"), "one line: " + exit.message());
    assertFalse(exit.message().contains("Exception"), exit.message());
  }

  @Test
  void badEnvironmentValueNamesTheVariable() {
    ConfigLoader.Outcome.Exit exit = exit(Map.of("AGENT_INTERVAL", "0"));
    assertEquals(2, exit.status());
    assertEquals(
        "sigma-agent: invalid --interval (from AGENT_INTERVAL) '0': "
            + "must be between 1s and 24h",
        exit.message());
  }

  @Test
  void unknownFlagExitsWithStatusTwo() {
    ConfigLoader.Outcome.Exit exit = exit(NO_ENV, "--no-such-flag");
    assertEquals(2, exit.status());
    assertTrue(exit.message().contains("--no-such-flag"), exit.message());
    assertFalse(exit.message().contains("\n"));
  }

  @Test
  void secretsAreNeverEchoedInErrors() {
    ConfigLoader.Outcome.Exit exit = exit(NO_ENV, "--api-key", "   ");
    assertFalse(exit.message().contains("   '"), exit.message());
    assertTrue(
        exit.message().startsWith("sigma-agent: invalid --api-key: must not be blank"),
        exit.message());
  }

  @Test
  void apiKeyIsRedactedInToStringAndSummary() {
    AgentConfig c = run(Map.of("SIGMA_API_KEY", "s3cret-key"));
    assertEquals("s3cret-key", c.apiKey().orElseThrow().value());
    assertFalse(c.toString().contains("s3cret-key"), c.toString());
    assertFalse(c.summary().contains("s3cret-key"), c.summary());
  }

  @Test
  void allocateTokenIsRedactedInToStringAndSummary() {
    AgentConfig c = run(Map.of("AGENT_ALLOCATE_TOKEN", "s3cret-token"));
    assertTrue(c.allocateToken().orElseThrow().matches("s3cret-token"));
    assertFalse(c.toString().contains("s3cret-token"), c.toString());
    assertFalse(c.summary().contains("s3cret-token"), c.summary());
  }

  @Test
  void helpListsEveryFlagWithItsVariable() {
    ConfigLoader.Outcome.Exit exit = exit(NO_ENV, "--help");
    assertEquals(0, exit.status());
    for (Setting s : Setting.values()) {
      assertTrue(exit.message().contains(s.flag()), s.flag());
      assertTrue(exit.message().contains(s.env()), s.env());
    }
  }

  @Test
  void versionPrintsTheVersion() {
    ConfigLoader.Outcome.Exit exit = exit(NO_ENV, "--version");
    assertEquals(0, exit.status());
    assertEquals("sigma-agent test", exit.message());
  }

  @Test
  void theMetricsHostnameLabelIsOffByDefault() {
    assertFalse(run(NO_ENV).metricsHostnameLabel());
    assertTrue(run(NO_ENV, "--metrics-hostname-label").metricsHostnameLabel());
    assertTrue(run(Map.of("AGENT_METRICS_HOSTNAME_LABEL", "true")).metricsHostnameLabel());
  }

  @Test
  void allocateAllowFromIsEmptyByDefaultAndTakesCommaSeparatedRanges() {
    assertEquals(List.of(), run(NO_ENV).allocateAllowFrom());
    assertEquals(
        List.of(
            Cidr.parse("10.0.0.0/8"), Cidr.parse("2001:db8::/32"), Cidr.parse("203.0.113.7/32")),
        run(Map.of("AGENT_ALLOCATE_ALLOW_FROM", "10.0.0.0/8, 2001:db8::/32,203.0.113.7"))
            .allocateAllowFrom());
    assertEquals(
        List.of(Cidr.parse("0.0.0.0/0"), Cidr.parse("::/0")),
        run(NO_ENV, "--allocate-allow-from", "0.0.0.0/0,::/0").allocateAllowFrom());
  }

  @Test
  void webConfigFileIsOffByDefaultAndABadOneExitsWithStatusTwoNamingFileAndKey(
      @org.junit.jupiter.api.io.TempDir Path dir) throws Exception {
    assertEquals(Optional.empty(), run(NO_ENV).webConfigFile());
    Path bad =
        java.nio.file.Files.writeString(
            dir.resolve("web.yml"),
            "tls_server_config:\n  cert_file: a.crt\n  key_file: a.key\n  ciphers: x\n");
    ConfigLoader.Outcome.Exit exit = exit(Map.of("AGENT_WEB_CONFIG_FILE", bad.toString()));
    assertEquals(2, exit.status());
    assertEquals(
        "sigma-agent: invalid --web-config-file (from AGENT_WEB_CONFIG_FILE) '"
            + bad
            + "': unknown or unsupported key tls_server_config.ciphers (known: cert_file, "
            + "client_auth_type, client_ca_file, key_file, min_version)",
        exit.message());
    assertTrue(
        exit(NO_ENV, "--web-config-file", dir.resolve("none.yml").toString())
            .message()
            .endsWith("none.yml': no such file"));
    Path good =
        java.nio.file.Files.writeString(
            dir.resolve("auth.yml"),
            "basic_auth_users:\n  prometheus: $2y$10$.vGA1O9wmRjrwAVXD98HNOgsNpDczlqm3Jq7KnEd1rVAGv3Fykk1a\n");
    AgentConfig config = run(NO_ENV, "--web-config-file", good.toString());
    assertEquals(
        Map.of("prometheus", "$2y$10$.vGA1O9wmRjrwAVXD98HNOgsNpDczlqm3Jq7KnEd1rVAGv3Fykk1a"),
        config.webConfigFile().orElseThrow().basicAuthUsers());
    assertTrue(
        config.summary().contains(" metrics=0.0.0.0:9102/plain-http+basic-auth(1 user(s)) "),
        config.summary());
  }
}
