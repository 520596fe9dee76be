package io.sigma.agent.bench;

import static io.sigma.agent.devapi.DevApiAdmin.admin;

import io.sigma.agent.bench.SoakSampler.Sample;
import io.sigma.agent.devapi.DevSeed;
import io.sigma.agent.devapi.DevVps;
import io.sigma.agent.devapi.EndpointKind;
import io.sigma.agent.devapi.FaultInjectingDevApi;
import io.sigma.agent.devapi.RouteSpec;
import io.sigma.agent.devapi.SoakFaults;
import java.io.File;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.function.ToDoubleFunction;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Behaviors;

/**
 * Soak under faults: one agent process, started through {@code bin/sigma-agent} (the production JVM
 * flags) with every feature on, runs for {@code soak.minutes} (default 20) against a dev sigma-api
 * in this JVM whose random fault mode (5xx, answers slower than the agent's timeout, resets,
 * non-JSON and malformed bodies, config_version churn) is on for the first three quarters of each
 * quarter of the run and off for the last one (so every quarter has the same shape, and the run
 * ends healthy). Meanwhile ADS clients connect, ACK, NACK and disconnect ({@link SoakEnvoys}) and
 * callers hit /metrics, /ports/allocate and /xds/status ({@link SoakCallers}). Every 10 s it
 * samples the agent's RSS, heap after a full GC, threads and open fds ({@link SoakSampler}).
 *
 * <p>Fails (an exception, so a non-zero exit status of the benchmark run) when the median of any of
 * the four in the last quarter exceeds its median in the second quarter by more than 10 %; when, in
 * a healthy window, the agent goes longer than its backoff cap without a heartbeat reaching the API
 * ({@link HeartbeatWatch}); when any Envoy stream receives a Cluster or Listener response without
 * resources; or when the agent process dies. Writes {@code docs/soak.png} and the "Soak under
 * faults" section of {@code docs/benchmarks.md} (unless {@code soak.docs=false}).
 *
 * <pre>mvn -B -Pbench verify -Dbench=soak -Dbench.jvm="-Dsoak.minutes=20"</pre>
 *
 * <p>System properties: {@code soak.minutes} (20; fractions allowed), {@code soak.seed} (1), {@code
 * soak.envoys} (3 concurrent ADS clients), {@code soak.faultScale} (1: multiplies the default fault
 * probabilities), {@code soak.docs} (true).
 */
public final class SoakTest {
  static final String HOSTNAME = "soak-agent";
  static final String API_KEY = "soak-api-key";
  static final int INTERVAL_SECONDS = 5;
  static final int XDS_POLL_SECONDS = 2;
  static final int BACKOFF_MAX_SECONDS = 20;
  static final int REQUEST_TIMEOUT_SECONDS = 10;
  static final int PORT_SCAN_INTERVAL_SECONDS = 15;
  static final int SAMPLE_EVERY_SECONDS = 10;
  static final double MAX_GROWTH = 0.10;

  /** Share of each quarter with faults on; the rest of the quarter is healthy. */
  static final double FAULTY_SHARE = 0.75;

  static final String COMMAND =
      "mvn -B -Pbench verify -Dbench=soak -Dbench.jvm=\"-Dsoak.minutes=20\"";

  private static final Path LAUNCHER = Path.of("bin/sigma-agent");
  private static final Path JAR = Path.of("target/sigma-agent.jar");

  private SoakTest() {}

  /** A metric the soak watches, read from a sample. */
  record Metric(String name, String unit, ToDoubleFunction<Sample> value) {}

  static final List<Metric> METRICS =
      List.of(
          new Metric("RSS", "MB", s -> s.rssKb() / 1024.0),
          new Metric("heap after GC", "MB", s -> s.heapAfterGcKb() / 1024.0),
          new Metric("threads", "", s -> s.threads()),
          new Metric("open fds", "", s -> s.fds()));

  public static void main(String[] args) throws Exception {
    double minutes = Double.parseDouble(System.getProperty("soak.minutes", "20"));
    long seed = Long.getLong("soak.seed", 1);
    int envoyCount = Integer.getInteger("soak.envoys", 3);
    double faultScale = Double.parseDouble(System.getProperty("soak.faultScale", "1"));
    // Its own folder per fault scale, so a harsher run can go on next to a default one.
    Path out = Path.of(faultScale == 1 ? "target/soak" : "target/soak-x" + faultScale);
    boolean writeDocs = Boolean.parseBoolean(System.getProperty("soak.docs", "true"));
    if (!Files.exists(JAR) || !Files.isExecutable(LAUNCHER)) {
      throw new IllegalStateException(
          JAR
              + " or "
              + LAUNCHER
              + " missing: run through "
              + "`mvn -Pbench verify -Dbench=soak` from the repository root");
    }
    double totalSeconds = minutes * 60;
    Files.createDirectories(out);

    ActorSystem<Void> system = ActorSystem.create(Behaviors.empty(), "soak-harness");
    FaultInjectingDevApi api = new FaultInjectingDevApi(0, API_KEY);
    admin(api).seedForHostname(HOSTNAME, seedA());
    String url = api.start(system).toCompletableFuture().get(30, TimeUnit.SECONDS);

    int xdsPort = freePort();
    int metricsPort = freePort();
    int managementPort = freePort();
    Path stateDir = Files.createTempDirectory("sigma-soak-state");
    List<String> command =
        new ArrayList<>(
            List.of(
                LAUNCHER.toString(),
                "--hostname",
                HOSTNAME,
                "--api-url",
                url,
                "--api-key",
                API_KEY,
                "--port-scan",
                "--xds-enabled",
                "--interval",
                Integer.toString(INTERVAL_SECONDS),
                "--xds-poll-interval",
                Integer.toString(XDS_POLL_SECONDS),
                "--backoff-max",
                Integer.toString(BACKOFF_MAX_SECONDS),
                "--request-timeout",
                Integer.toString(REQUEST_TIMEOUT_SECONDS),
                "--port-scan-interval",
                Integer.toString(PORT_SCAN_INTERVAL_SECONDS),
                "--xds-port",
                Integer.toString(xdsPort),
                "--metrics-port",
                Integer.toString(metricsPort),
                "--management-port",
                Integer.toString(managementPort),
                "--state-dir",
                stateDir.toString(),
                "--public-ip-lookup=false"));
    File agentLog = out.resolve("agent.log").toFile();
    System.out.println(
        "soak: starting "
            + String.join(" ", command).replace(API_KEY, "***")
            + " (log: "
            + agentLog
            + ")");
    Process agent =
        new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(agentLog).start();

    List<String> failures = new ArrayList<>();
    List<Sample> samples = new ArrayList<>();
    HeartbeatWatch heartbeats = new HeartbeatWatch(admin(api), HOSTNAME);
    SoakEnvoys envoys = null;
    SoakCallers callers = null;
    FaultSchedule schedule = new FaultSchedule(totalSeconds, FAULTY_SHARE);
    String loadAtStart = "?";
    try {
      // ---- warm-up on a healthy API: registered, second node seeded, config served
      DevVps vps = awaitRegistration(api, agent, agentLog);
      admin(api).seed(vps.id(), seedB());
      envoys =
          new SoakEnvoys(
              xdsPort, List.of(seedA().nodeId(), seedB().nodeId()), heartbeats::millisSinceStart);
      awaitConfigServed(envoys, agent, seedA().nodeId(), seedB().nodeId());
      System.out.printf(
          "soak: agent pid %d registered and serving xDS; soaking for %.1f min%n",
          agent.pid(), minutes);

      // ---- the soak
      loadAtStart = loadAverage();
      heartbeats.start();
      envoys.start(envoyCount, seed);
      callers = new SoakCallers(metricsPort, managementPort, seed);
      callers.start();
      SoakSampler sampler = new SoakSampler(agent.pid());
      boolean faultsOn = false;
      long nextSample = 0;
      while (true) {
        double t = heartbeats.millisSinceStart() / 1000.0;
        if (t >= totalSeconds) {
          break;
        }
        if (!agent.isAlive()) {
          failures.add(
              String.format(
                  "the agent process died at %.0f s (exit status %d; see %s)",
                  t, agent.exitValue(), agentLog));
          break;
        }
        boolean wanted = schedule.faulty(t);
        if (wanted != faultsOn) {
          faultsOn = wanted;
          if (faultsOn) {
            api.faults().soak(faults(seed + (long) t, faultScale));
          } else {
            api.faults().stopSoak();
          }
          System.out.printf("soak: %4.0f s faults %s%n", t, faultsOn ? "ON" : "off (healthy)");
        }
        if (heartbeats.millisSinceStart() >= nextSample) {
          Sample s = sampler.sample(heartbeats.millisSinceStart() / 1000.0);
          samples.add(s);
          System.out.printf(
              Locale.ROOT,
              "soak: %4.0f s RSS %6.1f MB, heap after GC %5.1f MB, "
                  + "threads %3d, fds %3d | ADS sessions %d, responses %d, NACKs %d | "
                  + "heartbeats %d%n",
              s.seconds(),
              s.rssKb() / 1024.0,
              s.heapAfterGcKb() / 1024.0,
              s.threads(),
              s.fds(),
              envoys.sessions.get(),
              envoys.responses.get(),
              envoys.nacks.get(),
              heartbeats.beats().size());
          nextSample += SAMPLE_EVERY_SECONDS * 1000L;
        }
        Thread.sleep(200);
      }
    } finally {
      if (callers != null) {
        callers.close();
      }
      if (envoys != null) {
        envoys.close();
      }
      heartbeats.close();
      api.faults().clear();
      agent.destroy();
      if (!agent.waitFor(30, TimeUnit.SECONDS)) {
        agent.destroyForcibly();
      }
      api.stop().toCompletableFuture().get(10, TimeUnit.SECONDS);
      system.terminate();
      system.getWhenTerminated().toCompletableFuture().get(30, TimeUnit.SECONDS);
    }

    // ---- verdict
    String load = loadAtStart + " -> " + loadAverage();
    double q = totalSeconds / 4;
    List<String> rows = new ArrayList<>();
    for (Metric m : METRICS) {
      double q2 = median(samples, m, q, 2 * q);
      double q4 = median(samples, m, 3 * q, totalSeconds + 1);
      double growth = (q4 - q2) / q2;
      rows.add(
          String.format(
              Locale.ROOT,
              "| %s | %s | %s | %s | %s | %+.1f %% |",
              label(m),
              fmt(m, samples.isEmpty() ? Double.NaN : m.value().applyAsDouble(samples.get(0))),
              fmt(m, q2),
              fmt(m, q4),
              fmt(
                  m,
                  samples.isEmpty()
                      ? Double.NaN
                      : m.value().applyAsDouble(samples.get(samples.size() - 1))),
              growth * 100));
      if (!(growth <= MAX_GROWTH)) {
        failures.add(
            String.format(
                Locale.ROOT,
                "%s grew %.1f %% from the second quarter's median "
                    + "(%s) to the last quarter's (%s); the limit is %.0f %%",
                m.name(),
                growth * 100,
                fmt(m, q2),
                fmt(m, q4),
                MAX_GROWTH * 100));
      }
    }
    HeartbeatWatch.Verdict hb =
        heartbeats.verdict(
            schedule.healthyWindows(),
            BACKOFF_MAX_SECONDS,
            BACKOFF_MAX_SECONDS + REQUEST_TIMEOUT_SECONDS);
    failures.addAll(hb.violations());
    for (SoakEnvoys.EmptyPush e :
        envoys == null ? List.<SoakEnvoys.EmptyPush>of() : envoys.emptyPushes) {
      failures.add(
          String.format(
              Locale.ROOT,
              "empty config pushed at %.0f s: node %s, %s version %s",
              e.atSeconds(),
              e.nodeId(),
              e.type(),
              e.version()));
      if (failures.size() > 40) {
        break;
      }
    }
    if (samples.size() < 8) {
      failures.add(
          "only " + samples.size() + " samples: the run was too short to compare quarters");
    }

    List<String> report =
        report(
            minutes,
            faultScale,
            load,
            samples,
            rows,
            hb,
            envoys,
            callers,
            api,
            failures,
            agentLog.toPath());
    report.forEach(System.out::println);
    Files.write(out.resolve("report.md"), report);
    if (writeDocs && !samples.isEmpty()) {
      SoakChart.write(samples, schedule, Path.of("docs/soak.png"), minutes);
      Docs.replaceSection(Path.of("docs/benchmarks.md"), "## Soak under faults", report);
      System.out.println(
          "soak: wrote docs/soak.png and the \"Soak under faults\" section of "
              + "docs/benchmarks.md");
    }
    if (!failures.isEmpty()) {
      System.out.println("SOAK FAILED:");
      failures.forEach(f -> System.out.println("  - " + f));
      // Fails the benchmark run (and the Maven build) with a non-zero exit status.
      throw new IllegalStateException("soak failed: " + String.join("; ", failures));
    }
    System.out.println("SOAK PASSED");
  }

  private static List<String> report(
      double minutes,
      double faultScale,
      String load,
      List<Sample> samples,
      List<String> rows,
      HeartbeatWatch.Verdict hb,
      SoakEnvoys envoys,
      SoakCallers callers,
      FaultInjectingDevApi api,
      List<String> failures,
      Path agentLog)
      throws IOException {
    List<String> out = new ArrayList<>();
    out.add("## Soak under faults");
    out.add("");
    out.add(
        String.format(
            Locale.ROOT,
            "### One agent, every feature on, %.0f minutes against a "
                + "faulty sigma-api (goal: no growth over 10 %%, no heartbeat gap over the backoff cap once "
                + "the API is healthy, no empty Envoy config)",
            minutes));
    out.add("");
    String command =
        faultScale == 1
            ? COMMAND
            : COMMAND.substring(0, COMMAND.length() - 1)
                + " -Dsoak.faultScale="
                + faultScale
                + "\"";
    out.add(
        "`"
            + command
            + "` ("
            + LocalDate.now()
            + ", load average "
            + load
            + "; `-Dsoak.minutes` sets the length). The "
            + "agent runs as its own process through `bin/sigma-agent` (production JVM flags: 64 MB "
            + "heap cap, serial GC, C1) with `--port-scan --xds-enabled --interval "
            + INTERVAL_SECONDS
            + " --xds-poll-interval "
            + XDS_POLL_SECONDS
            + " --backoff-max "
            + BACKOFF_MAX_SECONDS
            + " --request-timeout "
            + REQUEST_TIMEOUT_SECONDS
            + " --port-scan-interval "
            + PORT_SCAN_INTERVAL_SECONDS
            + "`, two Envoy nodes (5 and 3 "
            + "routes). Each quarter of the run has the dev API's soak fault mode "
            + (faultScale == 1
                ? "(`SoakFaults.defaults`: 5 % 5xx, 2 % answers 15 s late, 2 % resets, "
                    + "3 % non-JSON or malformed bodies, 10 % config_version churn on envoy-nodes)"
                : String.format(
                    Locale.ROOT,
                    "(`SoakFaults.defaults` with the fault probabilities "
                        + "× %.1f (`-Dsoak.faultScale`): %.0f %% 5xx, %.0f %% answers 15 s late, %.0f %% resets, "
                        + "%.0f %% non-JSON or malformed bodies; 10 %% config_version churn on envoy-nodes)",
                    faultScale,
                    5 * faultScale,
                    2 * faultScale,
                    2 * faultScale,
                    3 * faultScale))
            + " on for its first three quarters and off for the last, so the run ends healthy. "
            + "Meanwhile "
            + "3 ADS clients loop over sessions (connect, often on a new connection; Clusters then "
            + "Listeners; ACK, or NACK every seventh response; stay 1-10 s; disconnect) and callers "
            + "hit `GET /metrics` (2/s), `POST /ports/allocate` (1/s) and `GET /xds/status` (1/5 s). "
            + "Every 10 s: VmRSS, heap after a full GC (`jcmd GC.run`, then `GC.heap_info`), "
            + "threads (/proc/PID/task) and open fds (/proc/PID/fd). Growth compares the **medians** "
            + "of the second and the last quarter. (RSS rises over the first minutes as the JIT fills "
            + "its code cache, capped at 32 MB by the launcher.)");
    out.add("");
    out.add(
        "| | first sample | median, 2nd quarter | median, last quarter | last sample | growth |");
    out.add("|---|---|---|---|---|---|");
    out.addAll(rows);
    out.add("");
    long faults =
        Arrays.stream(EndpointKind.values()).mapToLong(k -> api.faults().injected(k)).sum();
    out.add(
        String.format(
            Locale.ROOT,
            "%d samples. The dev API answered %d requests (%s) and "
                + "injected %d faults. Heartbeats reaching the API: %d; %s",
            samples.size(),
            api.stats().totals().values().stream().mapToLong(Long::longValue).sum(),
            api.stats().totals().entrySet().stream()
                .filter(e -> e.getValue() > 0)
                .map(e -> e.getKey().name().toLowerCase(Locale.ROOT) + " " + e.getValue())
                .toList()
                .toString()
                .replace("[", "")
                .replace("]", ""),
            faults,
            hb.beats(),
            hb.summary()));
    if (envoys != null) {
      out.add(
          String.format(
              Locale.ROOT,
              "ADS: %d sessions, %d responses, %d ACKs, %d NACKs, "
                  + "%d sessions ended in an error, **%d empty Cluster/Listener responses**.",
              envoys.sessions.get(),
              envoys.responses.get(),
              envoys.acks.get(),
              envoys.nacks.get(),
              envoys.sessionErrors.get(),
              envoys.emptyPushes.size()));
      envoys.errorSamples.stream().limit(3).forEach(e -> out.add("  (session error: " + e + ")"));
    }
    if (callers != null) {
      out.add(
          "Callers: "
              + callers.ok()
              + " of "
              + callers.total()
              + " calls answered 2xx ("
              + callers.answers.entrySet().stream()
                  .sorted(java.util.Map.Entry.comparingByKey())
                  .map(e -> e.getKey() + ": " + e.getValue())
                  .toList()
                  .toString()
                  .replace("[", "")
                  .replace("]", "")
              + ").");
    }
    long warnings = Files.readAllLines(agentLog).stream().filter(l -> l.contains(" WARN ")).count();
    long errors = Files.readAllLines(agentLog).stream().filter(l -> l.contains(" ERROR ")).count();
    out.add("Agent log: " + warnings + " WARN and " + errors + " ERROR lines.");
    out.add("");
    out.add(
        failures.isEmpty()
            ? "**Result: passed.**"
            : "**Result: FAILED**: " + String.join("; ", failures));
    out.add("");
    out.add("![soak: RSS, heap after GC, threads and fds over time](soak.png)");
    out.add("");
    return out;
  }

  private static DevVps awaitRegistration(FaultInjectingDevApi api, Process agent, File agentLog)
      throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
    while (System.nanoTime() < deadline) {
      Optional<DevVps> vps = admin(api).vpsByHostname(HOSTNAME);
      if (vps.isPresent()) {
        return vps.get();
      }
      if (!agent.isAlive()) {
        throw new IllegalStateException("the agent exited before registering: see " + agentLog);
      }
      Thread.sleep(100);
    }
    throw new IllegalStateException("the agent did not register within 90 s");
  }

  private static void awaitConfigServed(SoakEnvoys envoys, Process agent, String... nodeIds)
      throws Exception {
    for (String nodeId : nodeIds) {
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
      while (true) {
        try {
          envoys.handshakeOnce(nodeId);
          break;
        } catch (RuntimeException e) {
          if (!agent.isAlive() || System.nanoTime() > deadline) {
            throw new IllegalStateException("warm-up: the agent does not serve node " + nodeId, e);
          }
          Thread.sleep(1000);
        }
      }
    }
  }

  /** {@code SoakFaults.defaults} with the four fault probabilities multiplied by {@code scale}. */
  static SoakFaults faults(long seed, double scale) {
    SoakFaults d = SoakFaults.defaults(seed);
    return d.withServerError(d.serverError() * scale)
        .withSlow(d.slow() * scale, d.slowDelay())
        .withReset(d.reset() * scale)
        .withBadBody(d.badBody() * scale);
  }

  static DevSeed seedA() {
    List<RouteSpec> routes = new ArrayList<>();
    for (int i = 0; i < 5; i++) {
      routes.add(
          RouteSpec.active("soak-a-" + i, 11001 + i, "backend-a" + i + ".example.com", 30001 + i)
              .withProxyProtocol(i % 3));
    }
    return new DevSeed("soak-envoy-a", "soak node A", 9901, routes);
  }

  static DevSeed seedB() {
    return new DevSeed(
        "soak-envoy-b",
        "soak node B",
        9902,
        List.of(
            RouteSpec.active("soak-b-0", 12001, "127.0.0.1", 30101)
                .withClusterType(RouteSpec.STATIC),
            RouteSpec.active("soak-b-1", 12002, "backend-b1.example.com", 30102)
                .withClusterType(RouteSpec.STRICT_DNS),
            RouteSpec.active("soak-b-2", 12003, "backend-b2.example.com", 30103),
            RouteSpec.placeholder("soak-b-placeholder", 12004)));
  }

  static double median(List<Sample> samples, Metric m, double from, double to) {
    double[] values =
        samples.stream()
            .filter(s -> s.seconds() >= from && s.seconds() < to)
            .mapToDouble(m.value())
            .sorted()
            .toArray();
    if (values.length == 0) {
      return Double.NaN;
    }
    int n = values.length;
    return n % 2 == 1 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
  }

  private static String label(Metric m) {
    return m.unit().isEmpty() ? m.name() : m.name() + " (" + m.unit() + ")";
  }

  private static String fmt(Metric m, double v) {
    return m.unit().isEmpty()
        ? String.format(Locale.ROOT, "%.1f", v).replace(".0", "")
        : String.format(Locale.ROOT, "%.1f", v);
  }

  /** The 1-minute load average of the machine (other builds share it). */
  private static String loadAverage() {
    try {
      return Files.readString(Path.of("/proc/loadavg")).split(" ")[0];
    } catch (IOException e) {
      return "?";
    }
  }

  private static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }
}
