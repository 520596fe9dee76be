package io.sigma.agent.bench;

import com.sun.management.UnixOperatingSystemMXBean;
import io.sigma.agent.AgentRuntime;
import io.sigma.agent.metrics.AgentMetrics;
import io.sigma.agent.metrics.MetricsRoutes;
import io.sigma.agent.metrics.MetricsServer;
import io.sigma.agent.net.HttpGuard;
import io.sigma.agent.testing.RawHttp;
import io.sigma.agent.testing.Slowloris;
import java.lang.management.ManagementFactory;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.http.javadsl.Http;
import org.apache.pekko.http.javadsl.ServerBinding;
import org.apache.pekko.http.javadsl.server.Route;
import org.apache.pekko.http.javadsl.settings.ServerSettings;

/**
 * The metrics server under slowloris: {@value #CONNECTIONS} connections that trickle header bytes
 * (one a second each, never finishing the head), from one address (127.0.0.2) or spread over 64
 * (127.0.1.1-64, 16 each), while an honest client on 127.0.0.1 scrapes /metrics over a new
 * connection each time. Reports the scrape latency against the same with no attack, heap after GC
 * and open fds (the attacker's own {@value #CONNECTIONS} client sockets included: client and server
 * share this JVM). The baseline is the server as it was before the guard (Pekko's defaults:
 * max-connections 1,024, idle timeout 60 s restarted by every byte).
 *
 * <p>Run: {@code mvn -B -Pbench verify -Dbench=slowloris} (needs ~2,500 fds: {@code ulimit -n}).
 */
public final class SlowlorisBenchmark {
  private static final int CONNECTIONS = 1024;
  private static final int SCRAPES = 20;
  private static final Duration SCRAPE_TIMEOUT = Duration.ofSeconds(15);

  private SlowlorisBenchmark() {}

  public static void main(String[] args) throws Exception {
    System.out.printf(
        "machine: %d cores, Java %s, max heap %d MB, fd limit %d%n",
        Runtime.getRuntime().availableProcessors(),
        System.getProperty("java.version"),
        Runtime.getRuntime().maxMemory() >> 20,
        os().getMaxFileDescriptorCount());
    ActorSystem<Void> system =
        ActorSystem.create(Behaviors.empty(), "slowloris-bench", AgentRuntime.pekkoConfig());
    List<String[]> rows = new ArrayList<>();
    try {
      Route metrics =
          new MetricsRoutes(new AgentMetrics("slowloris-bench", false, true).registry()).route();
      ServerBinding guarded =
          MetricsServer.bind(
                  system, "0.0.0.0", 0, List.of(metrics), HttpGuard.METRICS, Optional.empty())
              .toCompletableFuture()
              .get(30, TimeUnit.SECONDS);
      ServerBinding unguarded =
          Http.get(system)
              .newServerAt("0.0.0.0", 0)
              .withSettings(ServerSettings.create(system.classicSystem()).withEnableHttp2(false))
              .bind(metrics)
              .toCompletableFuture()
              .get(30, TimeUnit.SECONDS);

      scrapes(port(guarded), 50); // warm-up
      scrapes(port(unguarded), 50);
      rows.add(run("guarded, no attack", guarded, 0));
      rows.add(run("guarded, 1,024 from 1 address", guarded, 1));
      rows.add(run("guarded, 1,024 from 64 addresses", guarded, 64));
      rows.add(run("unguarded, no attack", unguarded, 0));
      rows.add(run("unguarded, 1,024 from 1 address", unguarded, 1));
      guarded.unbind().toCompletableFuture().get(30, TimeUnit.SECONDS);
      unguarded.unbind().toCompletableFuture().get(30, TimeUnit.SECONDS);
    } finally {
      system.terminate();
      system.getWhenTerminated().toCompletableFuture().get(30, TimeUnit.SECONDS);
    }
    System.out.println();
    System.out.printf(
        "%-36s %11s %11s %9s %15s %14s %9s%n",
        "scenario",
        "scrape p50",
        "scrape max",
        "vs calm",
        "failed (15 s)",
        "heap after GC",
        "open fds");
    for (int i = 0; i < rows.size(); i++) {
      String[] row = rows.get(i);
      String[] calm = rows.get(i < 3 ? 0 : 3);
      String ratio =
          row[1].equals("-")
              ? "-"
              : String.format(
                  "%.1fx",
                  Double.parseDouble(row[1].replace(" ms", ""))
                      / Double.parseDouble(calm[1].replace(" ms", "")));
      System.out.printf(
          "%-36s %11s %11s %9s %15s %14s %9s%n",
          row[0], row[1], row[2], ratio, row[3], row[4], row[5]);
    }
    System.out.println(
        "(a failed scrape ends its series: the rest would wait the same timeout; "
            + "open fds include the attacker's own client sockets)");
  }

  private static int port(ServerBinding binding) {
    return binding.localAddress().getPort();
  }

  /** One scenario: attack (if {@code addresses} > 0), measure, stop the attack. */
  private static String[] run(String name, ServerBinding server, int addresses) throws Exception {
    InetSocketAddress target = new InetSocketAddress("127.0.0.1", port(server));
    List<Slowloris> attacks = new ArrayList<>();
    try {
      long opening = System.nanoTime();
      for (int a = 1; a <= addresses; a++) {
        InetAddress from = InetAddress.getByName(addresses == 1 ? "127.0.0.2" : "127.0.1." + a);
        attacks.add(Slowloris.attack(from, target, CONNECTIONS / addresses, Duration.ofSeconds(1)));
      }
      if (addresses > 0) {
        System.out.printf(
            "%s: attack connected in %.1f s%n", name, (System.nanoTime() - opening) / 1e9);
      }
      long[] nanos = scrapes(port(server), SCRAPES);
      long failed = Arrays.stream(nanos).filter(n -> n < 0).count();
      long[] ok = Arrays.stream(nanos).filter(n -> n >= 0).sorted().toArray();
      System.gc();
      long heap = ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
      long fds = os().getOpenFileDescriptorCount();
      return new String[] {
        name,
        ok.length == 0 ? "-" : ms(ok[ok.length / 2]),
        ok.length == 0 ? "-" : ms(ok[ok.length - 1]),
        failed + " of " + nanos.length,
        (heap >> 20) + " MB",
        String.valueOf(fds)
      };
    } finally {
      attacks.forEach(Slowloris::close);
    }
  }

  /**
   * {@code n} scrapes of /metrics from 127.0.0.1, each on a new connection; a failed or timed-out
   * one is -1. Stops after the first failure (the rest would only wait the same timeout).
   */
  private static long[] scrapes(int port, int n) {
    long[] nanos = new long[n];
    Arrays.fill(nanos, -1);
    for (int i = 0; i < n; i++) {
      long start = System.nanoTime();
      try (RawHttp client =
          RawHttp.connect(
              InetAddress.getByName("127.0.0.1"),
              new InetSocketAddress("127.0.0.1", port),
              SCRAPE_TIMEOUT)) {
        if (client.get("/metrics") != 200) {
          return nanos;
        }
        nanos[i] = System.nanoTime() - start;
      } catch (Exception e) {
        return nanos;
      }
    }
    return nanos;
  }

  private static String ms(long nanos) {
    return String.format("%.1f ms", nanos / 1e6);
  }

  private static UnixOperatingSystemMXBean os() {
    return (UnixOperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
  }
}
