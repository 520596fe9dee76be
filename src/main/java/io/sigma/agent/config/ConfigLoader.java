package io.sigma.agent.config;

import io.sigma.agent.api.ApiKey;
import io.sigma.agent.host.Cidr;
import io.sigma.agent.web.WebConfig;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.time.Duration;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.ParseResult;

/**
 * Turns the command line, the environment and the config file into an {@link AgentConfig}: flags
 * override environment variables, which override the config file, which overrides defaults. picocli
 * parses the flags (and gives {@code --help}/{@code --version}); the options are generated from
 * {@link Setting}, so the flag, its variable, its default and its help text are written once.
 */
public final class ConfigLoader {
  /** Exit status for a bad command line or setting, as picocli and most CLIs use. */
  public static final int USAGE_ERROR = 2;

  /** What the process should do: run with a config, or print something and exit. */
  public sealed interface Outcome {
    record Run(AgentConfig config) implements Outcome {}

    record Exit(int status, String message) implements Outcome {}
  }

  private ConfigLoader() {}

  public static Outcome load(String[] args, Map<String, String> env, String version) {
    return load(args, env, version, Path.of(Setting.CONFIG.defaultValue()));
  }

  /** {@link #load(String[], Map, String)} with another default config file (tests). */
  public static Outcome load(
      String[] args, Map<String, String> env, String version, Path defaultConfigFile) {
    CommandLine commandLine = new CommandLine(commandSpec(version));
    ParseResult parsed;
    try {
      parsed = commandLine.parseArgs(args);
    } catch (CommandLine.ParameterException e) {
      return new Outcome.Exit(USAGE_ERROR, "sigma-agent: " + e.getMessage() + " (see --help)");
    }
    if (commandLine.isUsageHelpRequested()) {
      StringWriter out = new StringWriter();
      commandLine.usage(new PrintWriter(out));
      return new Outcome.Exit(0, out.toString().stripTrailing());
    }
    if (commandLine.isVersionHelpRequested()) {
      return new Outcome.Exit(0, "sigma-agent " + version);
    }
    Map<Setting, String> flags = new EnumMap<>(Setting.class);
    for (Setting s : Setting.values()) {
      if (parsed.hasMatchedOption(s.flag())) {
        flags.put(s, parsed.matchedOptionValue(s.flag(), ""));
      }
    }
    try {
      return new Outcome.Run(
          build(new SettingValues(flags, env, configFile(flags, env, defaultConfigFile))));
    } catch (InvalidSettingException e) {
      return new Outcome.Exit(USAGE_ERROR, "sigma-agent: " + e.getMessage());
    }
  }

  /**
   * The file named by --config or AGENT_CONFIG (it must exist), else the default one (read if it
   * exists).
   */
  private static ConfigFile configFile(
      Map<Setting, String> flags, Map<String, String> env, Path defaultFile) {
    SettingValues named = new SettingValues(flags, env);
    if (!named.isSet(Setting.CONFIG)) {
      return ConfigFile.read(defaultFile, false);
    }
    return ConfigFile.read(named.path(Setting.CONFIG), true);
  }

  private static AgentConfig build(SettingValues v) {
    Duration second = Duration.ofSeconds(1);
    Duration day = Duration.ofDays(1);
    Duration backoffInitial =
        v.duration(Setting.BACKOFF_INITIAL, Duration.ofMillis(10), Duration.ofHours(1));
    Duration backoffMax = v.duration(Setting.BACKOFF_MAX, second, day);
    if (backoffMax.compareTo(backoffInitial) < 0) {
      throw v.invalid(Setting.BACKOFF_MAX, "must not be shorter than --backoff-initial");
    }
    return new AgentConfig(
        v.httpUrl(Setting.API_URL),
        v.secret(Setting.API_KEY, Setting.API_KEY_FILE).map(ApiKey::new),
        v.duration(Setting.INTERVAL, second, day),
        v.optionalName(Setting.HOSTNAME),
        v.optionalName(Setting.ALIAS),
        v.port(Setting.SSH_PORT, false),
        v.port(Setting.METRICS_PORT, true),
        v.bindAddress(Setting.METRICS_BIND),
        v.bool(Setting.PORT_SCAN),
        v.custom(Setting.PORT_SCAN_RANGE, PortRange::parse),
        v.duration(Setting.PORT_SCAN_INTERVAL, second, day),
        v.secret(Setting.ALLOCATE_TOKEN, Setting.ALLOCATE_TOKEN_FILE).map(AllocationToken::new),
        v.duration(Setting.ALLOCATE_RESERVATION, Duration.ZERO, Duration.ofHours(1)),
        v.text(Setting.ALLOCATE_ALLOW_FROM).isEmpty()
            ? List.of()
            : v.customList(Setting.ALLOCATE_ALLOW_FROM, Cidr::parse),
        v.bool(Setting.XDS_ENABLED),
        v.port(Setting.XDS_PORT, false),
        v.bindAddress(Setting.XDS_BIND),
        v.duration(Setting.XDS_POLL_INTERVAL, second, day),
        v.path(Setting.HOST_PROC),
        v.path(Setting.HOST_HOSTNAME_FILE),
        v.path(Setting.STATE_DIR),
        v.customList(Setting.IGNORE_IP_RANGES, Cidr::parse),
        v.bool(Setting.PUBLIC_IP_LOOKUP),
        v.httpUrls(Setting.PUBLIC_IP_SERVICES),
        v.port(Setting.MANAGEMENT_PORT, true),
        v.bindAddress(Setting.MANAGEMENT_BIND),
        v.duration(Setting.REQUEST_TIMEOUT, Duration.ofMillis(100), Duration.ofMinutes(5)),
        backoffInitial,
        backoffMax,
        v.bool(Setting.DEV),
        v.custom(Setting.LOG_LEVEL, LogLevel::parse),
        v.custom(Setting.LOG_FORMAT, LogFormat::parse),
        v.configFile(),
        v.bool(Setting.METRICS_HOSTNAME_LABEL),
        v.text(Setting.WEB_CONFIG_FILE).isEmpty()
            ? Optional.empty()
            : Optional.of(v.custom(Setting.WEB_CONFIG_FILE, file -> WebConfig.read(Path.of(file)))),
        envoyConfigSync(v));
  }

  private static EnvoyConfigSync envoyConfigSync(SettingValues v) {
    List<String> paths = v.customList(Setting.ENVOY_CONFIG_PATH, EnvoyConfigSync::pattern);
    boolean enabled = v.bool(Setting.ENVOY_CONFIG_SYNC);
    if (enabled && paths.isEmpty()) {
      throw v.invalid(Setting.ENVOY_CONFIG_PATH, "must name at least one file or glob");
    }
    return new EnvoyConfigSync(
        enabled,
        paths,
        v.text(Setting.ENVOY_CONFIG_EXCLUDE).isEmpty()
            ? List.of()
            : v.customList(Setting.ENVOY_CONFIG_EXCLUDE, EnvoyConfigSync::pattern),
        v.duration(Setting.ENVOY_CONFIG_SYNC_INTERVAL, Duration.ofSeconds(1), Duration.ofDays(1)));
  }

  private static CommandSpec commandSpec(String version) {
    CommandSpec spec =
        CommandSpec.create()
            .name("sigma-agent")
            .version("sigma-agent " + version)
            .mixinStandardHelpOptions(true);
    spec.usageMessage()
        .description(
            "Registers this VPS with sigma-api and heartbeats; optionally scans ports "
                + "and runs the Envoy xDS control plane. Every flag has an environment variable; "
                + "flags override it, it overrides the config file (--config), which overrides the "
                + "default. SIGHUP re-reads them.")
        .width(100);
    for (Setting s : Setting.values()) {
      OptionSpec.Builder option =
          OptionSpec.builder(s.flag())
              .paramLabel(s.label())
              .type(String.class)
              .description(
                  s.help()
                      + " Env: "
                      + s.env()
                      + "."
                      + (s.defaultValue() == null ? "" : " Default: " + s.defaultValue() + "."));
      if (s.isBoolean()) {
        // Both `--port-scan` and `--port-scan=true|false` work.
        option.arity("0..1").fallbackValue("true");
      }
      spec.addOption(option.build());
    }
    return spec;
  }
}
