package io.sigma.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sigma.agent.devapi.DevSigmaApi;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The packaged agent as an operator runs it: the fat jar (built by `package` before the integration
 * tests) in its own JVM, stopped with SIGTERM.
 */
class AgentProcessIT {
  private static final Path JAR = Path.of("target/sigma-agent.jar");
  private final List<Process> processes = new ArrayList<>();

  @TempDir Path stateDir;

  @AfterEach
  void killLeftovers() {
    processes.forEach(Process::destroyForcibly);
  }

  /** A running agent process whose output lines are collected as they come. */
  private final class Agent {
    final Process process;
    final List<String> lines = new CopyOnWriteArrayList<>();
    final Thread reader;

    Agent(List<String> args, String... env) throws IOException {
      List<String> command = new ArrayList<>(List.of("java", "-Xmx128m", "-jar", JAR.toString()));
      command.addAll(args);
      ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true);
      for (int i = 0; i < env.length; i += 2) {
        pb.environment().put(env[i], env[i + 1]);
      }
      process = pb.start();
      processes.add(process);
      reader =
          new Thread(
              () -> {
                try (BufferedReader r =
                    new BufferedReader(
                        new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
                  String line;
                  while ((line = r.readLine()) != null) {
                    lines.add(line);
                  }
                } catch (IOException ignored) {
                  // process gone
                }
              });
      reader.setDaemon(true);
      reader.start();
    }

    void awaitLine(String text) throws InterruptedException {
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
      while (lines.stream().noneMatch(l -> l.contains(text))) {
        assertTrue(
            System.nanoTime() < deadline && process.isAlive(),
            "no line with '" + text + "'; output:\n" + String.join("\n", lines));
        // Polls the collected output; the condition, not the pause, ends the wait.
        TimeUnit.MILLISECONDS.sleep(50);
      }
    }

    int awaitExit() throws InterruptedException {
      assertTrue(
          process.waitFor(30, TimeUnit.SECONDS), "still running:\n" + String.join("\n", lines));
      reader.join(10_000); // the last lines may still be in the pipe
      return process.exitValue();
    }

    String output() {
      return String.join("\n", lines);
    }
  }

  private static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }

  private List<String> quietArgs() throws IOException {
    return new ArrayList<>(
        List.of(
            "--public-ip-lookup=false",
            "--state-dir",
            stateDir.toString(),
            "--metrics-port",
            String.valueOf(freePort()),
            "--management-port",
            String.valueOf(freePort())));
  }

  @Test
  void devModeRegistersAndSigtermStopsGracefully() throws Exception {
    List<String> args = quietArgs();
    args.add("--dev");
    Agent agent = new Agent(args);
    agent.awaitLine("Registered with sigma-api as VPS");
    long t0 = System.nanoTime();
    // SIGTERM, through the handle: Process.destroy() would also close our end of the pipe.
    agent.process.toHandle().destroy();
    int status = agent.awaitExit();
    long stopMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
    assertTrue(status == 0 || status == 143, "status " + status);
    assertTrue(agent.output().contains("Stopping sigma-agent (SIGTERM)"), agent.output());
    assertTrue(stopMillis < 15_000, "took " + stopMillis + " ms to stop");
    assertFalse(agent.output().contains("Exception"), agent.output());
  }

  @Test
  void theApiKeyNeverReachesTheLogEvenInDebug() throws Exception {
    String key = "k3y-" + System.nanoTime();
    ActorTestKit kit = ActorTestKit.create(AgentRuntime.pekkoConfig());
    DevSigmaApi api = new DevSigmaApi(0, key);
    try {
      String url = api.start(kit.system()).toCompletableFuture().get(10, TimeUnit.SECONDS);
      List<String> args = quietArgs();
      args.addAll(List.of("--api-url", url, "--interval", "1"));
      Agent agent =
          new Agent(
              args, "SIGMA_API_KEY", key, "AGENT_LOG_LEVEL", "DEBUG", "PEKKO_LOG_LEVEL", "DEBUG");
      agent.awaitLine("Registered with sigma-api as VPS");
      agent.process.toHandle().destroy();
      agent.awaitExit();
      assertTrue(agent.output().contains("DEBUG"), "debug logging was on");
      assertFalse(agent.output().contains(key), "the key leaked:\n" + agent.output());
      assertTrue(agent.output().contains("api-key=set"), agent.output());
    } finally {
      api.stop().toCompletableFuture().get(10, TimeUnit.SECONDS);
      kit.shutdownTestKit();
    }
  }

  @Test
  void aBadSettingExitsWithStatusTwoAndOneLine() throws Exception {
    Agent agent = new Agent(List.of("--interval", "0"));
    assertEquals(2, agent.awaitExit());
    assertEquals(
        List.of("sigma-agent: invalid --interval '0': must be between 1s and 24h"), agent.lines);
  }

  @Test
  void aBadEnvironmentValueExitsWithStatusTwo() throws Exception {
    Agent agent = new Agent(List.of(), "AGENT_PORT_SCAN_RANGE", "30000-10000");
    assertEquals(2, agent.awaitExit());
    assertEquals(1, agent.lines.size(), agent.output());
    assertTrue(
        agent
            .lines
            .get(0)
            .startsWith(
                "sigma-agent: invalid --port-scan-range (from AGENT_PORT_SCAN_RANGE) '30000-10000'"),
        agent.output());
  }

  @Test
  void helpAndVersionExitZero() throws Exception {
    Agent help = new Agent(List.of("--help"));
    assertEquals(0, help.awaitExit());
    assertTrue(help.output().contains("--xds-poll-interval"), help.output());
    Agent version = new Agent(List.of("--version"));
    assertEquals(0, version.awaitExit());
    assertTrue(version.output().matches("sigma-agent \\d+\\.\\d+\\.\\d+.*"), version.output());
  }

  @Test
  void versionNamesTheCommitTheJarWasBuiltFrom() throws Exception {
    Agent version = new Agent(List.of("--version"));
    assertEquals(0, version.awaitExit());
    java.util.regex.Matcher m =
        java.util.regex.Pattern.compile("sigma-agent \\d+\\.\\d+\\.\\d+ \\(([0-9a-f]{7,40})\\)")
            .matcher(version.output().trim());
    assertTrue(m.matches(), version.output());
    String head = GitHead.commit();
    assertTrue(head.startsWith(m.group(1)), "HEAD " + head + " vs " + version.output());
  }

  @Test
  void aTakenMetricsPortStopsTheAgentWithStatusOne() throws Exception {
    try (ServerSocket taken = new ServerSocket(0)) {
      List<String> args =
          new ArrayList<>(
              List.of(
                  "--public-ip-lookup=false",
                  "--state-dir",
                  stateDir.toString(),
                  "--management-port",
                  "0",
                  "--api-url",
                  "http://127.0.0.1:9/api",
                  "--metrics-port",
                  String.valueOf(taken.getLocalPort()),
                  "--metrics-bind",
                  "0.0.0.0"));
      Agent agent = new Agent(args);
      assertEquals(1, agent.awaitExit());
      assertTrue(agent.output().contains("Could not start the metrics server"), agent.output());
      assertTrue(agent.output().contains("--metrics-port"), agent.output());
    }
  }

  private void signal(Agent agent, String signal) throws Exception {
    Process kill =
        new ProcessBuilder("kill", "-" + signal, String.valueOf(agent.process.pid()))
            .inheritIO()
            .start();
    assertEquals(0, kill.waitFor(), "kill -" + signal);
  }

  /** sigma_agent_heartbeats_total{...result="success"} from the agent's /metrics. */
  private static long heartbeats(int metricsPort) throws Exception {
    HttpResponse<String> metrics =
        HttpClient.newHttpClient()
            .send(
                HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + metricsPort + "/metrics"))
                    .build(),
                HttpResponse.BodyHandlers.ofString());
    return metrics
        .body()
        .lines()
        .filter(
            l -> l.startsWith("sigma_agent_heartbeats_total{") && l.contains("result=\"success\""))
        .mapToLong(l -> (long) Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1)))
        .findFirst()
        .orElse(0);
  }

  @Test
  void sighupReloadsTheConfigFileAppliesTheIntervalAndKeepsRunning() throws Exception {
    int metricsPort = freePort();
    Path conf = stateDir.resolve("agent.conf");
    Files.writeString(conf, "AGENT_INTERVAL=1h\nAGENT_METRICS_PORT=" + metricsPort + "\n");
    List<String> args =
        new ArrayList<>(
            List.of(
                "--dev",
                "--public-ip-lookup=false",
                "--state-dir",
                stateDir.toString(),
                "--management-port",
                "0",
                "--config",
                conf.toString()));
    Agent agent = new Agent(args);
    agent.awaitLine("Registered with sigma-api as VPS");
    agent.awaitLine("metrics server listening");
    assertTrue(agent.output().contains("heartbeat every 3600s"), agent.output());

    signal(agent, "HUP");
    agent.awaitLine("SIGHUP: configuration re-read (config file " + conf + "): no changes");
    assertTrue(agent.process.isAlive(), agent.output());

    // One heartbeat a second from now on; the port is logged as needing a restart.
    Files.writeString(conf, "AGENT_INTERVAL=1\nAGENT_METRICS_PORT=" + freePort() + "\n");
    long before = heartbeats(metricsPort);
    signal(agent, "HUP");
    agent.awaitLine(
        "applied --interval 3600s -> 1s; changed, takes effect after a restart: "
            + "--metrics-port");
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
    while (heartbeats(metricsPort) < before + 2) {
      assertTrue(
          System.nanoTime() < deadline, "no heartbeats at the new interval:\n" + agent.output());
      TimeUnit.MILLISECONDS.sleep(100); // polls /metrics; the count, not the pause, ends the wait
    }

    // A bad config is logged and the running one stays.
    Files.writeString(conf, "AGENT_INTERVAL=0\n");
    signal(agent, "HUP");
    agent.awaitLine(
        "SIGHUP: the configuration is invalid, keeping the running one: invalid "
            + "--interval (from AGENT_INTERVAL in "
            + conf
            + " line 1) '0': must be between 1s and 24h");
    assertTrue(agent.process.isAlive(), agent.output());

    agent.process.toHandle().destroy();
    int status = agent.awaitExit();
    assertTrue(status == 0 || status == 143, "status " + status);
    assertTrue(agent.output().contains("Stopping sigma-agent (SIGTERM)"), agent.output());
  }

  @Test
  void sigintIsNamedAsTheShutdownReason() throws Exception {
    List<String> args = quietArgs();
    args.add("--dev");
    Agent agent = new Agent(args);
    agent.awaitLine("Registered with sigma-api as VPS");
    signal(agent, "INT");
    assertEquals(130, agent.awaitExit(), agent.output());
    assertTrue(agent.output().contains("Stopping sigma-agent (SIGINT)"), agent.output());
  }

  @Test
  void secretsFromFilesAndAPasswordInTheApiUrlNeverReachTheLog() throws Exception {
    String key = "k3y-" + System.nanoTime();
    Path keyFile = stateDir.resolve("api-key");
    Files.writeString(keyFile, key + "\n");
    ActorTestKit kit = ActorTestKit.create(AgentRuntime.pekkoConfig());
    DevSigmaApi api = new DevSigmaApi(0, key);
    try {
      String url =
          api.start(kit.system())
              .toCompletableFuture()
              .get(10, TimeUnit.SECONDS)
              .replace("http://", "http://agent:pa55word@");
      List<String> args = quietArgs();
      args.addAll(List.of("--api-url", url, "--log-level", "debug"));
      Agent agent =
          new Agent(args, "SIGMA_API_KEY_FILE", keyFile.toString(), "PEKKO_LOG_LEVEL", "DEBUG");
      agent.awaitLine("Registered with sigma-api as VPS");
      agent.process.toHandle().destroy();
      agent.awaitExit();
      assertTrue(agent.output().contains("DEBUG"), "debug logging was on");
      assertTrue(agent.output().contains("api-key=set"), agent.output());
      assertFalse(agent.output().contains(key), "the key leaked:\n" + agent.output());
      assertFalse(agent.output().contains("pa55word"), "the password leaked:\n" + agent.output());
    } finally {
      api.stop().toCompletableFuture().get(10, TimeUnit.SECONDS);
      kit.shutdownTestKit();
    }
  }

  @Test
  void anUnreadableSecretFileExitsWithStatusTwoAndOneLine() throws Exception {
    Agent agent = new Agent(List.of("--allocate-token-file", stateDir.resolve("nope").toString()));
    assertEquals(2, agent.awaitExit());
    assertEquals(
        List.of(
            "sigma-agent: invalid --allocate-token-file '"
                + stateDir.resolve("nope")
                + "': no such file"),
        agent.lines);
  }

  @Test
  void jarExists() {
    assertTrue(Files.isRegularFile(JAR), "the ITs run after `package`");
  }
}
