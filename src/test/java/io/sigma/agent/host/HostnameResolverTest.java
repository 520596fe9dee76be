package io.sigma.agent.host;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.Level;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

class HostnameResolverTest {
  private static final Path TYPICAL = Fixtures.procRoot("typical");
  private static final Path BLANK =
      Fixtures.procRoot("malformed"); // sys/kernel/hostname is blank lines

  @Test
  void theConfiguredValueWinsTrimmed(@TempDir Path dir) throws Exception {
    Path hostFile = Files.writeString(dir.resolve("host_hostname"), "from-file\n");
    assertEquals("relay-x", new HostnameResolver("  relay-x \n", hostFile, TYPICAL).resolve());
  }

  @Test
  void blankConfiguredValueFallsBackToTheFirstNonBlankLineOfTheHostFile(@TempDir Path dir)
      throws Exception {
    Path hostFile =
        Files.writeString(dir.resolve("host_hostname"), "\n   \n  relay-a  \nsecond-line\n");
    assertEquals("relay-a", new HostnameResolver("   ", hostFile, TYPICAL).resolve());
    assertEquals("relay-a", new HostnameResolver(null, hostFile, TYPICAL).resolve());
  }

  @Test
  void missingHostFileFallsBackToTheKernelHostnameSilently(@TempDir Path dir) {
    try (LogCapture logs = new LogCapture(HostnameResolver.class)) {
      assertEquals(
          "relay-hk-01", new HostnameResolver(null, dir.resolve("absent"), TYPICAL).resolve());
      assertEquals(List.of(), logs.messages(Level.WARN));
    }
  }

  @Test
  void blankHostFileFallsBackToTheKernelHostname(@TempDir Path dir) throws Exception {
    Path hostFile = Files.writeString(dir.resolve("host_hostname"), " \n\t\n");
    assertEquals("relay-hk-01", new HostnameResolver(null, hostFile, TYPICAL).resolve());
  }

  @Test
  void aDirectoryMountedInPlaceOfTheHostFileIsWarnedOnceAndSkipped(@TempDir Path dir)
      throws Exception {
    // docker -v /etc/hostname:/etc/host_hostname creates a directory when the source is missing
    Path hostFile = Files.createDirectory(dir.resolve("host_hostname"));
    try (LogCapture logs = new LogCapture(HostnameResolver.class)) {
      HostnameResolver resolver = new HostnameResolver(null, hostFile, TYPICAL);
      assertEquals("relay-hk-01", resolver.resolve());
      assertEquals("relay-hk-01", resolver.resolve());
      List<String> warnings = logs.messages(Level.WARN);
      assertEquals(1, warnings.size(), warnings.toString());
      assertTrue(warnings.get(0).contains(hostFile.toString()), warnings.get(0));
    }
  }

  /**
   * docker -v of a FIFO or a device onto /etc/host_hostname: skipped with a warning, not hung on.
   */
  @Test
  @Timeout(value = 10, unit = TimeUnit.SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
  void aFifoOrDeviceHostFileIsSkippedWithoutBlocking(@TempDir Path dir) throws Exception {
    Path fifo = dir.resolve("host_hostname");
    HostileProcRoot.mkfifo(fifo);
    Path zero = Files.createSymbolicLink(dir.resolve("zero_hostname"), Path.of("/dev/zero"));
    try (LogCapture logs = new LogCapture(HostnameResolver.class)) {
      assertEquals("relay-hk-01", new HostnameResolver(null, fifo, TYPICAL).resolve());
      assertEquals("relay-hk-01", new HostnameResolver(null, zero, TYPICAL).resolve());
      assertEquals(
          List.of(
              "hostname: cannot read "
                  + fifo
                  + ": it is a FIFO, not a regular file; trying the next source",
              "hostname: cannot read "
                  + zero
                  + ": it is a character device, not a regular file; trying the next source"),
          logs.messages(Level.WARN));
    }
  }

  @Test
  void undecodableHostFileIsSkipped(@TempDir Path dir) throws Exception {
    Path hostFile =
        Files.write(dir.resolve("host_hostname"), new byte[] {(byte) 0xff, (byte) 0xfe, 'a', '\n'});
    assertEquals("relay-hk-01", new HostnameResolver(null, hostFile, TYPICAL).resolve());
  }

  @Test
  void blankKernelHostnameFallsBackToTheJdk(@TempDir Path dir) {
    assertEquals(
        "jdk-name",
        new HostnameResolver(null, dir.resolve("absent"), BLANK, () -> Optional.of(" jdk-name "))
            .resolve());
  }

  @Test
  void nothingAnywhereGivesLocalhostWithOneWarning(@TempDir Path dir) {
    try (LogCapture logs = new LogCapture(HostnameResolver.class)) {
      HostnameResolver resolver =
          new HostnameResolver("", dir.resolve("absent"), dir, Optional::empty);
      assertEquals("localhost", resolver.resolve());
      assertEquals("localhost", resolver.resolve());
      List<String> warnings = logs.messages(Level.WARN);
      assertEquals(1, warnings.size(), warnings.toString());
      assertTrue(warnings.get(0).contains("--hostname"), warnings.get(0));
    }
  }

  @Test
  void aBlankJdkAnswerAlsoGivesLocalhost(@TempDir Path dir) {
    assertEquals(
        "localhost",
        new HostnameResolver(null, dir.resolve("absent"), dir, () -> Optional.of("  ")).resolve());
  }

  /** This machine: the kernel's node name as `uname -n` prints it. */
  @Test
  void realProcGivesTheKernelNodeName(@TempDir Path dir) throws Exception {
    Process uname = new ProcessBuilder("uname", "-n").redirectErrorStream(true).start();
    assertTrue(uname.waitFor(10, TimeUnit.SECONDS), "uname -n did not finish");
    String expected =
        new String(uname.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
    assertEquals(
        expected, new HostnameResolver(null, dir.resolve("absent"), Path.of("/proc")).resolve());
  }

  /** No files at all: the real JDK look-up (or localhost when this machine cannot name itself). */
  @Test
  void realJdkFallback(@TempDir Path dir) {
    String expected;
    try {
      expected = InetAddress.getLocalHost().getHostName().trim();
    } catch (UnknownHostException e) {
      expected = "localhost";
    }
    assertEquals(expected, new HostnameResolver(null, dir.resolve("absent"), dir).resolve());
  }
}
