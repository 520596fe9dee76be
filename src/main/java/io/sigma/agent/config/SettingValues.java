package io.sigma.agent.config;

import io.sigma.agent.host.IpLiterals;
import java.net.URI;
import java.net.URISyntaxException;
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
 * The raw text of every setting, resolved by precedence (flag, then environment, then default),
 * with typed, validated accessors whose errors name the setting, where its value came from and
 * what is wrong with it.
 */
final class SettingValues {
  enum Source { FLAG, ENV, DEFAULT }

  private record Value(String text, Source source) {}

  private final Map<Setting, Value> values = new EnumMap<>(Setting.class);

  SettingValues(Map<Setting, String> flags, Map<String, String> env) {
    for (Setting s : Setting.values()) {
      if (flags.containsKey(s)) {
        values.put(s, new Value(flags.get(s), Source.FLAG));
      } else if (env.get(s.env()) != null && !env.get(s.env()).isEmpty()) {
        values.put(s, new Value(env.get(s.env()), Source.ENV));
      } else if (s.defaultValue() != null) {
        values.put(s, new Value(s.defaultValue(), Source.DEFAULT));
      }
    }
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
    }
    if (v != null && !s.isSecret()) {
      line.append(" '").append(v.text()).append('\'');
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

  Optional<String> optionalName(Setting s) {
    Optional<String> t = optionalText(s);
    if (t.isPresent() && (t.get().length() > 253 || t.get().chars().anyMatch(Character::isWhitespace))) {
      throw invalid(s, "must be at most 253 characters without spaces");
    }
    return t;
  }

  boolean bool(Setting s) {
    return parse(s, t -> switch (t.toLowerCase(Locale.ROOT)) {
      case "true", "1", "yes", "on" -> true;
      case "false", "0", "no", "off" -> false;
      default -> throw new IllegalArgumentException("must be true or false");
    });
  }

  int port(Setting s, boolean zeroAllowed) {
    int min = zeroAllowed ? 0 : 1;
    return parse(s, t -> {
      int p;
      try {
        p = Integer.parseInt(t);
      } catch (NumberFormatException e) {
        throw new IllegalArgumentException("is not a port number");
      }
      if (p < min || p > 65535) {
        throw new IllegalArgumentException("must be within " + min + "-65535"
            + (zeroAllowed ? " (0 disables)" : ""));
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
    return parse(s, t -> {
      if (IpLiterals.parse(t).isEmpty()) {
        throw new IllegalArgumentException("must be an IP address such as 0.0.0.0 or 127.0.0.1");
      }
      return t;
    });
  }

  Path path(Setting s) {
    return parse(s, t -> {
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
