package io.sigma.agent.ports;

import io.sigma.agent.host.IpLiterals;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The addresses of sigma-api's host (from {@code --api-url}), which may call {@code POST
 * /ports/allocate}. An IP literal is taken as is; a name is resolved on the given blocking executor
 * (never on an HTTP thread), cached, and resolved again:
 *
 * <ul>
 *   <li>in the background when the cache is older than {@code maxAge} (the caller is answered from
 *       the cache meanwhile, so sigma-api never waits for DNS), and
 *   <li>when an address that is not in the cache asks, if the last look-up is at least {@code
 *       recheckAfter} old (the caller waits for that look-up: sigma-api's address may have just
 *       changed). Strangers therefore cause at most one look-up per {@code recheckAfter}, and at
 *       most one is ever in flight.
 * </ul>
 *
 * A failed look-up keeps the last known addresses (a DNS outage must not cut sigma-api off).
 * Thread-safe.
 */
public final class ApiHostAddresses {
  /** Re-resolves a name in the background after this long (sigma-api's DNS may change). */
  public static final Duration MAX_AGE = Duration.ofMinutes(5);

  /** An unknown caller triggers a new look-up at most this often. */
  public static final Duration RECHECK_AFTER = Duration.ofSeconds(30);

  /** Resolves a host name to its addresses (blocking); {@code InetAddress::getAllByName}. */
  @FunctionalInterface
  public interface Resolver {
    List<InetAddress> resolve(String host) throws UnknownHostException;
  }

  private record Snapshot(Set<InetAddress> addresses, long lookedUpAtNanos) {}

  private static final Logger LOG = LoggerFactory.getLogger(ApiHostAddresses.class);

  private final String host;
  private final boolean literal;
  private final Resolver resolver;
  private final Executor blocking;
  private final LongSupplier nanoTime;
  private final long maxAgeNanos;
  private final long recheckAfterNanos;
  private final Object lock = new Object();
  private volatile Snapshot snapshot;
  private CompletableFuture<Snapshot> inFlight; // guarded by lock

  /**
   * @param host the host of {@code --api-url} (a name, or an IP literal, with or without the
   *     brackets of an IPv6 URL host)
   */
  public ApiHostAddresses(
      String host,
      Resolver resolver,
      Executor blocking,
      LongSupplier nanoTime,
      Duration maxAge,
      Duration recheckAfter) {
    this.host = unbracketed(Objects.requireNonNull(host, "host"));
    this.resolver = Objects.requireNonNull(resolver, "resolver");
    this.blocking = Objects.requireNonNull(blocking, "blocking");
    this.nanoTime = Objects.requireNonNull(nanoTime, "nanoTime");
    this.maxAgeNanos = maxAge.toNanos();
    this.recheckAfterNanos = recheckAfter.toNanos();
    Optional<InetAddress> address = IpLiterals.parse(this.host);
    this.literal = address.isPresent(); // never looked up: it cannot change
    this.snapshot =
        new Snapshot(
            address.map(AllocationCallers::normalise).map(Set::of).orElse(Set.of()),
            Long.MIN_VALUE);
  }

  /** The agent's: the system resolver, {@link #MAX_AGE}, {@link #RECHECK_AFTER}. */
  public static ApiHostAddresses of(String host, Executor blocking) {
    return new ApiHostAddresses(
        host,
        name -> List.of(InetAddress.getAllByName(name)),
        blocking,
        System::nanoTime,
        MAX_AGE,
        RECHECK_AFTER);
  }

  /**
   * Whether {@code address} (normalised, see {@link AllocationCallers#normalise}) is sigma-api's.
   */
  public CompletionStage<Boolean> contains(InetAddress address) {
    Snapshot current = snapshot;
    boolean known = current.addresses().contains(address);
    if (literal) {
      return CompletableFuture.completedFuture(known);
    }
    long age = age(current);
    if (known) {
      if (age >= maxAgeNanos) {
        lookUp(); // in the background: answer from the cache meanwhile
      }
      return CompletableFuture.completedFuture(true);
    }
    if (age < recheckAfterNanos) {
      return CompletableFuture.completedFuture(false);
    }
    return lookUp().thenApply(fresh -> fresh.addresses().contains(address));
  }

  /** Whether {@code address} is among the addresses known now; never looks anything up. */
  public boolean containsCached(InetAddress address) {
    return snapshot.addresses().contains(address);
  }

  private long age(Snapshot s) {
    return s.lookedUpAtNanos() == Long.MIN_VALUE
        ? Long.MAX_VALUE
        : nanoTime.getAsLong() - s.lookedUpAtNanos();
  }

  /** Starts a look-up unless one is in flight; completes with the snapshot after it. */
  private CompletableFuture<Snapshot> lookUp() {
    synchronized (lock) {
      if (inFlight != null) {
        return inFlight;
      }
      CompletableFuture<Snapshot> started = new CompletableFuture<>();
      inFlight = started;
      try {
        blocking.execute(() -> finish(started, resolve()));
      } catch (RuntimeException rejected) { // executor shut down: keep what we know
        inFlight = null;
        started.complete(snapshot);
      }
      return started;
    }
  }

  private Snapshot resolve() {
    Snapshot previous = snapshot;
    long now = nanoTime.getAsLong();
    try {
      List<InetAddress> resolved = resolver.resolve(host);
      Set<InetAddress> addresses =
          Set.copyOf(resolved.stream().map(AllocationCallers::normalise).toList());
      if (!addresses.equals(previous.addresses())) {
        LOG.info(
            "sigma-api's host {} resolves to {}: POST /ports/allocate accepts these addresses",
            host,
            addresses.stream().map(IpLiterals::format).sorted().toList());
      }
      return new Snapshot(addresses, now);
    } catch (UnknownHostException | RuntimeException e) {
      LOG.warn(
          "Could not resolve sigma-api's host {} ({}): POST /ports/allocate keeps accepting its "
              + "last known addresses {} and looks it up again when an unknown address calls (at most "
              + "every {} s)",
          host,
          e.getMessage(),
          previous.addresses().stream().map(IpLiterals::format).sorted().toList(),
          Duration.ofNanos(recheckAfterNanos).toSeconds());
      return new Snapshot(previous.addresses(), now);
    }
  }

  private void finish(CompletableFuture<Snapshot> started, Snapshot fresh) {
    synchronized (lock) {
      snapshot = fresh;
      inFlight = null;
    }
    started.complete(fresh);
  }

  private static String unbracketed(String host) {
    return host.startsWith("[") && host.endsWith("]") ? host.substring(1, host.length() - 1) : host;
  }
}
