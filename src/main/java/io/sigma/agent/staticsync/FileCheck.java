package io.sigma.agent.staticsync;

import io.sigma.agent.host.HostFileReader;
import io.sigma.agent.host.HostFileRefusedException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * What one check found in one file: unchanged since the hash the caller knew, parsed, or a problem
 * (cannot be read, not UTF-8, not a usable Envoy config). Reading and parsing block: callers run
 * {@link #of} on the blocking dispatcher.
 */
sealed interface FileCheck {
  /** Files are Envoy bootstraps of a few KB; 1 MiB is far past any real one. */
  int MAX_FILE_BYTES = HostFileReader.DEFAULT_CAP;

  /** Same bytes as the last check: nothing to do. */
  record Unchanged(String hash) implements FileCheck {}

  record Parsed(String hash, StaticConfig config) implements FileCheck {}

  /**
   * @param hash the content's hash when it was read (a parse error: the same bytes are not parsed
   *     again), null when it could not be read (tried again at the next check)
   */
  record Problem(String hash, String problem) implements FileCheck {}

  static FileCheck of(Path file, String knownHash, EnvoyStaticConfigParser parser) {
    byte[] bytes;
    try {
      bytes = HostFileReader.readBytes(file, MAX_FILE_BYTES);
    } catch (NoSuchFileException e) {
      return new Problem(null, "does not exist");
    } catch (AccessDeniedException e) {
      return new Problem(null, "cannot be read: permission denied");
    } catch (HostFileRefusedException e) {
      return new Problem(null, e.problem());
    } catch (IOException | RuntimeException e) {
      return new Problem(
          null,
          "cannot be read: "
              + (e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage()));
    }
    String hash = sha256(bytes);
    if (hash.equals(knownHash)) {
      return new Unchanged(hash);
    }
    String text;
    try {
      text =
          StandardCharsets.UTF_8
              .newDecoder()
              .onMalformedInput(CodingErrorAction.REPORT)
              .onUnmappableCharacter(CodingErrorAction.REPORT)
              .decode(ByteBuffer.wrap(bytes))
              .toString();
    } catch (CharacterCodingException e) {
      return new Problem(hash, "is not UTF-8 text");
    }
    try {
      return new Parsed(hash, parser.parse(text));
    } catch (StaticConfigException e) {
      return new Problem(hash, e.getMessage());
    }
  }

  static String sha256(byte[] bytes) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every JVM has SHA-256", e);
    }
  }
}
