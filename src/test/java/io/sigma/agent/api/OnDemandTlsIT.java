package io.sigma.agent.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.sun.net.httpserver.HttpsConfigurator;
import com.sun.net.httpserver.HttpsServer;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** https:// URLs really get TLS with certificate verification, though it is set up lazily. */
class OnDemandTlsIT {
  @TempDir Path dir;

  @Test
  void anUntrustedCertificateIsRefused() throws Exception {
    Path keystore = dir.resolve("ks.p12");
    Process keytool =
        new ProcessBuilder(
                "keytool",
                "-genkeypair",
                "-alias",
                "api",
                "-keyalg",
                "EC",
                "-dname",
                "CN=127.0.0.1",
                "-validity",
                "2",
                "-storetype",
                "PKCS12",
                "-keystore",
                keystore.toString(),
                "-storepass",
                "changeit",
                "-keypass",
                "changeit")
            .redirectErrorStream(true)
            .start();
    assertTrue(
        keytool.waitFor(60, TimeUnit.SECONDS) && keytool.exitValue() == 0,
        new String(keytool.getInputStream().readAllBytes()));
    KeyStore ks = KeyStore.getInstance("PKCS12");
    try (InputStream in = Files.newInputStream(keystore)) {
      ks.load(in, "changeit".toCharArray());
    }
    KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
    kmf.init(ks, "changeit".toCharArray());
    SSLContext serverTls = SSLContext.getInstance("TLS");
    serverTls.init(kmf.getKeyManagers(), null, null);
    HttpsServer server = HttpsServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    server.setHttpsConfigurator(new HttpsConfigurator(serverTls));
    server.createContext(
        "/",
        ex -> {
          ex.sendResponseHeaders(200, -1);
          ex.close();
        });
    server.start();
    ActorTestKit kit = ActorTestKit.create();
    try {
      HttpSigmaApi api =
          new HttpSigmaApi(
              kit.system(),
              URI.create("https://127.0.0.1:" + server.getAddress().getPort() + "/api"),
              Optional.empty(),
              Duration.ofSeconds(5));
      try {
        api.heartbeat(new HeartbeatRequest("h", List.of(), null))
            .toCompletableFuture()
            .get(20, TimeUnit.SECONDS);
        fail("a self-signed certificate must not be trusted");
      } catch (ExecutionException e) {
        SigmaApiException error = SigmaApiException.of(e).orElseThrow();
        assertEquals(SigmaApiException.Kind.UNREACHABLE, error.kind(), error.getMessage());
      }
    } finally {
      kit.shutdownTestKit();
      server.stop(0);
    }
  }
}
