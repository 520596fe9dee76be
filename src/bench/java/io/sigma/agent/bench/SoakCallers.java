package io.sigma.agent.bench;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The soak's scrapers and sigma-api stand-ins on the agent's metrics port: {@code GET /metrics}
 * twice a second, {@code POST /ports/allocate} (1-3 ports) once a second and {@code GET
 * /xds/status} every 5 s, each from its own scheduled task (bounded rate whatever the agent's
 * speed: a slow answer delays the next call). Answers are counted by status.
 */
final class SoakCallers implements AutoCloseable {
  private final HttpClient client =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
  private final ScheduledExecutorService scheduler =
      Executors.newScheduledThreadPool(
          3,
          r -> {
            Thread t = new Thread(r, "soak-caller");
            t.setDaemon(true);
            return t;
          });
  private final String base;
  private final String management;
  private final SplittableRandom random;

  /** "GET /metrics 200" → count; "... error" for calls without an answer. */
  final Map<String, AtomicLong> answers = new ConcurrentHashMap<>();

  SoakCallers(int metricsPort, int managementPort, long seed) {
    this.base = "http://127.0.0.1:" + metricsPort;
    this.management = "http://127.0.0.1:" + managementPort;
    this.random = new SplittableRandom(seed);
  }

  void start() {
    scheduler.scheduleWithFixedDelay(
        () -> call("GET /metrics", HttpRequest.newBuilder(URI.create(base + "/metrics")).GET()),
        0,
        500,
        TimeUnit.MILLISECONDS);
    scheduler.scheduleWithFixedDelay(
        () -> {
          int count = 1 + nextInt(3);
          call(
              "POST /ports/allocate",
              HttpRequest.newBuilder(URI.create(base + "/ports/allocate"))
                  .header("Content-Type", "application/json")
                  .POST(HttpRequest.BodyPublishers.ofString("{\"count\": " + count + "}")));
        },
        100,
        1000,
        TimeUnit.MILLISECONDS);
    scheduler.scheduleWithFixedDelay(
        () ->
            call(
                "GET /xds/status",
                HttpRequest.newBuilder(URI.create(management + "/xds/status")).GET()),
        300,
        5000,
        TimeUnit.MILLISECONDS);
  }

  private synchronized int nextInt(int bound) {
    return random.nextInt(bound);
  }

  private void call(String what, HttpRequest.Builder request) {
    String outcome;
    try {
      HttpResponse<byte[]> r =
          client.send(
              request.timeout(Duration.ofSeconds(10)).build(),
              HttpResponse.BodyHandlers.ofByteArray());
      outcome = Integer.toString(r.statusCode());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return;
    } catch (Exception e) {
      outcome = "error " + e.getClass().getSimpleName();
    }
    answers.computeIfAbsent(what + " " + outcome, k -> new AtomicLong()).incrementAndGet();
  }

  /** Calls that got a 2xx answer out of all calls. */
  long ok() {
    return answers.entrySet().stream()
        .filter(e -> e.getKey().matches(".* 2\\d\\d"))
        .mapToLong(e -> e.getValue().get())
        .sum();
  }

  long total() {
    return answers.values().stream().mapToLong(AtomicLong::get).sum();
  }

  @Override
  public void close() throws InterruptedException {
    scheduler.shutdownNow();
    scheduler.awaitTermination(15, TimeUnit.SECONDS);
  }
}
