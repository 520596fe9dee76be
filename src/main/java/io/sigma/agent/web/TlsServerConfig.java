package io.sigma.agent.web;

import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.util.List;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.TrustManagerFactory;
import org.apache.pekko.http.javadsl.ConnectionContext;
import org.apache.pekko.http.javadsl.HttpsConnectionContext;

/**
 * The {@code tls_server_config} of a web config: the server's key and certificate chain, whether
 * clients must present a certificate signed by {@code client_ca_file}, and the oldest TLS version
 * accepted.
 */
public record TlsServerConfig(SSLContext context, ClientAuth clientAuth, List<String> protocols) {
  /** exporter-toolkit's {@code client_auth_type} values the agent supports. */
  public enum ClientAuth {
    NO_CLIENT_CERT,
    VERIFY_CLIENT_CERT_IF_GIVEN,
    REQUIRE_AND_VERIFY_CLIENT_CERT
  }

  private static final char[] IN_MEMORY = new char[0];

  /**
   * Loads the key pair and, when given, the client CA. {@code minVersion} is "TLS12" or "TLS13".
   */
  static TlsServerConfig load(
      Path certFile,
      Path keyFile,
      ClientAuth clientAuth,
      List<X509Certificate> clientCas,
      String minVersion) {
    List<X509Certificate> chain = PemFiles.certificates(certFile);
    PrivateKey key = PemFiles.privateKey(keyFile);
    PemFiles.checkPair(key, chain.get(0), keyFile, certFile);
    try {
      KeyStore keys = KeyStore.getInstance("PKCS12");
      keys.load(null, null);
      keys.setKeyEntry("server", key, IN_MEMORY, chain.toArray(X509Certificate[]::new));
      KeyManagerFactory keyManagers =
          KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
      keyManagers.init(keys, IN_MEMORY);
      TrustManagerFactory trustManagers = null;
      if (!clientCas.isEmpty()) {
        KeyStore cas = KeyStore.getInstance("PKCS12");
        cas.load(null, null);
        for (int i = 0; i < clientCas.size(); i++) {
          cas.setCertificateEntry("client-ca-" + i, clientCas.get(i));
        }
        trustManagers = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        trustManagers.init(cas);
      }
      SSLContext context = SSLContext.getInstance("TLS");
      context.init(
          keyManagers.getKeyManagers(),
          trustManagers == null ? null : trustManagers.getTrustManagers(),
          null);
      List<String> protocols =
          minVersion.equals("TLS13") ? List.of("TLSv1.3") : List.of("TLSv1.3", "TLSv1.2");
      return new TlsServerConfig(context, clientAuth, protocols);
    } catch (GeneralSecurityException | java.io.IOException e) {
      throw new IllegalArgumentException(
          "cannot use the key in "
              + keyFile
              + " with the "
              + "certificate in "
              + certFile
              + ": "
              + e.getMessage());
    }
  }

  /** A server-side engine per connection, with the protocols and client-auth mode set. */
  public HttpsConnectionContext connectionContext() {
    return ConnectionContext.httpsServer(this::engine);
  }

  SSLEngine engine() {
    SSLEngine engine = context.createSSLEngine();
    engine.setUseClientMode(false);
    engine.setEnabledProtocols(protocols.toArray(String[]::new));
    switch (clientAuth) {
      case NO_CLIENT_CERT -> engine.setNeedClientAuth(false);
      case VERIFY_CLIENT_CERT_IF_GIVEN -> engine.setWantClientAuth(true);
      case REQUIRE_AND_VERIFY_CLIENT_CERT -> engine.setNeedClientAuth(true);
    }
    return engine;
  }
}
