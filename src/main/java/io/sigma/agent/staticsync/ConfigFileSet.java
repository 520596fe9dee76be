package io.sigma.agent.staticsync;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.PathMatcher;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeSet;
import java.util.stream.Stream;

/**
 * The files {@code --envoy-config-path} names, minus {@code --envoy-config-exclude}. A plain path
 * is always in the set, existing or not (so a missing file is reported); a glob ({@code *}, {@code
 * ?}, {@code [..]}, {@code **} across directories) adds the regular files that match it now, found
 * by walking from its longest directory prefix without wildcards. An exclude glob that has no '/'
 * is matched against the file name, otherwise against the absolute path. Relative paths are
 * resolved against the working directory. At most {@link #MAX_FILES} files are taken (sorted by
 * path); walks follow no symlinked directories and go at most {@link #MAX_DEPTH} deep.
 */
public final class ConfigFileSet {
  public static final int MAX_FILES = 64;
  static final int MAX_DEPTH = 8;

  /** Entries a glob's walk looks at, so a glob like /** cannot walk the whole disk each check. */
  static final long MAX_VISITED = 100_000;

  private final List<String> patterns;
  private final List<String> excludes;
  private final List<PathMatcher> excludeByPath = new ArrayList<>();
  private final List<PathMatcher> excludeByName = new ArrayList<>();

  public ConfigFileSet(List<String> patterns, List<String> excludes) {
    this.patterns = List.copyOf(patterns);
    this.excludes = List.copyOf(excludes);
    for (String exclude : excludes) {
      if (exclude.indexOf('/') >= 0) {
        excludeByPath.add(matcher(absolute(exclude)));
      } else {
        excludeByName.add(matcher(exclude));
      }
    }
  }

  /** The files of a check: at most {@link #MAX_FILES}, and how many more matched. */
  public record Listing(List<Path> files, int leftOut) {}

  /** The files as of now, absolute and normalised, sorted; at most {@link #MAX_FILES}. */
  public Listing files() {
    TreeSet<Path> out = new TreeSet<>();
    for (String pattern : patterns) {
      String absolute = absolute(pattern);
      if (!isGlob(absolute)) {
        out.add(Path.of(absolute));
      } else {
        out.addAll(matches(absolute));
      }
    }
    out.removeIf(this::excluded);
    return new Listing(out.stream().limit(MAX_FILES).toList(), Math.max(0, out.size() - MAX_FILES));
  }

  boolean excluded(Path file) {
    Path name = file.getFileName();
    return excludeByPath.stream().anyMatch(m -> m.matches(file))
        || (name != null && excludeByName.stream().anyMatch(m -> m.matches(name)));
  }

  private static List<Path> matches(String glob) {
    PathMatcher matcher = matcher(glob);
    Path base = base(glob);
    int depth = glob.contains("**") ? MAX_DEPTH : depth(glob) - depth(base.toString());
    if (!Files.isDirectory(base)) {
      return List.of();
    }
    try (Stream<Path> walk = Files.walk(base, Math.max(1, depth))) {
      return walk.limit(MAX_VISITED).filter(matcher::matches).filter(Files::isRegularFile).toList();
    } catch (IOException | UncheckedIOException e) {
      // An unreadable directory matches nothing now; the next check walks it again.
      return List.of();
    }
  }

  /** The longest leading run of path components without wildcards. */
  static Path base(String glob) {
    String[] parts = glob.split("/");
    StringBuilder base = new StringBuilder();
    for (String part : parts) {
      if (isGlob(part)) {
        break;
      }
      if (!part.isEmpty()) {
        base.append('/').append(part);
      }
    }
    return Path.of(base.length() == 0 ? "/" : base.toString());
  }

  private static int depth(String path) {
    return (int) path.chars().filter(c -> c == '/').count() - (path.equals("/") ? 1 : 0);
  }

  static boolean isGlob(String text) {
    return text.chars().anyMatch(c -> c == '*' || c == '?' || c == '[');
  }

  private static PathMatcher matcher(String glob) {
    return FileSystems.getDefault().getPathMatcher("glob:" + glob);
  }

  /** The pattern as an absolute, normalised path text (wildcards kept as they are). */
  static String absolute(String pattern) {
    return Path.of(pattern).toAbsolutePath().normalize().toString();
  }

  public List<String> excludes() {
    return excludes;
  }

  /** For log lines: the patterns. */
  @Override
  public String toString() {
    return String.join(",", patterns);
  }
}
