package io.sigma.agent.ports;

public record PortRange(int first, int last) {
  public PortRange {
    if (first < 1 || last > 65535 || first > last) {
      throw new IllegalArgumentException("must be FIRST-LAST within 1-65535 with FIRST <= LAST");
    }
  }

  public static PortRange parse(String s) {
    String[] p = s.trim().split("-");
    if (p.length != 2) {
      throw new IllegalArgumentException("must look like 10000-30000");
    }
    try {
      return new PortRange(Integer.parseInt(p[0].trim()), Integer.parseInt(p[1].trim()));
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("must look like 10000-30000");
    }
  }

  public int size() {
    return last - first + 1;
  }
}
