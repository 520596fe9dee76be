package io.sigma.agent.host;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.Charset;
import java.nio.charset.CodingErrorAction;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.Arrays;

/**
 * The one way the agent reads a file of the host ({@code <host-proc>/…}, the host-hostname file):
 * with a byte cap, and only if it is a regular file.
 *
 * <ul>
 *   <li>The type is checked <em>before</em> the file is opened, following symlinks ({@code
 *       /proc/net} and {@code /proc/self} are symlinks; one to {@code /dev/zero} is refused):
 *       open(2) of a FIFO blocks until a writer appears, and a device such as {@code /dev/zero}
 *       never ends. (A file swapped for a FIFO between the check and the open still blocks the
 *       reading thread; callers run reads on a blocking dispatcher with a timeout for that reason,
 *       and for file systems that stall.)
 *   <li>procfs files are regular files of size 0 whatever their length, so the size attribute
 *       cannot be trusted to be small: the content is read with a byte cap, and a file with more is
 *       refused. A file whose size attribute is already over the cap is refused unread.
 * </ul>
 *
 * Refusals are {@link HostFileRefusedException}s naming the file and the reason ("is a FIFO, not a
 * regular file", "is larger than 1 MiB"). Stateless; thread-safe.
 */
public final class HostFileReader {
  /**
   * The cap of most host files. The small proc files the agent reads are far below it: cpuinfo is
   * ~1.5-2.5 KB per logical CPU (a 1 MiB cpuinfo is a 400+ thread machine), meminfo ~1.5 KB, uptime
   * and loadavg under 100 bytes, if_inet6 54 bytes per address (~19,000 addresses), a hostname at
   * most 64 bytes, {@code /proc/<pid>/comm} 16 bytes.
   */
  public static final int DEFAULT_CAP = 1 << 20;

  /**
   * The cap of {@code /proc/net/fib_trie}: ~80 bytes per route of the Main table plus ~60 per local
   * address, so 4 MiB is ~50,000 routes, where a VPS has a handful and a container host a few
   * hundred. A host carrying a full BGP table (~1,000,000 routes, ~100 MB) is no small VPS; there
   * the file is refused and no IPv4 address is reported.
   */
  public static final int FIB_TRIE_CAP = 4 << 20;

  /**
   * The cap of {@code /proc/net/tcp} and {@code tcp6}: rows are 150 (tcp) and 178 (tcp6) bytes, so
   * 8 MiB is ~55,000 IPv4 or ~47,000 IPv6 sockets, more than a 512 MB VPS's kernel usefully holds
   * (each socket costs it kilobytes). A larger table is refused: the port scan then bind-tests the
   * range instead (same answer, slower) and attribution counts the listeners as unknown. It is held
   * in memory twice at worst (the scanner's buffer and the attributor's copy), so it must stay well
   * under the agent's 64 MB heap.
   */
  public static final int SOCKET_TABLE_CAP = 8 << 20;

  private static final int FIRST_CHUNK = 16 * 1024;

  /** Content read into a buffer that may be longer: the bytes are {@code data[0, length)}. */
  public record Bytes(byte[] data, int length) {}

  private HostFileReader() {}

  /** The whole content of {@code file}, at most {@code cap} bytes. */
  public static byte[] readBytes(Path file, int cap) throws IOException {
    Bytes read = read(file, cap, new byte[0]);
    return read.length() == read.data().length
        ? read.data()
        : Arrays.copyOf(read.data(), read.length());
  }

  /**
   * The whole content of {@code file}, at most {@code cap} bytes, decoded strictly (bytes that are
   * not {@code charset} text fail with a {@link CharacterCodingException}; ISO-8859-1 accepts every
   * byte).
   */
  public static String readString(Path file, int cap, Charset charset) throws IOException {
    Bytes read = read(file, cap, new byte[0]);
    return charset
        .newDecoder()
        .onMalformedInput(CodingErrorAction.REPORT)
        .onUnmappableCharacter(CodingErrorAction.REPORT)
        .decode(ByteBuffer.wrap(read.data(), 0, read.length()))
        .toString();
  }

  /**
   * Reads {@code file} into {@code buffer}, or into a larger buffer (at most {@code cap} + 1 bytes)
   * when it does not fit: callers that read the same file again keep the returned buffer.
   */
  public static Bytes read(Path file, int cap, byte[] buffer) throws IOException {
    if (cap < 0) {
      throw new IllegalArgumentException("cap must not be negative: " + cap);
    }
    requireRegularFile(file, cap);
    try (InputStream in = Files.newInputStream(file)) {
      byte[] data = buffer;
      int length = 0;
      while (true) {
        if (length == data.length) {
          if (length > cap) {
            throw tooLarge(file, cap);
          }
          // room for cap + 1 bytes at most: one byte past the cap proves the file is too long
          int grown = (int) Math.min((long) cap + 1, Math.max(FIRST_CHUNK, 2L * data.length));
          data = Arrays.copyOf(data, Math.max(grown, length + 1));
        }
        int n = in.read(data, length, data.length - length);
        if (n < 0) {
          return new Bytes(data, length);
        }
        length += n;
        if (length > cap) {
          throw tooLarge(file, cap);
        }
      }
    }
  }

  private static void requireRegularFile(Path file, int cap) throws IOException {
    BasicFileAttributes attributes = Files.readAttributes(file, BasicFileAttributes.class);
    if (!attributes.isRegularFile()) {
      throw new HostFileRefusedException(
          file, "is " + kind(file, attributes) + ", not a regular file");
    }
    if (attributes.size() > cap) {
      throw tooLarge(file, cap);
    }
  }

  private static HostFileRefusedException tooLarge(Path file, int cap) {
    return new HostFileRefusedException(
        file, "is larger than " + size(cap) + " (the most the agent reads from it)");
  }

  /** What a non-regular file is, from its st_mode where the platform shows it. */
  private static String kind(Path file, BasicFileAttributes attributes) {
    if (attributes.isDirectory()) {
      return "a directory";
    }
    try {
      int mode = (Integer) Files.getAttribute(file, "unix:mode");
      switch (mode & 0170000) {
        case 0010000:
          return "a FIFO";
        case 0020000:
          return "a character device";
        case 0060000:
          return "a block device";
        case 0140000:
          return "a socket";
        default:
          return "not a plain file";
      }
    } catch (IOException
        | UnsupportedOperationException
        | IllegalArgumentException
        | ClassCastException e) {
      return "a special file (FIFO, device or socket)";
    }
  }

  /** {@code 1048576} as "1 MiB"; other sizes in bytes. */
  static String size(int bytes) {
    return bytes % (1 << 20) == 0 && bytes > 0 ? (bytes >> 20) + " MiB" : bytes + " bytes";
  }
}
