package io.sigma.agent.config;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Locale;
import java.util.Objects;
import java.util.Optional;

/**
 * The shared secret of {@code --allocate-token}: a request to {@code POST /ports/allocate} must
 * carry it as {@code X-Api-Key: TOKEN} or {@code Authorization: Bearer TOKEN}. Only a SHA-256
 * digest is kept, and digests are compared in constant time ({@link MessageDigest#isEqual}), so
 * neither the time of a comparison nor the token's length leaks. {@code toString} is redacted.
 */
public final class AllocationToken {
  private static final String BEARER = "bearer ";

  private final byte[] digest;

  public AllocationToken(String token) {
    Objects.requireNonNull(token, "token");
    if (token.isBlank()) {
      throw new IllegalArgumentException("allocation token must not be blank");
    }
    this.digest = sha256(token);
  }

  /** True when either header carries the token. */
  public boolean acceptsHeaders(Optional<String> apiKey, Optional<String> authorization) {
    boolean byKey = apiKey.map(this::matches).orElse(false);
    boolean byBearer =
        authorization.flatMap(AllocationToken::bearerToken).map(this::matches).orElse(false);
    return byKey | byBearer;
  }

  /** Constant-time comparison of {@code candidate} with the token. */
  public boolean matches(String candidate) {
    return MessageDigest.isEqual(digest, sha256(candidate.trim()));
  }

  private static Optional<String> bearerToken(String authorization) {
    String value = authorization.trim();
    if (value.length() <= BEARER.length()
        || !value.substring(0, BEARER.length()).toLowerCase(Locale.ROOT).equals(BEARER)) {
      return Optional.empty();
    }
    return Optional.of(value.substring(BEARER.length()));
  }

  private static byte[] sha256(String text) {
    try {
      return MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8));
    } catch (NoSuchAlgorithmException e) {
      throw new AssertionError("every JVM has SHA-256", e);
    }
  }

  /** Same token: a SIGHUP reload tells whether it changed. */
  @Override
  public boolean equals(Object other) {
    return other instanceof AllocationToken that && MessageDigest.isEqual(digest, that.digest);
  }

  @Override
  public int hashCode() {
    return java.util.Arrays.hashCode(digest);
  }

  @Override
  public String toString() {
    return "AllocationToken[<redacted>]";
  }
}
