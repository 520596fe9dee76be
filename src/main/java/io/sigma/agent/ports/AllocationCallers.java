package io.sigma.agent.ports;

import io.sigma.agent.host.Cidr;
import io.sigma.agent.host.IpLiterals;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * Who may call {@code POST /ports/allocate}, by the TCP peer's address: loopback (exactly 127.0.0.1
 * and ::1), sigma-api's own addresses ({@link ApiHostAddresses}, from {@code --api-url}), and the
 * ranges of {@code --allocate-allow-from}. Everyone else is refused.
 *
 * <p>Loopback is the two addresses, not 127.0.0.0/8: a process on the host that connects to any
 * 127.x address gets 127.0.0.1 as its source unless it binds another one on purpose, so the wider
 * range adds no legitimate caller (and keeps 127.0.0.2 free to play a stranger in tests).
 *
 * <p>An IPv4-mapped IPv6 peer ({@code ::ffff:a.b.c.d}, what a dual-stack socket sees of an IPv4
 * client) is matched as the IPv4 address it carries.
 */
public final class AllocationCallers {
  /** Why a caller is let in; the rate limit applies to {@link #ALLOWED_RANGE} only. */
  public enum Kind {
    LOOPBACK,
    SIGMA_API,
    ALLOWED_RANGE
  }

  /** The loopback callers: 127.0.0.1 and ::1. */
  public static final Set<InetAddress> LOOPBACK =
      Set.of(IpLiterals.parse("127.0.0.1").orElseThrow(), IpLiterals.parse("::1").orElseThrow());

  private static final byte[] MAPPED_PREFIX = {
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, (byte) 0xff, (byte) 0xff
  };

  private final List<Cidr> allowFrom;
  private final Optional<ApiHostAddresses> api;

  /**
   * @param allowFrom the ranges of {@code --allocate-allow-from}
   * @param api sigma-api's addresses, or empty to allow only loopback and {@code allowFrom}
   */
  public AllocationCallers(List<Cidr> allowFrom, Optional<ApiHostAddresses> api) {
    this.allowFrom = List.copyOf(allowFrom);
    this.api = Objects.requireNonNull(api, "api");
  }

  /** Whether the ranges let every address in (0.0.0.0/0 or ::/0): worth a warning. */
  public static boolean opensToEveryone(List<Cidr> ranges) {
    return ranges.stream().anyMatch(range -> range.prefixLength() == 0);
  }

  /**
   * Why {@code peer} may allocate, or empty when it may not. Completes at once unless sigma-api's
   * host name has to be looked up again (see {@link ApiHostAddresses#contains}).
   */
  public CompletionStage<Optional<Kind>> classify(InetAddress peer) {
    InetAddress address = normalise(peer);
    if (LOOPBACK.contains(address)) {
      return done(Kind.LOOPBACK);
    }
    if (allowFrom.stream().anyMatch(range -> range.contains(address))) {
      // sigma-api inside an allowed range stays unlimited; no look-up for a caller already in
      return done(
          api.isPresent() && api.get().containsCached(address)
              ? Kind.SIGMA_API
              : Kind.ALLOWED_RANGE);
    }
    if (api.isEmpty()) {
      return CompletableFuture.completedFuture(Optional.empty());
    }
    return api.get()
        .contains(address)
        .thenApply(isApi -> isApi ? Optional.of(Kind.SIGMA_API) : Optional.empty());
  }

  /** The IPv4 address an IPv4-mapped IPv6 address carries; any other address unchanged. */
  public static InetAddress normalise(InetAddress address) {
    byte[] bytes = address.getAddress();
    if (address instanceof Inet6Address
        && bytes.length == 16
        && Arrays.equals(bytes, 0, MAPPED_PREFIX.length, MAPPED_PREFIX, 0, MAPPED_PREFIX.length)) {
      return IpLiterals.byAddress(Arrays.copyOfRange(bytes, 12, 16));
    }
    return address;
  }

  private static CompletionStage<Optional<Kind>> done(Kind kind) {
    return CompletableFuture.completedFuture(Optional.of(kind));
  }
}
