package io.sigma.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sigma.agent.devapi.DevSigmaApi;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.ServerSocket;
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
 * The packaged agent as an operator runs it: the fat jar (built by `package` before the
 * integration tests) in its own JVM, stopped with SIGTERM.
 */
class AgentProcessIT {
  private static final Path JAR = Path.of("target/sigma-agent.jar");
  private final List<Process> processes = new ArrayList<>();

  @TempDir
  Path stateDir;

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
      reader = new Thread(() -> {
        try (BufferedReader r = new BufferedReader(
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
        assertTrue(System.nanoTime() < deadline && process.isAlive(),
            "no line with '" + text + "'; output:\n" + String.join("\n", lines));
        // Polls the collected output; the condition, not the pause, ends the wait.
        TimeUnit.MILLISECONDS.sleep(50);
      }
    }

    int awaitExit() throws InterruptedException {
      assertTrue(process.waitFor(30, TimeUnit.SECONDS), "still running:\n" + String.join("\n", lines));
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
    return new ArrayList<>(List.of("--public-ip-lookup=false", "--state-dir", stateDir.toString(),
        "--metrics-port", String.valueOf(freePort()), "--management-port", String.valueOf(freePort())));
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
      Agent agent = new Agent(args, "SIGMA_API_KEY", key, "AGENT_LOG_LEVEL", "DEBUG",
          "PEKKO_LOG_LEVEL", "DEBUG");
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
    assertEquals(List.of("sigma-agent: invalid --interval '0': must be between 1s and 24h"),
        agent.lines);
  }

  @Test
  void aBadEnvironmentValueExitsWithStatusTwo() throws Exception {
    Agent agent = new Agent(List.of(), "AGENT_PORT_SCAN_RANGE", "30000-10000");
    assertEquals(2, agent.awaitExit());
    assertEquals(1, agent.lines.size(), agent.output());
    assertTrue(agent.lines.get(0).startsWith(
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
  void aTakenMetricsPortStopsTheAgentWithStatusOne() throws Exception {
    try (ServerSocket taken = new ServerSocket(0)) {
      List<String> args = new ArrayList<>(List.of("--public-ip-lookup=false", "--state-dir",
          stateDir.toString(), "--management-port", "0", "--api-url", "http://127.0.0.1:9/api",
          "--metrics-port", String.valueOf(taken.getLocalPort()), "--metrics-bind", "0.0.0.0"));
      Agent agent = new Agent(args);
      assertEquals(1, agent.awaitExit());
      assertTrue(agent.output().contains("Could not start the metrics server"), agent.output());
      assertTrue(agent.output().contains("--metrics-port"), agent.output());
    }
  }

  @Test
  void jarExists() {
    assertTrue(Files.isRegularFile(JAR), "the ITs run after `package`");
  }
}
