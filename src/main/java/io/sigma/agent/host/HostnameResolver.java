package io.sigma.agent.host;

import java.io.IOException;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Optional;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The hostname the agent registers under, from the first source that has one:
 *
 * <ol>
 *   <li>the configured value ({@code --hostname}), if not blank;
 *   <li>the first non-blank line of the host-hostname file ({@code /etc/host_hostname}: the host's
 *       {@code /etc/hostname} mounted into the agent's container);
 *   <li>the first non-blank line of {@code <proc>/sys/kernel/hostname};
 *   <li>the JDK's {@code InetAddress.getLocalHost().getHostName()};
 *   <li>{@code "localhost"}, with a warning (the API rejects an empty hostname).
 * </ol>
 *
 * Values are trimmed. Never throws; an unreadable source is skipped (a missing one silently, as it
 * is normal outside a container; any other failure with one warning per instance).
 */
public final class HostnameResolver {
  private static final Logger log = LoggerFactory.getLogger(HostnameResolver.class);

  /** Where the Docker instructions mount the host's /etc/hostname. */
  public static final Path DEFAULT_HOST_HOSTNAME_FILE = Path.of("/etc/host_hostname");

  private static final String LAST_RESORT = "localhost";

  private final String configured;
  private final Path hostHostnameFile;
  private final Path kernelHostnameFile;
  private final Supplier<Optional<String>> jdkHostname;
  private final WarnOnce warnings = new WarnOnce(log);

  /**
   * @param configured the {@code --hostname} setting, or null/blank when not set
   * @param hostHostnameFile usually {@link #DEFAULT_HOST_HOSTNAME_FILE}
   * @param procRoot the host's proc directory, usually {@code /proc}
   */
  public HostnameResolver(String configured, Path hostHostnameFile, Path procRoot) {
    this(configured, hostHostnameFile, procRoot, HostnameResolver::jdkHostname);
  }

  /** As above, with the JDK look-up replaced (tests: a machine whose DNS has no answer). */
  HostnameResolver(
      String configured,
      Path hostHostnameFile,
      Path procRoot,
      Supplier<Optional<String>> jdkHostname) {
    this.configured = configured;
    this.hostHostnameFile = hostHostnameFile;
    this.kernelHostnameFile = procRoot.resolve("sys/kernel/hostname");
    this.jdkHostname = jdkHostname;
  }

  /** The hostname; never null or blank. Reads the sources on every call. */
  public String resolve() {
    if (configured != null && !configured.isBlank()) {
      return configured.trim();
    }
    Optional<String> name =
        firstLine(hostHostnameFile)
            .or(() -> firstLine(kernelHostnameFile))
            .or(jdkHostname)
            .map(String::trim)
            .filter(n -> !n.isEmpty());
    if (name.isEmpty()) {
      warnings.warn(
          "no hostname",
          "hostname: none of "
              + hostHostnameFile
              + ", "
              + kernelHostnameFile
              + " or the JDK gives one; registering as '"
              + LAST_RESORT
              + "' (set --hostname / AGENT_HOSTNAME)");
    }
    return name.orElse(LAST_RESORT);
  }

  private Optional<String> firstLine(Path file) {
    try {
      Optional<String> line =
          HostFileReader.readString(file, HostFileReader.DEFAULT_CAP, StandardCharsets.UTF_8)
              .lines()
              .map(String::trim)
              .filter(l -> !l.isEmpty())
              .findFirst();
      if (line.isEmpty()) {
        log.debug("hostname: {} has no non-blank line, trying the next source", file);
      }
      return line;
    } catch (NoSuchFileException e) {
      log.debug("hostname: {} does not exist, trying the next source", file);
      return Optional.empty();
    } catch (IOException | RuntimeException e) {
      return skipUnreadable(file, e);
    }
  }

  private Optional<String> skipUnreadable(Path file, Exception e) {
    warnings.warn(
        WarnOnce.key(file, e),
        "hostname: cannot read " + file + ": " + WarnOnce.describe(e) + "; trying the next source");
    return Optional.empty();
  }

  private static Optional<String> jdkHostname() {
    try {
      return Optional.of(InetAddress.getLocalHost().getHostName());
    } catch (IOException | RuntimeException e) {
      log.debug("hostname: the JDK cannot name this host: {}", e.toString());
      return Optional.empty();
    }
  }
}
