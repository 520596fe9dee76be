package io.sigma.agent.host;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A proc root whose files would freeze or kill a naive reader, next to good ones (from the
 * "typical" fixture): a mistake or an attack on what is mounted as {@code --host-proc}.
 *
 * <ul>
 *   <li>{@code cpuinfo} is a FIFO nobody writes to (open(2) blocks for ever);
 *   <li>{@code meminfo} is a symlink to {@code /dev/zero} (never ends);
 *   <li>{@code loadavg} is a 50 MB sparse regular file;
 *   <li>{@code net/fib_trie} is a 3 GiB sparse regular file (reading it whole is an
 *       OutOfMemoryError in any JVM: no array is that long);
 *   <li>{@code uptime}, {@code net/if_inet6} and {@code sys/kernel/hostname} are good.
 * </ul>
 */
public final class HostileProcRoot {
  public static final long LOADAVG_BYTES = 50_000_000L;
  public static final long FIB_TRIE_BYTES = 3L << 30;

  private HostileProcRoot() {}

  /** Builds the proc root in {@code dir} (e.g. a JUnit temporary directory) and returns it. */
  public static Path create(Path dir) throws IOException, InterruptedException {
    Path typical = Fixtures.procRoot("typical");
    Files.createDirectories(dir.resolve("net"));
    Files.createDirectories(dir.resolve("sys/kernel"));
    for (String good : List.of("uptime", "net/if_inet6", "sys/kernel/hostname")) {
      Files.copy(typical.resolve(good), dir.resolve(good));
    }
    mkfifo(dir.resolve("cpuinfo"));
    Files.createSymbolicLink(dir.resolve("meminfo"), Path.of("/dev/zero"));
    sparse(dir.resolve("loadavg"), LOADAVG_BYTES);
    sparse(dir.resolve("net/fib_trie"), FIB_TRIE_BYTES);
    return dir;
  }

  /** A FIFO at {@code path}, made by mkfifo(1). */
  public static void mkfifo(Path path) throws IOException, InterruptedException {
    Process mkfifo = new ProcessBuilder("mkfifo", path.toString()).inheritIO().start();
    if (!mkfifo.waitFor(10, TimeUnit.SECONDS) || mkfifo.exitValue() != 0) {
      throw new IOException("mkfifo " + path + " failed");
    }
  }

  /** A regular file of {@code bytes} zero bytes that takes no disk space. */
  public static void sparse(Path path, long bytes) throws IOException {
    try (RandomAccessFile file = new RandomAccessFile(path.toFile(), "rw")) {
      file.setLength(bytes);
    }
  }
}
