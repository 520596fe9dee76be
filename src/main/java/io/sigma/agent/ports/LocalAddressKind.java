package io.sigma.agent.ports;

/**
 * What a socket's local address, as printed in {@code /proc/net/tcp} or {@code tcp6}, says about
 * whether it can collide with a bind to {@code 0.0.0.0:port}.
 */
public enum LocalAddressKind {
  /** {@code 0.0.0.0} in {@code tcp}. */
  V4_ANY,
  /** Any other IPv4 address in {@code tcp}, e.g. {@code 127.0.0.1}. */
  V4_SPECIFIC,
  /** {@code ::} in {@code tcp6}: a dual-stack or a v6-only socket, the table cannot tell. */
  V6_ANY,
  /** {@code ::ffff:a.b.c.d} in {@code tcp6}: an IPv4 socket seen through an IPv6 one. */
  V6_V4_MAPPED,
  /** Any other IPv6 address in {@code tcp6}, e.g. {@code ::1}. */
  V6_SPECIFIC;

  /** True for addresses the kernel handles as IPv4 when it checks a bind for conflicts. */
  public boolean isIpv4() {
    return this == V4_ANY || this == V4_SPECIFIC || this == V6_V4_MAPPED;
  }
}
