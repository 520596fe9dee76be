package io.sigma.agent.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** --config files, --api-key-file / --allocate-token-file, a password in --api-url. */
class ConfigFileAndSecretsTest {
  @TempDir Path dir;

  private Path missingDefault() {
    return dir.resolve("no-such-default.conf");
  }

  private ConfigLoader.Outcome load(Map<String, String> env, String... args) {
    return ConfigLoader.load(args, env, "test", missingDefault());
  }

  private AgentConfig run(Map<String, String> env, String... args) {
    ConfigLoader.Outcome outcome = load(env, args);
    return assertInstanceOf(
            ConfigLoader.Outcome.Run.class, outcome, () -> "expected a config, got " + outcome)
        .config();
  }

  private String error(Map<String, String> env, String... args) {
    ConfigLoader.Outcome.Exit exit =
        assertInstanceOf(ConfigLoader.Outcome.Exit.class, load(env, args));
    assertEquals(2, exit.status(), exit.message());
    assertFalse(exit.message().contains("\n"), "one line: " + exit.message());
    assertFalse(exit.message().contains("Exception"), exit.message());
    return exit.message();
  }

  private Path file(String name, String content) throws Exception {
    Path f = dir.resolve(name);
    Files.writeString(f, content);
    return f;
  }

  // ---- the config file

  @Test
  void aMissingDefaultFileIsFineAndAMissingNamedOneIsNot() {
    assertEquals(Optional.empty(), run(Map.of()).configFile());
    Path missing = dir.resolve("agent.conf");
    assertEquals(
        "sigma-agent: cannot read --config " + missing + ": no such file",
        error(Map.of(), "--config", missing.toString()));
    assertEquals(
        "sigma-agent: cannot read --config " + missing + ": no such file",
        error(Map.of("AGENT_CONFIG", missing.toString())));
  }

  @Test
  void theDefaultFileIsReadWhenItExists() throws Exception {
    Path conf = file("agent.conf", "AGENT_INTERVAL=42\n");
    ConfigLoader.Outcome outcome = ConfigLoader.load(new String[0], Map.of(), "test", conf);
    AgentConfig c = assertInstanceOf(ConfigLoader.Outcome.Run.class, outcome).config();
    assertEquals(Duration.ofSeconds(42), c.interval());
    assertEquals(Optional.of(conf), c.configFile());
  }

  @Test
  void flagsBeatTheEnvironmentWhichBeatsTheFileWhichBeatsDefaults() throws Exception {
    Path conf =
        file(
            "agent.conf",
            """
        # sigma-agent settings
        AGENT_INTERVAL=30
        AGENT_SSH_PORT = 2222

        AGENT_XDS_POLL_INTERVAL="5s"
        SIGMA_API_URL='https://file.example.com/api'
        AGENT_ALIAS=
        SIGMA_AGENT_HEAP=64m
        """);
    AgentConfig c =
        run(
            Map.of("AGENT_XDS_POLL_INTERVAL", "7", "SIGMA_API_URL", "https://env.example.com/api"),
            "--config",
            conf.toString(),
            "--api-url",
            "https://flag.example.com/api");
    assertEquals(URI.create("https://flag.example.com/api"), c.apiUrl(), "flag beats env and file");
    assertEquals(Duration.ofSeconds(7), c.xdsPollInterval(), "env beats file");
    assertEquals(Duration.ofSeconds(30), c.interval(), "file beats default");
    assertEquals(2222, c.sshPort(), "spaces around = are fine");
    assertEquals(Optional.empty(), c.alias(), "an empty value is unset, as in the environment");
    assertEquals(Duration.ofSeconds(60), c.portScanInterval(), "default");
  }

  @Test
  void anUnknownKeyNamesTheKeyTheFileAndTheLine() throws Exception {
    Path conf = file("agent.conf", "AGENT_INTERVAL=30\n# comment\nAGENT_INTERVALL=20\n");
    assertEquals(
        "sigma-agent: "
            + conf
            + " line 3: unknown key 'AGENT_INTERVALL' (keys are the "
            + "environment variables listed by --help)",
        error(Map.of(), "--config", conf.toString()));
  }

  @Test
  void aLineWithoutAnEqualsSignOrARepeatedKeyIsAnError() throws Exception {
    Path noEquals = file("a.conf", "AGENT_INTERVAL 30\n");
    assertEquals(
        "sigma-agent: " + noEquals + " line 1: expected KEY=value",
        error(Map.of(), "--config", noEquals.toString()));
    Path twice = file("b.conf", "AGENT_INTERVAL=30\nAGENT_INTERVAL=40\n");
    assertEquals(
        "sigma-agent: " + twice + " line 2: AGENT_INTERVAL is already set on line 1",
        error(Map.of(), "--config", twice.toString()));
    Path nested = file("c.conf", "AGENT_CONFIG=/etc/other.conf\n");
    assertTrue(error(Map.of(), "--config", nested.toString()).contains("line 1: AGENT_CONFIG"));
  }

  @Test
  void aBadValueInTheFileNamesTheFileAndTheLine() throws Exception {
    Path conf = file("agent.conf", "\nAGENT_INTERVAL=0\n");
    assertEquals(
        "sigma-agent: invalid --interval (from AGENT_INTERVAL in "
            + conf
            + " line 2) "
            + "'0': must be between 1s and 24h",
        error(Map.of(), "--config", conf.toString()));
  }

  @Test
  void aConfigFileThatIsADirectoryIsRefused() {
    assertEquals(
        "sigma-agent: cannot read --config " + dir + ": is a directory, not a regular " + "file",
        error(Map.of(), "--config", dir.toString()));
  }

  // ---- secrets from files

  @Test
  void theApiKeyAndTheAllocationTokenAreReadFromFilesWithoutTheTrailingNewline() throws Exception {
    Path key = file("api-key", "k3y-from-file\n");
    Path token = file("token", "t0ken-from-file\r\n");
    AgentConfig c =
        run(
            Map.of("AGENT_ALLOCATE_TOKEN_FILE", token.toString()),
            "--api-key-file",
            key.toString());
    assertEquals("k3y-from-file", c.apiKey().orElseThrow().value());
    assertTrue(c.allocateToken().orElseThrow().matches("t0ken-from-file"));
  }

  @Test
  void aSecretFileCanBeNamedInTheConfigFile() throws Exception {
    Path key = file("api-key", "k3y\n");
    Path conf = file("agent.conf", "SIGMA_API_KEY_FILE=" + key + "\n");
    assertEquals("k3y", run(Map.of(), "--config", conf.toString()).apiKey().orElseThrow().value());
  }

  @Test
  void aMissingEmptyOrOversizedSecretFileExitsNamingTheSetting() throws Exception {
    Path missing = dir.resolve("nope");
    assertEquals(
        "sigma-agent: invalid --api-key-file '" + missing + "': no such file",
        error(Map.of(), "--api-key-file", missing.toString()));
    Path empty = file("empty", "\n");
    assertEquals(
        "sigma-agent: invalid --allocate-token-file (from AGENT_ALLOCATE_TOKEN_FILE) '"
            + empty
            + "': is empty",
        error(Map.of("AGENT_ALLOCATE_TOKEN_FILE", empty.toString())));
    Path big = file("big", "x".repeat(SettingValues.SECRET_FILE_MAX_BYTES + 1));
    assertTrue(error(Map.of(), "--api-key-file", big.toString()).contains("is larger than"));
    assertTrue(
        error(Map.of(), "--api-key-file", dir.toString())
            .endsWith("is a directory, not a regular file"));
  }

  @Test
  void aValueAndAFileForTheSameSecretIsAnError() throws Exception {
    Path key = file("api-key", "k3y-in-file\n");
    String message = error(Map.of("SIGMA_API_KEY", "k3y-in-env"), "--api-key-file", key.toString());
    assertEquals(
        "sigma-agent: invalid --api-key-file '"
            + key
            + "': cannot be used together "
            + "with SIGMA_API_KEY; set one of them",
        message);
    assertFalse(message.contains("k3y"), message);
  }

  // ---- a password in --api-url

  @Test
  void aPasswordInTheApiUrlIsNeverPrinted() {
    AgentConfig c = run(Map.of("SIGMA_API_URL", "https://agent:pa55word@api.example.com/api"));
    assertEquals("agent:pa55word", c.apiUrl().getUserInfo(), "still used");
    assertFalse(c.summary().contains("pa55word"), c.summary());
    assertTrue(c.summary().contains("api=https://***@api.example.com/api"), c.summary());
    assertFalse(c.toString().contains("pa55word"), c.toString());
    String message = error(Map.of(), "--api-url", "https://agent:pa55word@api.example.com/api?x=1");
    assertFalse(message.contains("pa55word"), message);
    assertTrue(message.contains("'https://***@api.example.com/api?x=1'"), message);
  }

  @Test
  void redactedUrlsKeepEverythingButTheUserInfo() {
    assertEquals(
        "http://api.example.com:3000/api", RedactedUrl.text("http://api.example.com:3000/api"));
    assertEquals("https://***@h/api", RedactedUrl.text("https://u:p@ss@h/api"));
    assertEquals("https://***@h", RedactedUrl.of(URI.create("https://token@h")));
    assertEquals("https://h/a@b", RedactedUrl.text("https://h/a@b"), "an @ in the path stays");
  }

  // ---- log settings

  @Test
  void logLevelAndFormatAreValidatedSettings() {
    AgentConfig defaults = run(Map.of());
    assertEquals(LogLevel.INFO, defaults.logLevel());
    assertEquals(LogFormat.TEXT, defaults.logFormat());
    AgentConfig c = run(Map.of("AGENT_LOG_LEVEL", "DEBUG"), "--log-format", "json");
    assertEquals(LogLevel.DEBUG, c.logLevel());
    assertEquals(LogFormat.JSON, c.logFormat());
    assertEquals(
        "sigma-agent: invalid --log-level 'verbose': must be error, warn, info, debug or "
            + "trace",
        error(Map.of(), "--log-level", "verbose"));
    assertEquals(
        "sigma-agent: invalid --log-format (from AGENT_LOG_FORMAT) 'xml': must be text "
            + "or json",
        error(Map.of("AGENT_LOG_FORMAT", "xml")));
  }
}
