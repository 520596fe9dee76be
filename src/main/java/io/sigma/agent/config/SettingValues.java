package io.sigma.agent.config;

import io.sigma.agent.host.HostFileReader;
import io.sigma.agent.host.IpLiterals;
import java.io.IOException;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;

/**
 * The raw text of every setting, resolved by precedence (flag, then environment, then the config
 * file, then default), with typed, validated accessors whose errors name the setting, where its
 * value came from and what is wrong with it.
 */
final class SettingValues {
  /** A key or token is a line; a larger "secret file" is the wrong file. */
  static final int SECRET_FILE_MAX_BYTES = 4096;

  enum Source {
    FLAG,
    ENV,
    FILE,
    DEFAULT
  }

  /** {@code line} is the config file's line for {@link Source#FILE}, else 0. */
  private record Value(String text, Source source, int line) {}

  private final Map<Setting, Value> values = new EnumMap<>(Setting.class);
  private final ConfigFile file;

  SettingValues(Map<Setting, String> flags, Map<String, String> env) {
    this(flags, env, ConfigFile.none());
  }

  SettingValues(Map<Setting, String> flags, Map<String, String> env, ConfigFile file) {
    this.file = file;
    for (Setting s : Setting.values()) {
      Optional<ConfigFile.Entry> inFile = file.get(s);
      if (flags.containsKey(s)) {
        values.put(s, new Value(flags.get(s), Source.FLAG, 0));
      } else if (env.get(s.env()) != null && !env.get(s.env()).isEmpty()) {
        values.put(s, new Value(env.get(s.env()), Source.ENV, 0));
      } else if (inFile.isPresent() && !inFile.get().value().isEmpty()) {
        values.put(s, new Value(inFile.get().value(), Source.FILE, inFile.get().line()));
      } else if (s.defaultValue() != null) {
        values.put(s, new Value(s.defaultValue(), Source.DEFAULT, 0));
      }
    }
  }

  /** The config file read, if any. */
  Optional<Path> configFile() {
    return file.path();
  }

  boolean isSet(Setting s) {
    Value v = values.get(s);
    return v != null && v.source() != Source.DEFAULT;
  }

  /** Where a setting was set, for messages: "--api-key", "SIGMA_API_KEY", "... in FILE line N". */
  String origin(Setting s) {
    Value v = values.get(s);
    if (v == null || v.source() == Source.FLAG || v.source() == Source.DEFAULT) {
      return s.flag();
    }
    return v.source() == Source.ENV ? s.env() : s.env() + " in " + fileAndLine(v);
  }

  private String fileAndLine(Value v) {
    return file.path().map(Object::toString).orElse("the config file") + " line " + v.line();
  }

  Optional<String> text(Setting s) {
    return Optional.ofNullable(values.get(s)).map(Value::text);
  }

  private String required(Setting s) {
    return text(s).orElseThrow(() -> invalid(s, "is required"));
  }

  /** Applies a parser; an IllegalArgumentException becomes a one-line error naming the setting. */
  private <T> T parse(Setting s, Function<String, T> parser) {
    String text = required(s);
    try {
      return parser.apply(text.trim());
    } catch (IllegalArgumentException e) {
      throw invalid(s, e.getMessage());
    }
  }

  InvalidSettingException invalid(Setting s, String problem) {
    Value v = values.get(s);
    StringBuilder line = new StringBuilder("invalid ").append(s.flag());
    if (v != null && v.source() == Source.ENV) {
      line.append(" (from ").append(s.env()).append(')');
    } else if (v != null && v.source() == Source.FILE) {
      line.append(" (from ").append(s.env()).append(" in ").append(fileAndLine(v)).append(')');
    }
    if (v != null && !s.isSecret()) {
      String shown = s.mayHoldPassword() ? RedactedUrl.text(v.text()) : v.text();
      line.append(" '").append(shown).append('\'');
    }
    return new InvalidSettingException(s, line.append(": ").append(problem).toString());
  }

  Optional<String> optionalText(Setting s) {
    Optional<String> t = text(s).map(String::trim);
    if (t.isPresent() && t.get().isEmpty()) {
      throw invalid(s, "must not be blank");
    }
    return t;
  }

  /**
   * A secret given as a value ({@code --api-key}) or as a file holding it ({@code --api-key-file}),
   * not both. The file must be a small regular file; one trailing line break is dropped.
   */
  Optional<String> secret(Setting valueSetting, Setting fileSetting) {
    if (isSet(valueSetting) && isSet(fileSetting)) {
      throw invalid(
          fileSetting,
          "cannot be used together with " + origin(valueSetting) + "; set one of them");
    }
    if (!isSet(fileSetting)) {
      return optionalText(valueSetting);
    }
    Path file = path(fileSetting);
    String content;
    try {
      content = HostFileReader.readString(file, SECRET_FILE_MAX_BYTES, StandardCharsets.UTF_8);
    } catch (NoSuchFileException e) {
      throw invalid(fileSetting, "no such file");
    } catch (CharacterCodingException e) {
      throw invalid(fileSetting, "is not UTF-8 text");
    } catch (IOException e) {
      throw invalid(fileSetting, "cannot read it: " + ConfigFile.reason(e));
    }
    String secret =
        content.endsWith("\r\n")
            ? content.substring(0, content.length() - 2)
            : content.endsWith("\n") ? content.substring(0, content.length() - 1) : content;
    if (secret.isBlank()) {
      throw invalid(fileSetting, "is empty");
    }
    if (secret.strip().chars().anyMatch(c -> c == '\n' || c == '\r')) {
      throw invalid(fileSetting, "must hold one line");
    }
    return Optional.of(secret.strip());
  }

  Optional<String> optionalName(Setting s) {
    Optional<String> t = optionalText(s);
    if (t.isPresent()
        && (t.get().length() > 253 || t.get().chars().anyMatch(Character::isWhitespace))) {
      throw invalid(s, "must be at most 253 characters without spaces");
    }
    return t;
  }

  boolean bool(Setting s) {
    return parse(
        s,
        t ->
            switch (t.toLowerCase(Locale.ROOT)) {
              case "true", "1", "yes", "on" -> true;
              case "false", "0", "no", "off" -> false;
              default -> throw new IllegalArgumentException("must be true or false");
            });
  }

  int port(Setting s, boolean zeroAllowed) {
    int min = zeroAllowed ? 0 : 1;
    return parse(
        s,
        t -> {
          int p;
          try {
            p = Integer.parseInt(t);
          } catch (NumberFormatException e) {
            throw new IllegalArgumentException("is not a port number");
          }
          if (p < min || p > 65535) {
            throw new IllegalArgumentException(
                "must be within " + min + "-65535" + (zeroAllowed ? " (0 disables)" : ""));
          }
          return p;
        });
  }

  Duration duration(Setting s, Duration min, Duration max) {
    Duration d = parse(s, DurationSetting::parse);
    if (d.compareTo(min) < 0 || d.compareTo(max) > 0) {
      throw invalid(s, "must be between " + human(min) + " and " + human(max));
    }
    return d;
  }

  URI httpUrl(Setting s) {
    return parse(s, SettingValues::parseHttpUrl);
  }

  List<URI> httpUrls(Setting s) {
    return parse(s, t -> list(t).stream().map(SettingValues::parseHttpUrl).toList());
  }

  String bindAddress(Setting s) {
    return parse(
        s,
        t -> {
          if (IpLiterals.parse(t).isEmpty()) {
            throw new IllegalArgumentException(
                "must be an IP address such as 0.0.0.0 or 127.0.0.1");
          }
          return t;
        });
  }

  Path path(Setting s) {
    return parse(
        s,
        t -> {
          if (t.isEmpty()) {
            throw new IllegalArgumentException("must not be empty");
          }
          return Path.of(t);
        });
  }

  <T> T custom(Setting s, Function<String, T> parser) {
    return parse(s, parser);
  }

  <T> List<T> customList(Setting s, Function<String, T> parser) {
    return parse(s, t -> list(t).stream().map(parser).toList());
  }

  private static List<String> list(String text) {
    List<String> out = new ArrayList<>();
    for (String part : text.split(",")) {
      if (!part.isBlank()) {
        out.add(part.trim());
      }
    }
    return out;
  }

  private static URI parseHttpUrl(String t) {
    URI uri;
    try {
      uri = new URI(t);
    } catch (URISyntaxException e) {
      throw new IllegalArgumentException("is not a URL");
    }
    String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
    if (!scheme.equals("http") && !scheme.equals("https")) {
      throw new IllegalArgumentException("must be an http:// or https:// URL");
    }
    if (uri.getHost() == null || uri.getHost().isEmpty()) {
      throw new IllegalArgumentException("has no host");
    }
    if (uri.getQuery() != null || uri.getFragment() != null) {
      throw new IllegalArgumentException("must not have a query or fragment");
    }
    String s = uri.toString();
    while (s.endsWith("/")) {
      s = s.substring(0, s.length() - 1);
    }
    return URI.create(s);
  }

  private static String human(Duration d) {
    if (d.toMillis() % 1000 != 0) {
      return d.toMillis() + "ms";
    }
    long s = d.toSeconds();
    return s % 3600 == 0 ? s / 3600 + "h" : s % 60 == 0 ? s / 60 + "m" : s + "s";
  }
}
