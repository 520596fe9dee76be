package io.sigma.agent.host;

import java.net.URISyntaxException;
import java.net.URL;
import java.nio.file.Path;

/** The proc-root copies under src/test/resources/proc-fixtures. */
final class Fixtures {
  private Fixtures() {}

  /** {@code proc-fixtures/<name>} as a proc root ("typical", "odd", "malformed"). */
  static Path procRoot(String name) {
    URL url = Fixtures.class.getResource("/proc-fixtures/" + name);
    if (url == null) {
      throw new IllegalStateException(
          "no fixture proc-fixtures/" + name + " on the test class path");
    }
    try {
      return Path.of(url.toURI());
    } catch (URISyntaxException e) {
      throw new IllegalStateException(e);
    }
  }
}
