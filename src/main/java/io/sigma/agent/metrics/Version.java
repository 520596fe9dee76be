package io.sigma.agent.metrics;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.Properties;

/**
 * The agent's version and the git commit it was built from, written at build time into {@code
 * io/sigma/agent/build.properties} (the version) and {@code io/sigma/agent/git-revision} (the
 * output of {@code git rev-parse --short=12 HEAD}, see pom.xml). "dev" and "unknown" when they are
 * missing or were not filtered (an IDE run from sources; a build without .git has revision
 * "unknown").
 */
public final class Version {
  private static final String UNKNOWN_REVISION = "unknown";
  private static final Properties BUILD = load();
  private static final String REVISION = loadRevision();

  private Version() {}

  /** The release, e.g. {@code 0.1.0}. */
  public static String current() {
    return value("version", "dev");
  }

  /** The abbreviated git commit of the build, or {@code unknown}. */
  public static String revision() {
    return REVISION;
  }

  /** {@code 0.1.0 (abc123def456)}: what --version and the startup line print. */
  public static String describe() {
    return current() + " (" + revision() + ")";
  }

  private static String value(String key, String fallback) {
    String v = BUILD.getProperty(key, "").trim();
    return v.isEmpty() || v.contains("${") ? fallback : v;
  }

  private static String loadRevision() {
    try (InputStream in = Version.class.getResourceAsStream("/io/sigma/agent/git-revision")) {
      String revision =
          in == null ? "" : new String(in.readNBytes(64), StandardCharsets.US_ASCII).trim();
      return revision.matches("[0-9a-f]{7,40}") ? revision : UNKNOWN_REVISION;
    } catch (IOException e) {
      return UNKNOWN_REVISION;
    }
  }

  private static Properties load() {
    Properties p = new Properties();
    try (InputStream in = Version.class.getResourceAsStream("/io/sigma/agent/build.properties")) {
      if (in != null) {
        p.load(in);
      }
    } catch (IOException e) {
      // no build information: the fallbacks apply
    }
    return p;
  }
}
