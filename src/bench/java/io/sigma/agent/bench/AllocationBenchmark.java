package io.sigma.agent.bench;

import io.sigma.agent.AgentRuntime;
import io.sigma.agent.config.PortRange;
import io.sigma.agent.metrics.MetricsServer;
import io.sigma.agent.net.HttpGuard;
import io.sigma.agent.ports.AllocationCallers;
import io.sigma.agent.ports.AllocationRoutes;
import io.sigma.agent.ports.BindProbe;
import io.sigma.agent.ports.CallerRateLimiter;
import io.sigma.agent.ports.LatestPortScan;
import io.sigma.agent.ports.PortAllocator;
import io.sigma.agent.ports.PortScan;
import io.sigma.agent.ports.PortScanner;
import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.http.javadsl.ServerBinding;

/**
 * Allocating 100 ports of the default range 10000-30000 (goal: p99 ≤ 10 ms): the {@link
 * PortAllocator} actor alone, asked and awaited (every port bind-tested with a real {@link
 * BindProbe}, the real scan of this machine as the hint, 30 s reservations with one answer per
 * simulated second, so about 3,000 ports are reserved at any time), then the whole {@code POST
 * /ports/allocate} over HTTP on loopback (request parsing, the allocator actor and its blocking-IO
 * bind tests, JSON answer) through the agent's HTTP server, once with the JDK's HttpClient and once
 * with a bare keep-alive socket client.
 *
 * <p>Run: {@code mvn -B -Pbench verify -Dbench=allocation}
 */
public final class AllocationBenchmark {
  private static final PortRange RANGE = PortRange.DEFAULT;
  private static final int COUNT = 100;

  private AllocationBenchmark() {}

  public static void main(String[] args) throws Exception {
    System.out.printf(
        "machine: %d cores, %s %s, Java %s; range %s (%d ports), %d ports an" + " answer%n",
        Runtime.getRuntime().availableProcessors(),
        System.getProperty("os.name"),
        System.getProperty("os.version"),
        System.getProperty("java.version"),
        RANGE,
        RANGE.size(),
        COUNT);
    LatestPortScan latest = new LatestPortScan();
    PortScan scan = PortScanner.onProc(Path.of("/proc")).scan(RANGE);
    latest.set(scan);
    System.out.printf("scan hint: %d of %d ports in use%n", scan.inUse(), scan.total());

    // Each allocator is the guardian of its own actor system (the served one's runs the HTTP
    // server).
    ActorSystem<PortAllocator.Command> direct =
        ActorSystem.create(
            allocator(latest), "allocation-bench-direct", AgentRuntime.pekkoConfig());
    ActorSystem<PortAllocator.Command> system =
        ActorSystem.create(allocator(latest), "allocation-bench", AgentRuntime.pekkoConfig());
    long[] directNanos;
    long[] httpNanos;
    long[] rawNanos;
    try {
      // 1. the allocator actor alone, asked and awaited
      directNanos =
          Timings.measure(
              300,
              3000,
              () -> {
                try {
                  return granted(
                      PortAllocator.ask(direct, COUNT, Duration.ofSeconds(10), direct.scheduler())
                          .toCompletableFuture()
                          .get(10, TimeUnit.SECONDS));
                } catch (Exception e) {
                  throw new IllegalStateException(e);
                }
              });

      // 2. POST /ports/allocate over loopback HTTP
      ServerBinding binding =
          MetricsServer.bind(
                  system,
                  "127.0.0.1",
                  0,
                  List.of(
                      new AllocationRoutes(
                              Optional.of(new AllocationRoutes.Allocator(system, RANGE)),
                              Optional::empty,
                              new AllocationCallers(List.of(), Optional.empty()),
                              CallerRateLimiter.standard(),
                              system.scheduler())
                          .route()),
                  HttpGuard.METRICS,
                  Optional.empty())
              .toCompletableFuture()
              .get(30, TimeUnit.SECONDS);
      HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
      HttpRequest request =
          HttpRequest.newBuilder(
                  URI.create(
                      "http://127.0.0.1:" + binding.localAddress().getPort() + "/ports/allocate"))
              .header("Content-Type", "application/json")
              .POST(HttpRequest.BodyPublishers.ofString("{\"count\": " + COUNT + "}"))
              .build();
      httpNanos =
          Timings.measure(
              300,
              2000,
              () -> {
                try {
                  HttpResponse<String> response =
                      http.send(request, HttpResponse.BodyHandlers.ofString());
                  if (response.statusCode() != 200) {
                    throw new IllegalStateException(response.statusCode() + " " + response.body());
                  }
                  return response.body().length();
                } catch (Exception e) {
                  throw new IllegalStateException(e);
                }
              });
      try (KeepAliveClient raw = new KeepAliveClient(binding.localAddress().getPort())) {
        rawNanos = Timings.measure(300, 2000, () -> raw.allocate(COUNT));
      }
      binding.unbind().toCompletableFuture().get(30, TimeUnit.SECONDS);
    } finally {
      for (ActorSystem<?> s : List.of(direct, system)) {
        s.terminate();
        s.getWhenTerminated().toCompletableFuture().get(30, TimeUnit.SECONDS);
      }
    }

    System.out.println();
    System.out.printf(
        "%-40s %10s %10s %10s %10s %6s%n",
        "allocate " + COUNT + " ports", "median", "p90", "p99", "max", "runs");
    row("PortAllocator actor (100 bind tests)", directNanos);
    row("POST over HTTP, JDK HttpClient", httpNanos);
    row("POST over HTTP, keep-alive socket", rawNanos);
    System.out.printf(
        "goal p99 <= 10 ms: allocator %s, HTTP (JDK client) %s, HTTP (socket) %s%n",
        verdict(directNanos), verdict(httpNanos), verdict(rawNanos));
  }

  /** 30 s reservations, one simulated second per answer. */
  private static Behavior<PortAllocator.Command> allocator(LatestPortScan latest) {
    return PortAllocator.create(
        RANGE,
        latest,
        new BindProbe(),
        Duration.ofSeconds(30),
        new SteppingClock(Duration.ofSeconds(1)));
  }

  private static String verdict(long[] sorted) {
    return p(sorted, 0.99) <= 10_000_000 ? "met" : "MISSED";
  }

  private static long granted(PortAllocator.Allocation allocation) {
    if (allocation instanceof PortAllocator.Allocation.Granted granted) {
      return granted.ports().size();
    }
    throw new IllegalStateException("allocation refused: " + allocation);
  }

  private static long p(long[] sorted, double quantile) {
    return sorted[(int) Math.ceil(sorted.length * quantile) - 1];
  }

  private static void row(String name, long[] sorted) {
    System.out.printf(
        "%-40s %10s %10s %10s %10s %6d%n",
        name,
        format(p(sorted, 0.5)),
        format(p(sorted, 0.9)),
        format(p(sorted, 0.99)),
        format(sorted[sorted.length - 1]),
        sorted.length);
  }

  private static String format(long nanos) {
    return String.format("%.2f ms", nanos / 1e6);
  }

  /**
   * The leanest HTTP/1.1 client: one kept-alive connection, the request written in one go, the
   * answer read by its Content-Length on the calling thread (no client-side thread hand-offs,
   * unlike the JDK's HttpClient), so the figure is the server's.
   */
  private static final class KeepAliveClient implements AutoCloseable {
    private final Socket socket;
    private final BufferedInputStream in;
    private final OutputStream out;

    KeepAliveClient(int port) throws IOException {
      socket = new Socket(InetAddress.getLoopbackAddress(), port);
      socket.setTcpNoDelay(true);
      in = new BufferedInputStream(socket.getInputStream());
      out = socket.getOutputStream();
    }

    long allocate(int count) {
      String body = "{\"count\": " + count + "}";
      try {
        out.write(
            ("POST /ports/allocate HTTP/1.1\r\nHost: localhost\r\n"
                    + "Content-Type: application/json\r\nContent-Length: "
                    + body.length()
                    + "\r\n\r\n"
                    + body)
                .getBytes(StandardCharsets.US_ASCII));
        out.flush();
        String status = line();
        if (!status.startsWith("HTTP/1.1 200 ")) {
          throw new IllegalStateException(status);
        }
        int length = -1;
        for (String header = line(); !header.isEmpty(); header = line()) {
          if (header.regionMatches(true, 0, "Content-Length:", 0, 15)) {
            length = Integer.parseInt(header.substring(15).trim());
          }
        }
        return in.readNBytes(length).length;
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }

    private String line() throws IOException {
      StringBuilder line = new StringBuilder();
      for (int c = in.read(); c != '\n'; c = in.read()) {
        if (c < 0) {
          throw new IOException("connection closed");
        }
        if (c != '\r') {
          line.append((char) c);
        }
      }
      return line.toString();
    }

    @Override
    public void close() throws IOException {
      socket.close();
    }
  }

  /** A clock that moves on by {@code step} each time it is read: one answer per step. */
  private static final class SteppingClock extends Clock {
    private final Duration step;
    private Instant now = Instant.parse("2026-01-01T00:00:00Z");

    SteppingClock(Duration step) {
      this.step = step;
    }

    @Override
    public synchronized Instant instant() {
      now = now.plus(step);
      return now;
    }

    @Override
    public ZoneId getZone() {
      return ZoneOffset.UTC;
    }

    @Override
    public Clock withZone(ZoneId zone) {
      return this;
    }
  }
}
