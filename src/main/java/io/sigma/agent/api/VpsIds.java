package io.sigma.agent.api;

import java.util.regex.Pattern;

/** What a VPS id from sigma-api may look like before the agent uses it. */
public final class VpsIds {
  private static final Pattern CANONICAL_UUID =
      Pattern.compile(
          "[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}");

  private VpsIds() {}

  /** A UUID in its canonical 36-character form (8-4-4-4-12 hex digits), nothing else. */
  public static boolean isCanonicalUuid(String id) {
    return id != null && id.length() == 36 && CANONICAL_UUID.matcher(id).matches();
  }
}
