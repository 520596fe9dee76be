package io.sigma.agent.ports;

import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Classifies a process name (as {@code ss} prints it: the kernel's {@code comm}, at most 15
 * characters) into a {@link ListenerSource}, case-insensitively.
 *
 * <p>A name matches a source when it equals one of the source's names or starts with one followed
 * by a character that is not a letter or digit ({@code sshd-session}, {@code envoy.bin}, {@code
 * nginx: worker}); so {@code nginxfoo} is {@link ListenerSource#OTHER}. Debian's {@code
 * prometheus-node-exporter} shows as {@code prometheus-node} once the kernel cuts it to 15
 * characters, hence that alias. Stateless.
 */
public final class ProcessClassifier {
  private static final List<Map.Entry<ListenerSource, List<String>>> NAMES =
      List.of(
          Map.entry(ListenerSource.ENVOY, List.of("envoy")),
          Map.entry(ListenerSource.SSHD, List.of("sshd")),
          Map.entry(ListenerSource.NGINX, List.of("nginx")),
          Map.entry(
              ListenerSource.NODE_EXPORTER,
              List.of(
                  "node_exporter", "node-exporter", "prometheus-node-exporter", "prometheus-node")),
          Map.entry(ListenerSource.XRAY, List.of("xray")));

  private ProcessClassifier() {}

  /**
   * @param processName a process name, or null/blank when none is known
   * @return the source; {@link ListenerSource#UNKNOWN} for a missing name, {@link
   *     ListenerSource#OTHER} for a name that matches no known source
   */
  public static ListenerSource classify(String processName) {
    if (processName == null || processName.isBlank()) {
      return ListenerSource.UNKNOWN;
    }
    String name = processName.strip().toLowerCase(Locale.ROOT);
    for (Map.Entry<ListenerSource, List<String>> source : NAMES) {
      for (String known : source.getValue()) {
        if (matches(name, known)) {
          return source.getKey();
        }
      }
    }
    return ListenerSource.OTHER;
  }

  private static boolean matches(String name, String known) {
    return name.startsWith(known)
        && (name.length() == known.length()
            || !Character.isLetterOrDigit(name.charAt(known.length())));
  }
}
