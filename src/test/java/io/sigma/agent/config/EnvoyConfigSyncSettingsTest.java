package io.sigma.agent.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** --envoy-config-sync and its three companions: defaults, sources, and bad values. */
class EnvoyConfigSyncSettingsTest {
  @TempDir Path dir;

  private ConfigLoader.Outcome load(Map<String, String> env, String... args) {
    return ConfigLoader.load(args, env, "test", dir.resolve("absent.conf"));
  }

  private EnvoyConfigSync run(Map<String, String> env, String... args) {
    ConfigLoader.Outcome outcome = load(env, args);
    return assertInstanceOf(ConfigLoader.Outcome.Run.class, outcome, outcome::toString)
        .config()
        .envoyConfigSync();
  }

  @Test
  void offByDefaultWithEnvoysDefaultFileAndAMinute() {
    assertEquals(
        new EnvoyConfigSync(
            false, List.of("/etc/envoy/envoy.yaml"), List.of(), Duration.ofSeconds(60)),
        run(Map.of()));
  }

  @Test
  void flagsTakeCommaSeparatedPathsGlobsAndExcludes() {
    assertEquals(
        new EnvoyConfigSync(
            true,
            List.of("/etc/envoy/envoy.yaml", "/etc/envoy/conf.d/*.yaml"),
            List.of("*.bak.yaml", "/etc/envoy/conf.d/old/**"),
            Duration.ofSeconds(15)),
        run(
            Map.of(),
            "--envoy-config-sync",
            "--envoy-config-path",
            "/etc/envoy/envoy.yaml, /etc/envoy/conf.d/*.yaml",
            "--envoy-config-exclude=*.bak.yaml,/etc/envoy/conf.d/old/**",
            "--envoy-config-sync-interval=15s"));
  }

  @Test
  void theEnvironmentAndTheConfigFileWorkToo() throws Exception {
    Path conf = dir.resolve("agent.conf");
    java.nio.file.Files.writeString(
        conf, "AGENT_ENVOY_CONFIG_SYNC=true\nAGENT_ENVOY_CONFIG_SYNC_INTERVAL=5m\n");
    assertEquals(
        new EnvoyConfigSync(
            true, List.of("/srv/envoy.yaml"), List.of("x.yaml"), Duration.ofMinutes(5)),
        run(
            Map.of(
                "AGENT_ENVOY_CONFIG_PATH",
                "/srv/envoy.yaml",
                "AGENT_ENVOY_CONFIG_EXCLUDE",
                "x.yaml"),
            "--config",
            conf.toString()));
  }

  @ParameterizedTest
  @CsvSource(
      delimiter = '|',
      value = {
        "--envoy-config-sync=maybe|invalid --envoy-config-sync 'maybe': must be true or false",
        "--envoy-config-sync-interval=0|invalid --envoy-config-sync-interval '0': must be between"
            + " 1s and 24h",
        "--envoy-config-sync-interval=2d|invalid --envoy-config-sync-interval '2d': '2d' is not a"
            + " duration",
        "--envoy-config-path=/etc/envoy/[a.yaml|invalid --envoy-config-path '/etc/envoy/[a.yaml':"
            + " '/etc/envoy/[a.yaml' is not a valid glob: Missing ']",
        "--envoy-config-exclude=*.{bak,old}|invalid --envoy-config-exclude '*.{bak,old}':"
            + " '*.{bak': {a,b} alternatives cannot be written in a comma-separated list",
        "--envoy-config-path=, ,|invalid --envoy-config-path ', ,': must name at least one file or"
            + " glob",
      })
  void badValuesExitWithStatusTwoAndOneLineNamingTheSetting(String arg, String expected) {
    ConfigLoader.Outcome outcome =
        arg.startsWith("--envoy-config-sync=")
            ? load(Map.of(), arg)
            : load(Map.of(), "--envoy-config-sync", arg);
    ConfigLoader.Outcome.Exit exit = assertInstanceOf(ConfigLoader.Outcome.Exit.class, outcome);
    assertEquals(2, exit.status());
    assertTrue(exit.message().startsWith("sigma-agent: " + expected), exit.message());
    assertFalse(exit.message().contains("\n"), exit.message());
  }

  @Test
  void aChangeOnSighupIsReportedAsNeedingARestart() {
    AgentConfig started =
        assertInstanceOf(ConfigLoader.Outcome.Run.class, load(Map.of(), "--envoy-config-sync"))
            .config();
    AgentConfig reloaded =
        assertInstanceOf(
                ConfigLoader.Outcome.Run.class,
                load(Map.of(), "--envoy-config-sync", "--envoy-config-sync-interval=10"))
            .config();
    io.sigma.agent.reload.ConfigChanges changes =
        io.sigma.agent.reload.ConfigChanges.between(started, started, reloaded);
    assertEquals(List.of(), changes.live());
    assertEquals(List.of("--envoy-config-sync"), changes.restart());
  }

  @Test
  void theSummaryNamesThePathsWhenOn() {
    ConfigLoader.Outcome outcome =
        load(Map.of(), "--envoy-config-sync", "--envoy-config-path=/a.yaml,/b/*.yaml");
    String summary = assertInstanceOf(ConfigLoader.Outcome.Run.class, outcome).config().summary();
    assertTrue(summary.contains(" envoy-config-sync=/a.yaml,/b/*.yaml "), summary);
    assertTrue(
        assertInstanceOf(ConfigLoader.Outcome.Run.class, load(Map.of()))
            .config()
            .summary()
            .contains(" envoy-config-sync=off "));
  }
}
