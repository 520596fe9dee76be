package io.sigma.agent.web;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * The metrics server's web config file ({@code --web-config-file}), in the YAML format of the
 * Prometheus exporter-toolkit (node_exporter's {@code --web.config.file}):
 *
 * <pre>
 * tls_server_config:
 *   cert_file: server.crt        # PEM chain, server certificate first
 *   key_file: server.key         # PEM PKCS#8, unencrypted (RSA, EC or Ed25519)
 *   client_auth_type: NoClientCert   # or VerifyClientCertIfGiven, RequireAndVerifyClientCert
 *   client_ca_file: clients-ca.crt   # required with the Verify/Require types
 *   min_version: TLS12           # or TLS13
 * basic_auth_users:
 *   prometheus: $2y$10$...       # bcrypt hash
 * </pre>
 *
 * Relative file names are relative to the config file's directory, as in exporter-toolkit. An
 * unknown or unsupported key is an error, not ignored: a typo must not silently turn TLS or auth
 * off. Every problem is an {@link IllegalArgumentException} with one line naming the key.
 *
 * <p>Two configs are equal when they come from the same file with the same text (a reload on SIGHUP
 * compares them; the loaded TLS context has no useful equality). Changed key or certificate files
 * under the same text are not seen as a change: they need a restart anyway.
 *
 * @param text the file's YAML text
 */
public record WebConfig(
    Path file, String text, Optional<TlsServerConfig> tls, Map<String, String> basicAuthUsers) {
  private static final Set<String> TOP_KEYS = Set.of("tls_server_config", "basic_auth_users");
  private static final Set<String> TLS_KEYS =
      Set.of("cert_file", "key_file", "client_auth_type", "client_ca_file", "min_version");

  public WebConfig {
    basicAuthUsers = Map.copyOf(basicAuthUsers);
  }

  /** Reads and checks {@code file}, loading the TLS key and certificates it names. */
  public static WebConfig read(Path file) {
    JsonNode root;
    String text;
    try {
      text = Files.readString(file);
      root = new YAMLMapper().readTree(text);
    } catch (NoSuchFileException e) {
      throw new IllegalArgumentException("no such file");
    } catch (JsonProcessingException e) {
      throw new IllegalArgumentException(
          "not valid YAML: " + e.getOriginalMessage().lines().findFirst().orElse("") + location(e));
    } catch (IOException e) {
      throw new IllegalArgumentException("cannot read it: " + e.getMessage());
    }
    if (root == null || root.isMissingNode() || root.isNull()) {
      return new WebConfig(file, text, Optional.empty(), Map.of());
    }
    requireMapping(root, "the file");
    checkKeys(root, TOP_KEYS, "");
    Path dir = file.toAbsolutePath().getParent();
    Optional<TlsServerConfig> tls =
        Optional.ofNullable(root.get("tls_server_config"))
            .filter(node -> !node.isNull())
            .map(node -> tls(node, dir));
    Map<String, String> users = new LinkedHashMap<>();
    JsonNode usersNode = root.get("basic_auth_users");
    if (usersNode != null && !usersNode.isNull()) {
      requireMapping(usersNode, "basic_auth_users");
      for (Iterator<Map.Entry<String, JsonNode>> it = usersNode.fields(); it.hasNext(); ) {
        Map.Entry<String, JsonNode> user = it.next();
        String hash = user.getValue().isTextual() ? user.getValue().asText() : "";
        if (!BasicAuth.isBcryptHash(hash)) {
          throw new IllegalArgumentException(
              "basic_auth_users."
                  + user.getKey()
                  + " is not a "
                  + "bcrypt hash ($2y$10$ and 53 characters; make one with "
                  + "htpasswd -nBC 10 \"\" | tr -d ':\\n')");
        }
        users.put(user.getKey(), hash);
      }
    }
    return new WebConfig(file, text, tls, users);
  }

  public Optional<BasicAuth> basicAuth(java.time.Clock clock) {
    return basicAuthUsers.isEmpty()
        ? Optional.empty()
        : Optional.of(new BasicAuth(basicAuthUsers, clock));
  }

  /** For the start-up line: what the file turns on. */
  public String summary() {
    return (tls.isPresent()
            ? "tls"
                + (tls.get().clientAuth() == TlsServerConfig.ClientAuth.NO_CLIENT_CERT
                    ? ""
                    : "+client-cert")
            : "plain-http")
        + (basicAuthUsers.isEmpty() ? "" : "+basic-auth(" + basicAuthUsers.size() + " user(s))");
  }

  @Override
  public boolean equals(Object other) {
    return other instanceof WebConfig that && file.equals(that.file) && text.equals(that.text);
  }

  @Override
  public int hashCode() {
    return file.hashCode() * 31 + text.hashCode();
  }

  /** The file and what it turns on; never the hashes. */
  @Override
  public String toString() {
    return file + " (" + summary() + ")";
  }

  private static TlsServerConfig tls(JsonNode node, Path dir) {
    requireMapping(node, "tls_server_config");
    checkKeys(node, TLS_KEYS, "tls_server_config.");
    Path cert = dir.resolve(required(node, "cert_file"));
    Path key = dir.resolve(required(node, "key_file"));
    TlsServerConfig.ClientAuth clientAuth =
        switch (optional(node, "client_auth_type").orElse("NoClientCert")) {
          case "NoClientCert" -> TlsServerConfig.ClientAuth.NO_CLIENT_CERT;
          case "VerifyClientCertIfGiven" -> TlsServerConfig.ClientAuth.VERIFY_CLIENT_CERT_IF_GIVEN;
          case "RequireAndVerifyClientCert" ->
              TlsServerConfig.ClientAuth.REQUIRE_AND_VERIFY_CLIENT_CERT;
          default ->
              throw new IllegalArgumentException(
                  "tls_server_config.client_auth_type must be "
                      + "NoClientCert, VerifyClientCertIfGiven or RequireAndVerifyClientCert");
        };
    Optional<String> caFile = optional(node, "client_ca_file");
    if (clientAuth != TlsServerConfig.ClientAuth.NO_CLIENT_CERT && caFile.isEmpty()) {
      throw new IllegalArgumentException(
          "tls_server_config.client_ca_file is required with "
              + "client_auth_type "
              + node.get("client_auth_type").asText());
    }
    List<X509Certificate> cas =
        caFile.map(f -> PemFiles.certificates(dir.resolve(f))).orElse(List.of());
    String minVersion = optional(node, "min_version").orElse("TLS12");
    if (!minVersion.equals("TLS12") && !minVersion.equals("TLS13")) {
      throw new IllegalArgumentException(
          "tls_server_config.min_version must be TLS12 or TLS13 "
              + "(older versions are not offered)");
    }
    return TlsServerConfig.load(cert, key, clientAuth, cas, minVersion);
  }

  private static void checkKeys(JsonNode node, Set<String> allowed, String prefix) {
    for (Iterator<String> it = node.fieldNames(); it.hasNext(); ) {
      String key = it.next();
      if (!allowed.contains(key)) {
        throw new IllegalArgumentException(
            "unknown or unsupported key "
                + prefix
                + key
                + " (known: "
                + String.join(", ", allowed.stream().sorted().toList())
                + ")");
      }
    }
  }

  private static void requireMapping(JsonNode node, String what) {
    if (!node.isObject()) {
      throw new IllegalArgumentException(what + " must be a YAML mapping (key: value)");
    }
  }

  private static String required(JsonNode node, String key) {
    return optional(node, key)
        .orElseThrow(
            () -> new IllegalArgumentException("tls_server_config." + key + " is required"));
  }

  private static Optional<String> optional(JsonNode node, String key) {
    JsonNode value = node.get(key);
    if (value == null || value.isNull()) {
      return Optional.empty();
    }
    if (!value.isTextual() || value.asText().isBlank()) {
      throw new IllegalArgumentException("tls_server_config." + key + " must be a non-empty text");
    }
    return Optional.of(value.asText());
  }

  private static String location(JsonProcessingException e) {
    return e.getLocation() == null ? "" : " (line " + e.getLocation().getLineNr() + ")";
  }
}
