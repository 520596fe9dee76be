package io.sigma.agent.web;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import javax.net.ssl.SSLEngine;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class WebConfigTest {
  @TempDir Path dir;

  private WebConfig read(String yaml) {
    return WebConfig.read(WebFixtures.webConfig(dir, yaml));
  }

  private String problem(String yaml) {
    return assertThrows(IllegalArgumentException.class, () -> read(yaml)).getMessage();
  }

  @Test
  void readsTlsWithRelativeFilesAndBasicAuthUsers() {
    WebConfig config =
        read(
            """
        tls_server_config:
          cert_file: server.crt
          key_file: server.key
          min_version: TLS13
        basic_auth_users:
          prometheus: %s
        """
                .formatted(WebFixtures.PHP_HASH));
    assertEquals(Map.of("prometheus", WebFixtures.PHP_HASH), config.basicAuthUsers());
    SSLEngine engine = config.tls().orElseThrow().engine();
    assertEquals(List.of("TLSv1.3"), List.of(engine.getEnabledProtocols()));
    assertTrue(!engine.getNeedClientAuth() && !engine.getUseClientMode());
    assertEquals("tls+basic-auth(1 user(s))", config.summary());
  }

  @Test
  void readsAnEcKeyAndRequiresClientCertificatesWhenAsked() {
    WebConfig config =
        read(
            """
        tls_server_config:
          cert_file: server-ec.crt
          key_file: server-ec.key
          client_auth_type: RequireAndVerifyClientCert
          client_ca_file: ca.crt
        """);
    SSLEngine engine = config.tls().orElseThrow().engine();
    assertTrue(engine.getNeedClientAuth());
    assertEquals(List.of("TLSv1.3", "TLSv1.2"), List.of(engine.getEnabledProtocols()));
  }

  @Test
  void anEmptyFileTurnsNothingOn() {
    WebConfig config = read("");
    assertTrue(config.tls().isEmpty() && config.basicAuthUsers().isEmpty());
  }

  @Test
  void unknownKeysAreErrorsNamingTheKey() {
    assertTrue(
        problem("tls_server_confg:\n  cert_file: server.crt\n")
            .startsWith("unknown or unsupported key tls_server_confg"),
        problem("tls_server_confg: {}\n"));
    assertTrue(
        problem(
                """
        tls_server_config:
          cert_file: server.crt
          key_file: server.key
          cipher_suites: [TLS_AES_128_GCM_SHA256]
        """)
            .startsWith("unknown or unsupported key tls_server_config.cipher_suites"));
  }

  @Test
  void missingOrMismatchedKeyMaterialIsAnError() {
    assertEquals(
        dir.resolve("nope.crt") + ": no such file",
        problem(
            """
        tls_server_config:
          cert_file: nope.crt
          key_file: server.key
        """));
    assertEquals(
        "tls_server_config.key_file is required",
        problem("tls_server_config:\n  cert_file: server.crt\n"));
    assertEquals(
        dir.resolve("server-ec.key")
            + " is not the private key of the certificate in "
            + dir.resolve("server.crt"),
        problem(
            """
        tls_server_config:
          cert_file: server.crt
          key_file: server-ec.key
        """));
    assertTrue(
        problem(
                """
        tls_server_config:
          cert_file: server-ec.crt
          key_file: server-ec-sec1.key
        """)
            .contains("convert it to PKCS#8 with 'openssl pkcs8 -topk8 -nocrypt"));
    assertTrue(
        problem(
                """
        tls_server_config:
          cert_file: server.crt
          key_file: server.key
          client_auth_type: RequireAndVerifyClientCert
        """)
            .startsWith("tls_server_config.client_ca_file is required"));
    assertTrue(
        problem(
                """
        tls_server_config:
          cert_file: server.crt
          key_file: server.key
          min_version: TLS10
        """)
            .startsWith("tls_server_config.min_version must be TLS12 or TLS13"));
  }

  @Test
  void aPasswordInsteadOfABcryptHashIsAnError() {
    assertTrue(
        problem("basic_auth_users:\n  prometheus: hunter2\n")
            .startsWith("basic_auth_users.prometheus is not a bcrypt hash"));
    // truncated hash
    assertTrue(
        problem("basic_auth_users:\n  prometheus: " + WebFixtures.PHP_HASH.substring(0, 50) + "\n")
            .startsWith("basic_auth_users.prometheus is not a bcrypt hash"));
  }

  @Test
  void brokenYamlIsAnErrorWithItsLine() {
    assertTrue(problem("tls_server_config:\n  cert_file: [\n").startsWith("not valid YAML"));
    assertTrue(problem("- a\n- b\n").startsWith("the file must be a YAML mapping"));
  }
}
