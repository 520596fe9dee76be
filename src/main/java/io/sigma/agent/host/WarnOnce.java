package io.sigma.agent.host;

import java.io.IOException;
import java.nio.charset.CharacterCodingException;
import java.nio.file.AccessDeniedException;
import java.nio.file.NoSuchFileException;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;

/**
 * Logs a warning the first time each distinct problem occurs, and at debug level after that, so a
 * file that stays broken gives one line and not one per heartbeat. One instance per reader (never
 * shared statically: two agents in one JVM keep their own memory). Thread-safe.
 *
 * <p>Problem keys must come from a small fixed set (a file plus a kind of failure), never from
 * varying data, so the set of remembered keys stays small.
 */
final class WarnOnce {
  private final Logger log;
  private final Set<String> warned = ConcurrentHashMap.newKeySet();

  WarnOnce(Logger log) {
    this.log = log;
  }

  /**
   * Logs {@code message} as a warning if {@code key} was not warned about yet; true if it was
   * logged.
   */
  boolean warn(String key, String message) {
    if (warned.add(key)) {
      log.warn(message);
      return true;
    }
    log.debug(message);
    return false;
  }

  /** A key for a failure to read {@code file}: the file and the kind of failure. */
  static String key(Object file, Exception failure) {
    String kind =
        failure instanceof ProcFormatException format
            ? format.problem()
            : failure instanceof HostFileRefusedException refused
                ? refused.problem()
                : failure.getClass().getName();
    return file + "|" + kind;
  }

  /** A short human description of an I/O failure (the JDK's messages for these are bare paths). */
  static String describe(Exception failure) {
    if (failure instanceof NoSuchFileException) {
      return "file is missing";
    }
    if (failure instanceof AccessDeniedException) {
      return "permission denied";
    }
    if (failure instanceof ProcFormatException) {
      return failure.getMessage();
    }
    if (failure instanceof HostFileRefusedException refused) {
      return "it " + refused.problem(); // the caller names the file
    }
    if (failure instanceof CharacterCodingException) {
      return "not text (" + failure + ")";
    }
    if (failure instanceof IOException && failure.getMessage() != null) {
      return failure.getMessage();
    }
    return failure.toString();
  }
}
