package io.sigma.agent.staticsync;

import java.nio.file.Path;

/**
 * The Envoy node a static config file is synced under: {@code static-<hostname>} for Envoy's
 * default file {@code /etc/envoy/envoy.yaml}, {@code static-<hostname>-<stem>} for any other file
 * ({@code stem}: the file name without its last extension, {@code edge} for {@code
 * /etc/envoy/edge.yaml}).
 */
public final class NodeIds {
  public static final Path DEFAULT_FILE = Path.of("/etc/envoy/envoy.yaml");

  private NodeIds() {}

  public static String of(Path file, String hostname) {
    if (file.toAbsolutePath().normalize().equals(DEFAULT_FILE)) {
      return "static-" + hostname;
    }
    return "static-" + hostname + "-" + stem(file);
  }

  static String stem(Path file) {
    Path name = file.getFileName();
    String text = name == null ? "" : name.toString();
    int dot = text.lastIndexOf('.');
    return dot > 0 ? text.substring(0, dot) : text;
  }
}
