package io.sigma.agent.ports;

import java.io.ByteArrayOutputStream;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Runs commands with {@link ProcessBuilder}: stdin closed, stdout and stderr each read by a
 * short-lived thread into at most {@code maxOutputBytes} (the rest is drained and dropped), and the
 * process (with its descendants) killed when it outlives {@code timeout}. Thread-safe.
 */
public final class ProcessCommandRunner implements CommandRunner {
  /** Generous for {@code ss -tulnp} on a VPS, tight enough not to stall a scan loop. */
  public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(5);

  /** Far above what {@code ss -tulnp} prints for thousands of listeners. */
  public static final int DEFAULT_MAX_OUTPUT_BYTES = 4 * 1024 * 1024;

  private final Duration timeout;
  private final int maxOutputBytes;

  public ProcessCommandRunner() {
    this(DEFAULT_TIMEOUT, DEFAULT_MAX_OUTPUT_BYTES);
  }

  public ProcessCommandRunner(Duration timeout, int maxOutputBytes) {
    if (timeout.isNegative() || timeout.isZero()) {
      throw new IllegalArgumentException("timeout must be positive: " + timeout);
    }
    if (maxOutputBytes <= 0) {
      throw new IllegalArgumentException("maxOutputBytes must be positive: " + maxOutputBytes);
    }
    this.timeout = timeout;
    this.maxOutputBytes = maxOutputBytes;
  }

  @Override
  public CommandResult run(List<String> command) throws IOException {
    if (command.isEmpty()) {
      throw new IllegalArgumentException("empty command");
    }
    Process process =
        new ProcessBuilder(command)
            .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
            .start();
    BoundedReader stdout = new BoundedReader(process.getInputStream(), maxOutputBytes);
    BoundedReader stderr = new BoundedReader(process.getErrorStream(), maxOutputBytes);
    Thread outThread = start(stdout, command, "stdout");
    Thread errThread = start(stderr, command, "stderr");
    try {
      if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
        process.descendants().forEach(ProcessHandle::destroyForcibly);
        process.destroyForcibly();
        throw new IOException(
            String.join(" ", command) + " did not finish within " + timeout + "; killed it");
      }
      // the pipes close with the process; a descendant holding them open is not waited for
      outThread.join(timeout.toMillis());
      errThread.join(timeout.toMillis());
    } catch (InterruptedException e) {
      process.destroyForcibly();
      Thread.currentThread().interrupt();
      throw new IOException("interrupted while running " + String.join(" ", command), e);
    }
    return new CommandResult(
        process.exitValue(),
        stdout.text(),
        stderr.text(),
        stdout.truncated() || stderr.truncated());
  }

  private static Thread start(BoundedReader reader, List<String> command, String stream) {
    Thread thread = new Thread(reader, "command-" + stream + "-" + command.get(0));
    thread.setDaemon(true);
    thread.start();
    return thread;
  }

  /** Reads a stream to its end, keeping the first {@code limit} bytes. */
  private static final class BoundedReader implements Runnable {
    private final InputStream in;
    private final int limit;
    private final ByteArrayOutputStream kept = new ByteArrayOutputStream();
    private boolean truncated;

    BoundedReader(InputStream in, int limit) {
      this.in = in;
      this.limit = limit;
    }

    @Override
    public void run() {
      byte[] chunk = new byte[8192];
      try (in) {
        int n;
        while ((n = in.read(chunk)) >= 0) {
          synchronized (this) {
            int keep = Math.min(n, limit - kept.size());
            if (keep > 0) {
              kept.write(chunk, 0, keep);
            }
            if (keep < n) {
              truncated = true;
            }
          }
        }
      } catch (IOException e) {
        // the process went away (killed on timeout): keep what was read
      }
    }

    synchronized String text() {
      return kept.toString(StandardCharsets.UTF_8);
    }

    synchronized boolean truncated() {
      return truncated;
    }
  }
}
