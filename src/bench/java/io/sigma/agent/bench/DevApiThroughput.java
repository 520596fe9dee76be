package io.sigma.agent.bench;

import io.sigma.agent.devapi.EndpointKind;
import io.sigma.agent.devapi.FaultInjectingDevApi;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Behaviors;

/**
 * How much load the dev sigma-api takes on this machine, so that the fleet simulation knows it
 * measures the agents and not the dev API. Two phases:
 *
 * <ol>
 *   <li>burst: {@code FLEET} registrations sent at the same instant, each on its own connection
 *       (the thundering herd after an outage);
 *   <li>steady: {@code CONCURRENCY} heartbeats in flight for {@code STEADY_SECONDS}.
 * </ol>
 *
 * Baseline: a fleet of 1,000 agents heartbeating every 10 s needs 100 requests/s.
 */
public final class DevApiThroughput {
  private static final int FLEET = 1_000;
  private static final int CONCURRENCY = 64;
  private static final int STEADY_SECONDS = 10;

  private DevApiThroughput() {}

  public static void main(String[] args) throws Exception {
    ActorSystem<Void> system = ActorSystem.create(Behaviors.empty(), "dev-api-throughput");
    FaultInjectingDevApi api = new FaultInjectingDevApi(0);
    try {
      String base = api.start(system).toCompletableFuture().get(10, TimeUnit.SECONDS);
      HttpClient http =
          HttpClient.newBuilder()
              .version(HttpClient.Version.HTTP_1_1)
              .connectTimeout(Duration.ofSeconds(10))
              .build();

      burst(http, base, "burst (cold JVM, new VPSs)");
      AtomicLong done = new AtomicLong();
      AtomicLong failed = new AtomicLong();
      ConcurrentLinkedQueue<Long> latenciesMicros = new ConcurrentLinkedQueue<>();
      long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(STEADY_SECONDS);
      List<CompletableFuture<Void>> loops = new ArrayList<>();
      for (int c = 0; c < CONCURRENCY; c++) {
        loops.add(heartbeatLoop(http, base, c, end, done, failed, latenciesMicros));
      }
      long s0 = System.nanoTime();
      CompletableFuture.allOf(loops.toArray(CompletableFuture[]::new))
          .get(STEADY_SECONDS + 60, TimeUnit.SECONDS);
      double steadySeconds = (System.nanoTime() - s0) / 1e9;
      long[] lat = latenciesMicros.stream().mapToLong(Long::longValue).sorted().toArray();
      System.out.printf(
          "steady: %d heartbeats (%d failed) in %.1f s with %d in flight: %.0f req/s,"
              + " latency p50 %.2f ms, p99 %.2f ms, max %.2f ms%n",
          done.get(),
          failed.get(),
          steadySeconds,
          CONCURRENCY,
          done.get() / steadySeconds,
          pct(lat, 0.50) / 1000.0,
          pct(lat, 0.99) / 1000.0,
          lat.length == 0 ? 0 : lat[lat.length - 1] / 1000.0);
      burst(
          HttpClient.newBuilder()
              .version(HttpClient.Version.HTTP_1_1)
              .connectTimeout(Duration.ofSeconds(10))
              .build(),
          base,
          "burst (warm, re-registrations)");
      System.out.printf(
          "baseline: 1,000 agents at a 10 s heartbeat interval = 100 req/s;"
              + " server counted %d register + %d heartbeat requests%n",
          api.stats().total(EndpointKind.REGISTER), api.stats().total(EndpointKind.HEARTBEAT));
    } finally {
      api.stop().toCompletableFuture().get(10, TimeUnit.SECONDS);
      system.terminate();
      system.getWhenTerminated().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }
  }

  /** FLEET registrations at once, each on a new connection of {@code http}. */
  private static void burst(HttpClient http, String base, String label) throws Exception {
    long t0 = System.nanoTime();
    List<CompletableFuture<HttpResponse<Void>>> burst = new ArrayList<>();
    for (int i = 0; i < FLEET; i++) {
      burst.add(
          http.sendAsync(
              post(base + "/agent/register", registerBody("bench-" + i)),
              HttpResponse.BodyHandlers.discarding()));
    }
    long ok = 0;
    for (CompletableFuture<HttpResponse<Void>> f : burst) {
      try {
        ok += f.get(60, TimeUnit.SECONDS).statusCode() == 200 ? 1 : 0;
      } catch (Exception e) {
        // not 200: counted by the difference below
      }
    }
    double seconds = (System.nanoTime() - t0) / 1e9;
    System.out.printf(
        "%s: %d/%d registrations answered 200 in %.2f s (%.0f req/s)%n",
        label, ok, FLEET, seconds, FLEET / seconds);
  }

  private static CompletableFuture<Void> heartbeatLoop(
      HttpClient http,
      String base,
      int worker,
      long endNanos,
      AtomicLong done,
      AtomicLong failed,
      ConcurrentLinkedQueue<Long> latencies) {
    if (System.nanoTime() >= endNanos) {
      return CompletableFuture.completedFuture(null);
    }
    long start = System.nanoTime();
    String host = "bench-" + ((worker * 7919 + done.get()) % FLEET);
    return http.sendAsync(
            post(base + "/agent/heartbeat", heartbeatBody(host)),
            HttpResponse.BodyHandlers.discarding())
        .handle(
            (r, e) -> {
              if (e == null && r.statusCode() == 200) {
                done.incrementAndGet();
                latencies.add((System.nanoTime() - start) / 1000);
              } else {
                failed.incrementAndGet();
              }
              return null;
            })
        .thenCompose(x -> heartbeatLoop(http, base, worker, endNanos, done, failed, latencies));
  }

  private static double pct(long[] sorted, double p) {
    return sorted.length == 0 ? 0 : sorted[(int) Math.min(sorted.length - 1, p * sorted.length)];
  }

  private static HttpRequest post(String url, String body) {
    return HttpRequest.newBuilder(URI.create(url))
        .timeout(Duration.ofSeconds(30))
        .header("Content-Type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofString(body))
        .build();
  }

  private static String registerBody(String host) {
    return "{\"hostname\":\""
        + host
        + "\",\"ip_addresses\":[{\"ip\":\"10.0.0.5\",\"label\":"
        + "\"internal\"}],\"ssh_port\":22,\"system_info\":{\"cpu_cores\":1,\"ram_mb\":512,"
        + "\"disk_gb\":10,\"disk_used_gb\":2,\"uptime_seconds\":100,\"load_avg\":[0,0,0]}}";
  }

  private static String heartbeatBody(String host) {
    return "{\"hostname\":\""
        + host
        + "\",\"ip_addresses\":[],\"system_info\":{\"cpu_cores\":1,"
        + "\"ram_mb\":512,\"disk_gb\":10,\"disk_used_gb\":2,\"uptime_seconds\":110,"
        + "\"load_avg\":[0,0,0]}}";
  }
}
