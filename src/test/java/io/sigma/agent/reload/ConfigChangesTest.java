package io.sigma.agent.reload;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sigma.agent.config.AgentConfig;
import io.sigma.agent.config.ConfigLoader;
import io.sigma.agent.config.Setting;
import java.lang.reflect.RecordComponent;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

class ConfigChangesTest {
  static AgentConfig config(String... args) {
    return assertInstanceOf(
            ConfigLoader.Outcome.Run.class,
            ConfigLoader.load(args, Map.of(), "test", Path.of("/nonexistent/agent.conf")))
        .config();
  }

  @Test
  void noChangesWhenNothingChanged() {
    AgentConfig c = config("--api-key", "k");
    assertTrue(ConfigChanges.between(c, c, config("--api-key", "k")).isEmpty());
  }

  @Test
  void aWebConfigFileIsAChangeOnlyWhenItsTextChanged(@org.junit.jupiter.api.io.TempDir Path dir)
      throws Exception {
    Path file = java.nio.file.Files.writeString(dir.resolve("web.yml"), "basic_auth_users: {}\n");
    AgentConfig started = config("--web-config-file", file.toString());
    assertTrue(
        ConfigChanges.between(started, started, config("--web-config-file", file.toString()))
            .isEmpty());
    java.nio.file.Files.writeString(
        file,
        "basic_auth_users:\n  p: "
            + "$2y$10$.vGA1O9wmRjrwAVXD98HNOgsNpDczlqm3Jq7KnEd1rVAGv3Fykk1a\n");
    assertEquals(
        List.of("--web-config-file"),
        ConfigChanges.between(started, started, config("--web-config-file", file.toString()))
            .restart());
  }

  @Test
  void liveSettingsShowOldAndNewValuesSecretsOnlyWhatHappened() {
    AgentConfig started = config("--allocate-token", "a");
    AgentConfig loaded =
        config(
            "--interval",
            "30",
            "--xds-poll-interval",
            "1500ms",
            "--log-level",
            "debug",
            "--allocate-token",
            "b");
    ConfigChanges changes = ConfigChanges.between(started, started, loaded);
    assertEquals(
        List.of(
            "--interval 60s -> 30s",
            "--allocate-token changed",
            "--xds-poll-interval 10s -> 1500ms",
            "--log-level info -> debug"),
        changes.live());
    assertEquals(List.of(), changes.restart());
    assertEquals(
        List.of("--allocate-token removed"),
        ConfigChanges.between(started, started, config()).live());
    assertEquals(
        List.of("--allocate-token set"), ConfigChanges.between(config(), config(), started).live());
  }

  @Test
  void everythingElseNeedsARestartAndIsNamedByItsFlag() {
    AgentConfig started = config();
    ConfigChanges changes =
        ConfigChanges.between(
            started,
            started,
            config(
                "--metrics-port",
                "9",
                "--api-url",
                "https://x:pw@h/api",
                "--xds-enabled",
                "--ignore-ip-ranges",
                "10.0.0.0/8",
                "--api-key",
                "k",
                "--log-format",
                "json"));
    assertEquals(
        List.of(
            "--api-url",
            "--api-key",
            "--metrics-port",
            "--xds-enabled",
            "--ignore-ip-ranges",
            "--log-format"),
        changes.restart());
    assertEquals(List.of(), changes.live());
  }

  @Test
  void restartOnlySettingsAreComparedWithTheStartAndLiveOnesWithTheLastApplied() {
    AgentConfig started = config();
    AgentConfig first = config("--metrics-port", "9", "--interval", "30");
    AgentConfig second = config("--metrics-port", "9", "--interval", "30");
    ConfigChanges again = ConfigChanges.between(first, started, second);
    assertEquals(List.of(), again.live(), "30s is in effect already");
    assertEquals(List.of("--metrics-port"), again.restart(), "still not in effect");
  }

  @Test
  void everyComponentNamesASetting() {
    Set<String> flags =
        Arrays.stream(Setting.values()).map(Setting::flag).collect(Collectors.toSet());
    for (RecordComponent c : AgentConfig.class.getRecordComponents()) {
      if (!c.getName().equals("configFile")) {
        assertTrue(
            flags.contains(ConfigChanges.flag(c.getName())),
            c.getName() + " -> " + ConfigChanges.flag(c.getName()) + " is no flag");
      }
    }
  }
}
