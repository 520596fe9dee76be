package io.sigma.agent.bench;

import io.sigma.agent.AgentRuntime;
import io.sigma.agent.devapi.DevSigmaApi;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Behaviors;

/**
 * Start-up and idle memory of the whole agent process, every feature on (port scan, xDS, metrics,
 * health), against a dev sigma-api running in this (the benchmark's) JVM, as a real sigma-api would
 * run elsewhere: time from spawning the agent's JVM to its "Registered with sigma-api" log line,
 * and its RSS after a minute idle. The launcher (with and without its CDS archive) side by side
 * with a plain {@code java -jar} on default JVM flags, in one run.
 *
 * <p>System properties: {@code startup.runs} (default 3), {@code startup.idleSeconds} (60).
 */
public final class StartupBenchmark {
  private static final Path JAR = Path.of("target/sigma-agent.jar");
  private static final Path LAUNCHER = Path.of("bin/sigma-agent");
  private static final String REGISTERED = "Registered with sigma-api";
  private static final String API_KEY = "startup-bench-key";

  private record Variant(String name, List<String> command, Map<String, String> env) {}

  private record Figures(List<Long> startMillis, long rssKb) {}

  private StartupBenchmark() {}

  public static void main(String[] args) throws Exception {
    int runs = Integer.getInteger("startup.runs", 3);
    int idleSeconds = Integer.getInteger("startup.idleSeconds", 60);
    if (!Files.exists(JAR)) {
      throw new IllegalStateException(JAR + " is missing: run through `mvn -Pbench verify`");
    }
    // The build just rewrote the jar, so any older archive is stale: train a fresh one.
    {
      System.out.println("training the CDS archive: bin/sigma-agent --train-cds");
      Process train = new ProcessBuilder(LAUNCHER.toString(), "--train-cds").inheritIO().start();
      if (train.waitFor() != 0) {
        throw new IllegalStateException("CDS training failed");
      }
    }
    List<Variant> variants =
        List.of(
            new Variant(
                "java -jar (default JVM flags)", List.of("java", "-jar", JAR.toString()), Map.of()),
            new Variant(
                "bin/sigma-agent without CDS",
                List.of(LAUNCHER.toString()),
                Map.of("SIGMA_AGENT_CDS", "/nonexistent.jsa")),
            new Variant("bin/sigma-agent with CDS", List.of(LAUNCHER.toString()), Map.of()));

    ActorSystem<Void> system =
        ActorSystem.create(Behaviors.empty(), "startup-bench", AgentRuntime.pekkoConfig());
    DevSigmaApi api = new DevSigmaApi(0, API_KEY);
    String apiUrl = api.start(system).toCompletableFuture().get(30, TimeUnit.SECONDS);
    List<Figures> results = new ArrayList<>();
    for (Variant v : variants) {
      List<Long> starts = new ArrayList<>();
      long rss = 0;
      for (int i = 0; i < runs; i++) {
        // Memory is read on the last run only: the others measure start-up alone.
        rss = runOnce(v, apiUrl, starts, i == runs - 1 ? idleSeconds : 0);
      }
      results.add(new Figures(starts, rss));
      System.out.printf(
          "%-32s start %s ms  RSS after %ds idle %d MB%n",
          v.name(), starts, idleSeconds, rss / 1024);
    }

    api.stop().toCompletableFuture().get(30, TimeUnit.SECONDS);
    system.terminate();

    Figures base = results.get(0);
    System.out.println();
    System.out.println(
        "| variant | first registration after start (median of "
            + runs
            + ") | RSS after "
            + idleSeconds
            + " s idle | vs java -jar |");
    System.out.println("|---|---|---|---|");
    for (int i = 0; i < variants.size(); i++) {
      Figures f = results.get(i);
      System.out.printf(
          "| %s | %d ms | %d MB | start %.2fx, RSS %.2fx |%n",
          variants.get(i).name(),
          median(f.startMillis()),
          f.rssKb() / 1024,
          (double) median(f.startMillis()) / median(base.startMillis()),
          (double) f.rssKb() / base.rssKb());
    }
  }

  /**
   * Starts the agent, waits for its first registration, idles; returns RSS in kB (0 if no idle).
   */
  private static long runOnce(Variant v, String apiUrl, List<Long> starts, int idleSeconds)
      throws Exception {
    Path state = Files.createTempDirectory("sigma-startup");
    List<String> command = new ArrayList<>(v.command());
    command.addAll(
        Arrays.asList(
            "--api-url",
            apiUrl,
            "--api-key",
            API_KEY,
            "--hostname",
            "startup-" + starts.size() + "-" + System.nanoTime(),
            "--port-scan",
            "--xds-enabled",
            "--xds-port",
            String.valueOf(freePort()),
            "--metrics-port",
            String.valueOf(freePort()),
            "--management-port",
            String.valueOf(freePort()),
            "--public-ip-lookup=false",
            "--state-dir",
            state.toString()));
    ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true);
    pb.environment().putAll(v.env());
    long t0 = System.nanoTime();
    Process p = pb.start();
    CompletableFuture<Long> registered = new CompletableFuture<>();
    Thread reader =
        new Thread(
            () -> {
              try (BufferedReader r =
                  new BufferedReader(
                      new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
                String line;
                while ((line = r.readLine()) != null) {
                  if (line.contains(REGISTERED)) {
                    registered.complete((System.nanoTime() - t0) / 1_000_000);
                  }
                }
              } catch (IOException ignored) {
                // the process ended
              }
              registered.completeExceptionally(
                  new IllegalStateException("agent exited before registering"));
            });
    reader.setDaemon(true);
    reader.start();
    try {
      starts.add(registered.get(60, TimeUnit.SECONDS));
      long rss = 0;
      if (idleSeconds > 0) {
        // An idle agent: heartbeats, scans and polls at their default intervals.
        p.waitFor(idleSeconds, TimeUnit.SECONDS);
        rss = vmRssKb(p.pid());
      }
      return rss;
    } finally {
      p.toHandle().destroy();
      if (!p.waitFor(20, TimeUnit.SECONDS)) {
        p.destroyForcibly();
      }
    }
  }

  private static long vmRssKb(long pid) throws IOException {
    for (String line : Files.readAllLines(Path.of("/proc/" + pid + "/status"))) {
      if (line.startsWith("VmRSS:")) {
        return Long.parseLong(line.replaceAll("\\D", ""));
      }
    }
    throw new IllegalStateException("no VmRSS for " + pid);
  }

  private static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }

  private static long median(List<Long> values) {
    List<Long> sorted = values.stream().sorted().toList();
    return sorted.get(sorted.size() / 2);
  }
}
