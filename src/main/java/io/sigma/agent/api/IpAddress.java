package io.sigma.agent.api;

/** One address of the VPS; {@code label} is "internal" for private ranges, "" for public ones. */
public record IpAddress(String ip, String label) {
  public static final String INTERNAL = "internal";
  public static final String PUBLIC = "";
}
