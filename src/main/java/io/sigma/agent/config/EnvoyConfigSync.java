package io.sigma.agent.config;

import java.nio.file.FileSystems;
import java.time.Duration;
import java.util.List;
import java.util.regex.PatternSyntaxException;

/**
 * The Envoy static-config sync settings ({@code --envoy-config-sync}, {@code --envoy-config-path},
 * {@code --envoy-config-exclude}, {@code --envoy-config-sync-interval}), one component of {@link
 * AgentConfig} so the feature's settings travel together. All four take effect after a restart.
 *
 * @param paths files and globs ({@code /etc/envoy/*.yaml}) of Envoy static configs
 * @param excludes globs of files left out; a glob without '/' is matched against the file name
 */
public record EnvoyConfigSync(
    boolean enabled, List<String> paths, List<String> excludes, Duration interval) {
  public static final String DEFAULT_FILE = "/etc/envoy/envoy.yaml";

  public EnvoyConfigSync {
    paths = List.copyOf(paths);
    excludes = List.copyOf(excludes);
  }

  /** A path or glob as the setting accepts it: checked for glob syntax here, at start-up. */
  static String pattern(String text) {
    if (text.indexOf('\0') >= 0) {
      throw new IllegalArgumentException("must not contain a NUL character");
    }
    if (text.indexOf('{') >= 0 || text.indexOf('}') >= 0) {
      throw new IllegalArgumentException(
          "'"
              + text
              + "': {a,b} alternatives cannot be written in a comma-separated list; give each"
              + " glob on its own");
    }
    try {
      FileSystems.getDefault().getPathMatcher("glob:" + text);
    } catch (PatternSyntaxException e) {
      throw new IllegalArgumentException(
          "'" + text + "' is not a valid glob: " + e.getDescription());
    }
    return text;
  }
}
