package io.sigma.agent.host;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The bounded reader against real special files. Tests that would block for ever without the type
 * check carry a timeout, so a regression fails instead of hanging the build.
 */
class HostFileReaderTest {

  @Test
  void readsARegularFile(@TempDir Path dir) throws Exception {
    Path file = Files.writeString(dir.resolve("loadavg"), "0.12 0.08 0.01 1/123 4567\n");
    assertEquals(
        "0.12 0.08 0.01 1/123 4567\n",
        HostFileReader.readString(file, HostFileReader.DEFAULT_CAP, StandardCharsets.ISO_8859_1));
  }

  @Test
  @Timeout(value = 10, unit = TimeUnit.SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
  void aFifoIsRefusedWithoutOpeningIt(@TempDir Path dir) throws Exception {
    Path fifo = dir.resolve("cpuinfo");
    HostileProcRoot.mkfifo(fifo);
    HostFileRefusedException e =
        assertThrows(
            HostFileRefusedException.class,
            () -> HostFileReader.readBytes(fifo, HostFileReader.DEFAULT_CAP));
    assertEquals(fifo + " is a FIFO, not a regular file", e.getMessage());
    assertEquals("is a FIFO, not a regular file", e.problem());
    assertEquals(fifo, e.file());
  }

  @Test
  @Timeout(value = 10, unit = TimeUnit.SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
  void aSymlinkToDevZeroIsRefused(@TempDir Path dir) throws Exception {
    Path link = Files.createSymbolicLink(dir.resolve("meminfo"), Path.of("/dev/zero"));
    HostFileRefusedException e =
        assertThrows(
            HostFileRefusedException.class,
            () ->
                HostFileReader.readString(
                    link, HostFileReader.DEFAULT_CAP, StandardCharsets.ISO_8859_1));
    assertEquals(link + " is a character device, not a regular file", e.getMessage());
  }

  @Test
  void aSymlinkToARegularFileIsFollowed(@TempDir Path dir) throws Exception {
    Path target = Files.writeString(dir.resolve("real-uptime"), "12.5 3.0\n");
    Path link = Files.createSymbolicLink(dir.resolve("uptime"), target);
    assertEquals("12.5 3.0\n", HostFileReader.readString(link, 100, StandardCharsets.ISO_8859_1));
  }

  @Test
  void aDanglingSymlinkIsAMissingFile(@TempDir Path dir) throws Exception {
    Path link = Files.createSymbolicLink(dir.resolve("uptime"), dir.resolve("nowhere"));
    assertThrows(NoSuchFileException.class, () -> HostFileReader.readBytes(link, 100));
  }

  @Test
  void aDirectoryIsRefused(@TempDir Path dir) throws Exception {
    Path sub = Files.createDirectory(dir.resolve("host_hostname"));
    HostFileRefusedException e =
        assertThrows(HostFileRefusedException.class, () -> HostFileReader.readBytes(sub, 100));
    assertEquals(sub + " is a directory, not a regular file", e.getMessage());
  }

  @Test
  void aHugeSparseFileIsRefusedUnread(@TempDir Path dir) throws Exception {
    Path loadavg = dir.resolve("loadavg");
    HostileProcRoot.sparse(loadavg, HostileProcRoot.LOADAVG_BYTES);
    HostFileRefusedException e =
        assertThrows(
            HostFileRefusedException.class,
            () -> HostFileReader.readBytes(loadavg, HostFileReader.DEFAULT_CAP));
    assertEquals(
        loadavg + " is larger than 1 MiB (the most the agent reads from it)", e.getMessage());
  }

  @Test
  void exactlyTheCapIsReadOneByteMoreIsRefused(@TempDir Path dir) throws Exception {
    byte[] content = new byte[1000];
    content[999] = '\n';
    Path atCap = Files.write(dir.resolve("at-cap"), content);
    assertArrayEquals(content, HostFileReader.readBytes(atCap, 1000));
    Path overCap = Files.write(dir.resolve("over-cap"), new byte[1001]);
    HostFileRefusedException e =
        assertThrows(HostFileRefusedException.class, () -> HostFileReader.readBytes(overCap, 1000));
    assertEquals("is larger than 1000 bytes (the most the agent reads from it)", e.problem());
  }

  /**
   * procfs reports size 0 for a file of any length: the cap is enforced on the bytes read, not on
   * the size attribute.
   */
  @Test
  void aProcFileReportingSizeZeroIsStillCappedWhileReading() throws Exception {
    Path cpuinfo = Path.of("/proc/cpuinfo");
    assertEquals(0, Files.size(cpuinfo), "procfs reports size 0");
    int length = HostFileReader.readBytes(cpuinfo, HostFileReader.DEFAULT_CAP).length;
    assertTrue(length > 10, "cpuinfo has " + length + " bytes");
    HostFileRefusedException e =
        assertThrows(HostFileRefusedException.class, () -> HostFileReader.readBytes(cpuinfo, 10));
    assertEquals("is larger than 10 bytes (the most the agent reads from it)", e.problem());
  }

  @Test
  void aBufferThatFitsIsReusedAndOneThatDoesNotIsGrown(@TempDir Path dir) throws Exception {
    Path file = Files.writeString(dir.resolve("tcp"), "0123456789");
    byte[] buffer = new byte[64];
    HostFileReader.Bytes read = HostFileReader.read(file, 100, buffer);
    assertSame(buffer, read.data());
    assertEquals(10, read.length());
    HostFileReader.Bytes grown = HostFileReader.read(file, 100, new byte[4]);
    assertEquals(10, grown.length());
    assertEquals(
        "0123456789", new String(grown.data(), 0, grown.length(), StandardCharsets.US_ASCII));
  }

  @Test
  void textThatIsNotInTheCharsetFails(@TempDir Path dir) throws Exception {
    Path file =
        Files.write(dir.resolve("host_hostname"), new byte[] {(byte) 0xff, (byte) 0xfe, 'a'});
    assertThrows(
        CharacterCodingException.class,
        () -> HostFileReader.readString(file, 100, StandardCharsets.UTF_8));
    assertEquals(
        "\u00ff\u00fea", HostFileReader.readString(file, 100, StandardCharsets.ISO_8859_1));
  }
}
