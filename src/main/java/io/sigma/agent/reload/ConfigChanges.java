package io.sigma.agent.reload;

import io.sigma.agent.config.AgentConfig;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.RecordComponent;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * What a reloaded config changes: the settings applied live (intervals, log level, allocation
 * token) and those that need a restart (everything else: ports, addresses, --api-url, switches).
 * Every component of {@link AgentConfig} is compared, so a setting added later is reported as
 * needing a restart until someone makes it live.
 *
 * @param live "--interval 60s -> 30s" per live setting that changed (secrets without values)
 * @param restart the flags of the changed settings that need a restart
 */
public record ConfigChanges(List<String> live, List<String> restart) {
  /** Record components applied without a restart (see {@link ConfigReloader}). */
  static final Set<String> LIVE =
      Set.of("interval", "xdsPollInterval", "logLevel", "allocateToken");

  private static final Set<String> SECRET = Set.of("apiKey", "allocateToken");

  /** Which file was read says nothing about the settings; the settings themselves are compared. */
  private static final Set<String> NOT_A_SETTING = Set.of("configFile");

  /** Components not named like their flag. */
  private static final Map<String, String> FLAGS = Map.of("ignoredIpRanges", "--ignore-ip-ranges");

  public boolean isEmpty() {
    return live.isEmpty() && restart.isEmpty();
  }

  /**
   * @param applied the config whose live settings are in effect (the last one applied)
   * @param started the config the agent started with (restart-only settings are in effect)
   * @param loaded the config just read
   */
  public static ConfigChanges between(
      AgentConfig applied, AgentConfig started, AgentConfig loaded) {
    List<String> live = new ArrayList<>();
    List<String> restart = new ArrayList<>();
    for (RecordComponent c : AgentConfig.class.getRecordComponents()) {
      String name = c.getName();
      if (NOT_A_SETTING.contains(name)) {
        continue;
      }
      boolean isLive = LIVE.contains(name);
      Object before = value(c, isLive ? applied : started);
      Object after = value(c, loaded);
      if (Objects.equals(before, after)) {
        continue;
      }
      if (!isLive) {
        restart.add(flag(name));
      } else if (SECRET.contains(name)) {
        live.add(
            flag(name)
                + (before.equals(java.util.Optional.empty())
                    ? " set"
                    : after.equals(java.util.Optional.empty()) ? " removed" : " changed"));
      } else {
        live.add(flag(name) + " " + text(before) + " -> " + text(after));
      }
    }
    return new ConfigChanges(List.copyOf(live), List.copyOf(restart));
  }

  private static Object value(RecordComponent c, AgentConfig config) {
    try {
      return c.getAccessor().invoke(config);
    } catch (IllegalAccessException | InvocationTargetException e) {
      throw new IllegalStateException("AgentConfig." + c.getName() + " cannot be read", e);
    }
  }

  /** "xdsPollInterval" as "--xds-poll-interval". */
  static String flag(String component) {
    String mapped = FLAGS.get(component);
    if (mapped != null) {
      return mapped;
    }
    return "--"
        + component.replaceAll("([a-z0-9])([A-Z])", "$1-$2").toLowerCase(java.util.Locale.ROOT);
  }

  private static String text(Object value) {
    if (value instanceof Duration d) {
      return d.toMillis() % 1000 == 0 ? d.toSeconds() + "s" : d.toMillis() + "ms";
    }
    return String.valueOf(value);
  }
}
