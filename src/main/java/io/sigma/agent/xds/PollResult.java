package io.sigma.agent.xds;

import java.util.Locale;

/** How one poll of sigma-api went. */
public enum PollResult {
  /** The node listing and every needed routes fetch worked. */
  SUCCESS,
  /** The node listing worked, the routes of at least one node could not be fetched. */
  PARTIAL,
  /** The node listing failed: nothing changed. */
  FAILURE;

  /** "success" / "partial" / "failure", for metric labels and JSON. */
  public String label() {
    return name().toLowerCase(Locale.ROOT);
  }
}
