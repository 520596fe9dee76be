package io.sigma.agent.host;

public record Cidr(String text) {
  public static Cidr parse(String s) {
    if (!s.contains("/")) {
      throw new IllegalArgumentException("not a CIDR: " + s);
    }
    return new Cidr(s);
  }
}
