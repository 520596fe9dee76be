package io.sigma.agent.config;

import io.sigma.agent.host.HostFileReader;
import java.io.IOException;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * The config file ({@code --config}): {@code KEY=value} lines whose keys are the environment
 * variable names of the settings, the format of /etc/default files and of systemd's EnvironmentFile
 * (so one file can serve both). Blank lines and lines starting with {@code #} are skipped; a value
 * may be wrapped in one pair of double or single quotes. An unknown or repeated key is an error
 * naming the file and the line: a typo must not be silently ignored.
 */
public final class ConfigFile {
  /** The most the agent reads of it: a file with every setting is about 3 KiB. */
  static final int MAX_BYTES = 64 * 1024;

  /**
   * Keys the launcher script reads (the .deb's /usr/bin/sigma-agent): accepted, so the same file
   * can be the unit's EnvironmentFile, and ignored by the agent.
   */
  static final Set<String> LAUNCHER_KEYS =
      Set.of("SIGMA_AGENT_HEAP", "SIGMA_AGENT_JAVA_OPTS", "JAVA_HOME");

  /** A value and the line it is on. */
  record Entry(String value, int line) {}

  private final Path path;
  private final Map<Setting, Entry> entries;

  private ConfigFile(Path path, Map<Setting, Entry> entries) {
    this.path = path;
    this.entries = entries;
  }

  /** No file: every setting comes from flags, the environment or the defaults. */
  static ConfigFile none() {
    return new ConfigFile(null, Map.of());
  }

  Optional<Path> path() {
    return Optional.ofNullable(path);
  }

  Optional<Entry> get(Setting s) {
    return Optional.ofNullable(entries.get(s));
  }

  /**
   * Reads {@code file}. A missing file is {@link #none()} when {@code required} is false (the
   * default path), an error otherwise.
   *
   * @throws InvalidSettingException naming the file (and the line) and what is wrong
   */
  static ConfigFile read(Path file, boolean required) {
    String text;
    try {
      text = HostFileReader.readString(file, MAX_BYTES, StandardCharsets.UTF_8);
    } catch (NoSuchFileException e) {
      if (!required) {
        return none();
      }
      throw new InvalidSettingException(
          Setting.CONFIG, "cannot read --config " + file + ": no such file");
    } catch (CharacterCodingException e) {
      throw new InvalidSettingException(
          Setting.CONFIG, "cannot read --config " + file + ": not UTF-8 text");
    } catch (IOException e) {
      throw new InvalidSettingException(
          Setting.CONFIG, "cannot read --config " + file + ": " + reason(e));
    }
    return parse(file, text);
  }

  static ConfigFile parse(Path file, String text) {
    Map<String, Setting> byKey = new HashMap<>();
    for (Setting s : Setting.values()) {
      byKey.put(s.env(), s);
    }
    Map<Setting, Entry> entries = new HashMap<>();
    String[] lines = text.split("\r?\n", -1);
    for (int i = 0; i < lines.length; i++) {
      int number = i + 1;
      String line = lines[i].strip();
      if (line.isEmpty() || line.startsWith("#")) {
        continue;
      }
      int eq = line.indexOf('=');
      if (eq <= 0) {
        throw error(file, number, "expected KEY=value");
      }
      String key = line.substring(0, eq).strip();
      if (LAUNCHER_KEYS.contains(key)) {
        continue;
      }
      Setting setting = byKey.get(key);
      if (setting == null) {
        throw error(
            file,
            number,
            "unknown key "
                + printable(key)
                + " (keys are the environment variables listed by --help)");
      }
      if (setting == Setting.CONFIG) {
        throw error(file, number, "AGENT_CONFIG cannot name another file inside a config file");
      }
      Entry previous =
          entries.put(setting, new Entry(unquote(line.substring(eq + 1).strip()), number));
      if (previous != null) {
        throw error(file, number, key + " is already set on line " + previous.line());
      }
    }
    return new ConfigFile(file, entries);
  }

  private static String unquote(String value) {
    if (value.length() >= 2) {
      char first = value.charAt(0);
      if ((first == '"' || first == '\'') && value.charAt(value.length() - 1) == first) {
        return value.substring(1, value.length() - 1);
      }
    }
    return value;
  }

  private static InvalidSettingException error(Path file, int line, String problem) {
    return new InvalidSettingException(Setting.CONFIG, file + " line " + line + ": " + problem);
  }

  /** A key as typed, cut short and stripped of control characters (it goes on one line). */
  private static String printable(String key) {
    String k = key.length() > 64 ? key.substring(0, 64) + "..." : key;
    return "'" + k.replaceAll("\\p{Cntrl}", "?") + "'";
  }

  static String reason(IOException e) {
    if (e instanceof java.nio.file.AccessDeniedException) {
      return "permission denied";
    }
    if (e instanceof io.sigma.agent.host.HostFileRefusedException refused) {
      return refused.problem();
    }
    return e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
  }
}
