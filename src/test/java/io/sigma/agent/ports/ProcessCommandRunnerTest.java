package io.sigma.agent.ports;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** Runs real (tiny) programs through /bin/sh. */
class ProcessCommandRunnerTest {

  @Test
  void capturesExitCodeStdoutAndStderrSeparately() throws IOException {
    CommandResult result =
        new ProcessCommandRunner()
            .run(List.of("sh", "-c", "echo out line; echo err line >&2; exit 3"));
    assertEquals(new CommandResult(3, "out line\n", "err line\n", false), result);
  }

  @Test
  void stdinIsClosedSoReadersDoNotHang() throws IOException {
    CommandResult result =
        new ProcessCommandRunner(Duration.ofSeconds(5), 1024).run(List.of("cat"));
    assertEquals(CommandResult.ok(""), result);
  }

  @Test
  void keepsOnlyTheFirstBytesOfALargeOutput() throws IOException {
    CommandResult result =
        new ProcessCommandRunner(Duration.ofSeconds(10), 1000)
            .run(List.of("sh", "-c", "head -c 300000 /dev/zero | tr '\\0' x"));
    assertEquals(0, result.exitCode(), "the writer was drained, not blocked");
    assertEquals("x".repeat(1000), result.stdout());
    assertTrue(result.truncated());
  }

  @Test
  void killsACommandThatOutlivesTheTimeout() throws Exception {
    ProcessCommandRunner runner = new ProcessCommandRunner(Duration.ofMillis(200), 1024);
    IOException e = assertThrows(IOException.class, () -> runner.run(List.of("sleep", "30")));
    assertTrue(e.getMessage().contains("did not finish within PT0.2S"), e.getMessage());
    // a surviving sleep would outlast this wait by 25 s and fail the test with a timeout
    for (ProcessHandle child : ProcessHandle.current().children().toList()) {
      if (child.info().command().orElse("").endsWith("/sleep")) {
        child.onExit().get(5, TimeUnit.SECONDS);
      }
    }
  }

  @Test
  void aMissingProgramIsAnIoException() {
    IOException e =
        assertThrows(
            IOException.class,
            () -> new ProcessCommandRunner().run(List.of("no-such-program-sigma-agent")));
    assertTrue(e.getMessage().contains("no-such-program-sigma-agent"), e.getMessage());
  }

  @Test
  void rejectsBadSettingsAndEmptyCommands() {
    assertThrows(IllegalArgumentException.class, () -> new ProcessCommandRunner(Duration.ZERO, 10));
    assertThrows(
        IllegalArgumentException.class, () -> new ProcessCommandRunner(Duration.ofSeconds(1), 0));
    assertThrows(IllegalArgumentException.class, () -> new ProcessCommandRunner().run(List.of()));
    assertFalse(CommandResult.ok("x").truncated());
  }
}
