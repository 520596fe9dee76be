package io.sigma.agent.bench;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.sigma.agent.AgentRuntime;
import io.sigma.agent.api.EnvoyRoute;
import io.sigma.agent.api.HttpSigmaApi;
import io.sigma.agent.api.SigmaApiException;
import java.io.IOException;
import java.io.OutputStream;
import java.lang.management.ManagementFactory;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Behaviors;

/**
 * The real {@link HttpSigmaApi} reading one node's routes from a lying sigma-api on loopback: how
 * the listing ends (rows, or the error), how many pages and bytes the server handed out, and the
 * used heap after GC while the listing is being read (sampled by the server at pages 1, 2, 3, 5,
 * 10, 20, 50, 100, 200, 500, 1000, and at 1, 2, 4, 8... MB into an endless body: the client holds
 * every row read so far then) and after it ended, against an honest listing of 2,000 routes.
 *
 * <p>Lies: 100 new rows a page under a total that grows with every page, for ever; a fixed total of
 * 65,535 with ~1 MB pages (10 KB names); per_page ignored (1,000 rows a page, growing total); one
 * endless body.
 *
 * <p>Run: {@code mvn -B -Pbench verify -Dbench=hostile-api} (add {@code -Dbench.jvm="-Xmx256m"} to
 * see which lie the heap survives)
 */
public final class HostileApiBenchmark {
  private static final String NODE = "6f1c0d6e-2f3a-4b5c-8d9e-0f1a2b3c4d5e";
  private static final Set<Integer> SAMPLED_PAGES =
      Set.of(1, 2, 3, 5, 10, 20, 50, 100, 200, 500, 1000);
  private static final long STOP_AFTER_BYTES = 4L << 30;

  /** One way the server answers page {@code page}; null means an endless body. */
  private interface Lie {
    String page(int page);
  }

  private record Result(
      String name, String outcome, int pages, long bytes, long peakDuring, long after) {}

  private final AtomicInteger pages = new AtomicInteger();
  private final AtomicLong bytes = new AtomicLong();
  private final AtomicLong peakDuring = new AtomicLong();
  private volatile Lie lie;

  private HostileApiBenchmark() {}

  public static void main(String[] args) throws Exception {
    new HostileApiBenchmark().run();
  }

  private void run() throws Exception {
    HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    server.setExecutor(Executors.newCachedThreadPool());
    server.createContext("/api/envoy-routes", this::answer);
    server.start();
    ActorSystem<Void> system =
        ActorSystem.create(Behaviors.empty(), "hostile-api", AgentRuntime.pekkoConfig());
    try {
      HttpSigmaApi api =
          new HttpSigmaApi(
              system,
              URI.create("http://127.0.0.1:" + server.getAddress().getPort() + "/api"),
              Optional.empty(),
              Duration.ofSeconds(10));
      long idle = usedHeapAfterGc();
      System.out.printf(
          Locale.ROOT,
          "machine: %d cores, Java %s, max heap %d MiB; idle heap after GC %.1f MiB%n",
          Runtime.getRuntime().availableProcessors(),
          System.getProperty("java.version"),
          Runtime.getRuntime().maxMemory() >> 20,
          idle / 1048576.0);
      Result honest =
          scenario(
              api, "honest: 2,000 routes in 20 pages", p -> page(p, p <= 20 ? 100 : 0, 2_000, 0));
      List<Result> results =
          List.of(
              honest,
              scenario(
                  api,
                  "100 new rows a page, total grows every page",
                  p -> page(p, 100, 100L * p + 100, 0)),
              scenario(
                  api,
                  "fixed total 65,535, ~1 MB pages (10 KB names)",
                  p -> page(p, 100, 65_535, 10_000)),
              scenario(
                  api,
                  "per_page ignored: 1,000 rows a page, total grows",
                  p -> page(p, 1_000, 1_000L * p + 1_000, 0)),
              scenario(api, "one endless body", p -> null));
      System.out.println();
      System.out.printf(
          Locale.ROOT,
          "%-50s %7s %10s %12s %12s %7s  %s%n",
          "listing",
          "pages",
          "served MB",
          "heap during",
          "heap after",
          "ratio",
          "how it ended");
      for (Result r : results) {
        System.out.printf(
            Locale.ROOT,
            "%-50s %7d %10.1f %9.1f MiB %8.1f MiB %6.1fx  %s%n",
            r.name(),
            r.pages(),
            r.bytes() / 1e6,
            r.peakDuring() / 1048576.0,
            r.after() / 1048576.0,
            (double) r.peakDuring() / honest.peakDuring(),
            r.outcome());
      }
      System.out.println(
          "(heap during: highest used heap after GC sampled while the listing was read; ratio: "
              + "against the honest listing)");
    } finally {
      system.terminate();
      system.getWhenTerminated().toCompletableFuture().get(30, TimeUnit.SECONDS);
      server.stop(0);
    }
  }

  private Result scenario(HttpSigmaApi api, String name, Lie how) throws Exception {
    pages.set(0);
    bytes.set(0);
    peakDuring.set(0);
    lie = how;
    String outcome;
    try {
      List<EnvoyRoute> routes =
          api.allEnvoyRoutes(NODE).toCompletableFuture().get(10, TimeUnit.MINUTES);
      outcome = routes.size() + " routes taken";
    } catch (ExecutionException e) {
      outcome =
          SigmaApiException.of(e)
              .map(s -> s.kind() + ": " + s.getMessage())
              .orElseGet(() -> String.valueOf(e.getCause()));
      outcome =
          outcome
              .replaceAll("GET /envoy-routes\\?[^ ]* ", "")
              .replace("bad response: ", "")
              .replace("routes of Envoy node " + NODE + ": ", "");
    } catch (OutOfMemoryError e) {
      outcome = "OutOfMemoryError";
    }
    long after = usedHeapAfterGc();
    System.out.printf(
        Locale.ROOT,
        "%s: %d pages, %.1f MB served, heap during %.1f MiB, after %.1f MiB: %s%n",
        name,
        pages.get(),
        bytes.get() / 1e6,
        peakDuring.get() / 1048576.0,
        after / 1048576.0,
        outcome);
    return new Result(
        name,
        outcome.length() > 160 ? outcome.substring(0, 160) + "…" : outcome,
        pages.get(),
        bytes.get(),
        peakDuring.get(),
        after);
  }

  private void answer(HttpExchange ex) throws IOException {
    int page =
        Integer.parseInt(ex.getRequestURI().getQuery().replaceAll("(?:^|.*&)page=(\\d+).*", "$1"));
    pages.incrementAndGet();
    if (SAMPLED_PAGES.contains(page)) {
      // the client holds every row of the pages before this one now
      peakDuring.accumulateAndGet(usedHeapAfterGc(), Math::max);
    }
    String body = lie.page(page);
    ex.getResponseHeaders().set("Content-Type", "application/json");
    if (body == null) {
      endless(ex);
      return;
    }
    byte[] b = body.getBytes(StandardCharsets.UTF_8);
    ex.sendResponseHeaders(200, b.length);
    try (OutputStream out = ex.getResponseBody()) {
      out.write(b);
      bytes.addAndGet(b.length);
    } catch (IOException clientGone) {
      // the client stopped reading
    }
  }

  private void endless(HttpExchange ex) {
    try (OutputStream out = ex.getResponseBody()) {
      ex.sendResponseHeaders(200, 0);
      out.write(
          "{\"total\":1,\"page\":1,\"per_page\":100,\"data\":[".getBytes(StandardCharsets.UTF_8));
      byte[] chunk = (route(1, 0, 0) + ",").repeat(100).getBytes(StandardCharsets.UTF_8);
      long nextSample = 1 << 20;
      while (bytes.get() < STOP_AFTER_BYTES) {
        out.write(chunk);
        if (bytes.addAndGet(chunk.length) >= nextSample) {
          // what the client buffers of the body so far
          peakDuring.accumulateAndGet(usedHeapAfterGc(), Math::max);
          nextSample *= 2;
        }
      }
    } catch (IOException clientGone) {
      // the client stopped reading: the point
    }
  }

  private static String route(int page, int i, int padding) {
    long n = (long) (page - 1) * 1_000 + i;
    return "{\"id\":\"route-"
        + n
        + "\",\"envoy_node_id\":\""
        + NODE
        + "\",\"name\":\"r"
        + n
        + "x".repeat(padding)
        + "\",\"listen_port\":"
        + (10000 + n % 50000)
        + ",\"backend_host\":\"backend-"
        + n
        + ".example\","
        + "\"backend_port\":80,\"cluster_type\":\"logical_dns\",\"connect_timeout_secs\":5,\"proxy_protocol\":0,"
        + "\"source\":\"dynamic\",\"status\":\"active\",\"created_at\":\"2026-11-26T10:00:00Z\","
        + "\"updated_at\":\"2026-11-26T10:00:00Z\"}";
  }

  private static String page(int page, int rows, long total, int padding) {
    StringBuilder b = new StringBuilder(rows * (400 + padding)).append("{\"data\":[");
    for (int i = 0; i < rows; i++) {
      b.append(i == 0 ? "" : ",").append(route(page, i, padding));
    }
    return b.append("],\"total\":")
        .append(total)
        .append(",\"page\":")
        .append(page)
        .append(",\"per_page\":100}")
        .toString();
  }

  private static long usedHeapAfterGc() {
    long least = Long.MAX_VALUE;
    for (int i = 0; i < 2; i++) {
      System.gc();
      least = Math.min(least, ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed());
    }
    return least;
  }
}
