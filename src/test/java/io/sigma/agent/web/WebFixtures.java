package io.sigma.agent.web;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.KeyStore;
import java.security.cert.CertificateFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;

/**
 * The TEST-ONLY key material under src/test/resources/web (see its README.txt), copied into a
 * directory next to a web config that names it.
 */
public final class WebFixtures {
  /** A bcrypt hash of "rasmuslerdorf" as PHP's password_hash writes it ($2y$, cost 10). */
  public static final String PHP_HASH =
      "$2y$10$.vGA1O9wmRjrwAVXD98HNOgsNpDczlqm3Jq7KnEd1rVAGv3Fykk1a";

  public static final String PHP_PASSWORD = "rasmuslerdorf";

  private WebFixtures() {}

  /** Copies the fixture {@code name} into {@code dir}. */
  public static Path copy(String name, Path dir) {
    try (InputStream in = WebFixtures.class.getResourceAsStream("/web/" + name)) {
      if (in == null) {
        throw new IllegalArgumentException("no fixture " + name);
      }
      Path target = dir.resolve(name);
      Files.copy(in, target, StandardCopyOption.REPLACE_EXISTING);
      return target;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Copies every fixture into {@code dir} and writes {@code yaml} there as web.yml. */
  public static Path webConfig(Path dir, String yaml) {
    for (String name :
        new String[] {
          "ca.crt",
          "server.crt",
          "server.key",
          "server-ec.crt",
          "server-ec.key",
          "server-ec-sec1.key"
        }) {
      copy(name, dir);
    }
    try {
      return Files.writeString(dir.resolve("web.yml"), yaml);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** A client context that trusts only the test CA. */
  public static SSLContext clientTrustingTestCa() throws Exception {
    KeyStore trust = KeyStore.getInstance("PKCS12");
    trust.load(null, null);
    try (InputStream in = WebFixtures.class.getResourceAsStream("/web/ca.crt")) {
      trust.setCertificateEntry(
          "ca", CertificateFactory.getInstance("X.509").generateCertificate(in));
    }
    TrustManagerFactory tmf =
        TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
    tmf.init(trust);
    SSLContext context = SSLContext.getInstance("TLS");
    context.init(null, tmf.getTrustManagers(), null);
    return context;
  }
}
