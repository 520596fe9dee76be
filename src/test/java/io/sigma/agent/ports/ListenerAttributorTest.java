package io.sigma.agent.ports;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.sigma.agent.host.HostileProcRoot;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/**
 * Attribution on a fixture /proc (the captured tables, plus fd links made here) with canned ss and
 * nsenter answers. The real ss and /proc are in ListenerAttributorIT.
 */
class ListenerAttributorTest {
  private static final String NSENTER_DENIED =
      "nsenter: cannot open /proc/1/ns/mnt:" + " Permission denied";

  @TempDir Path procRoot;
  private final ListAppender<ILoggingEvent> log = new ListAppender<>();
  private final Logger logger = (Logger) LoggerFactory.getLogger(ListenerAttributor.class);

  /** Answers each command from a map; a missing entry is a program that is not installed. */
  static final class CannedRunner implements CommandRunner {
    final Map<List<String>, CommandResult> answers;
    final List<List<String>> calls = new ArrayList<>();

    CannedRunner(Map<List<String>, CommandResult> answers) {
      this.answers = answers;
    }

    @Override
    public CommandResult run(List<String> command) throws IOException {
      calls.add(command);
      CommandResult answer = answers.get(command);
      if (answer == null) {
        throw new IOException(
            "Cannot run program \"" + command.get(0) + "\": error=2, No such file or directory");
      }
      return answer;
    }
  }

  @BeforeEach
  void captureLog() {
    log.start();
    logger.addAppender(log);
  }

  @AfterEach
  void releaseLog() {
    logger.detachAppender(log);
  }

  void copyCapturedTables() throws IOException {
    Files.createDirectories(procRoot.resolve("net"));
    for (String table : List.of("tcp", "tcp6")) {
      try (InputStream in = getClass().getResourceAsStream("/ports/proc-captured/net/" + table)) {
        Files.copy(in, procRoot.resolve("net").resolve(table));
      }
    }
  }

  /** A fake process in the fixture /proc holding socket inodes at the given fds. */
  void fakeProcess(long pid, String comm, Map<Integer, Long> socketByFd) throws IOException {
    Path fdDir = Files.createDirectories(procRoot.resolve(Long.toString(pid)).resolve("fd"));
    Files.writeString(procRoot.resolve(Long.toString(pid)).resolve("comm"), comm + "\n");
    for (Map.Entry<Integer, Long> fd : socketByFd.entrySet()) {
      Files.createSymbolicLink(
          fdDir.resolve(fd.getKey().toString()), Path.of("socket:[" + fd.getValue() + "]"));
    }
  }

  static String ss(String fixture) throws IOException {
    return SsOutputParserTest.fixture(fixture);
  }

  List<ILoggingEvent> warnings() {
    return log.list.stream().filter(e -> e.getLevel() == Level.WARN).toList();
  }

  @Test
  void capturedSnapshotCountsNginxJavaAndOneUnnamedPort() throws IOException {
    copyCapturedTables();
    CannedRunner runner =
        new CannedRunner(
            Map.of(
                ListenerAttributor.SS,
                CommandResult.ok(ss("captured-tulnp-with-java.txt")),
                ListenerAttributor.HOST_SS,
                new CommandResult(1, "", NSENTER_DENIED + "\n", false)));
    ListenerAttributor attributor = new ListenerAttributor(runner, procRoot);

    ListenerOwners owners = attributor.owners();
    ListenerAttribution attribution = ListenerAttribution.of(owners);

    assertEquals(
        Set.of(2024, 20200, 20201, 20202, 20203, 20204, 20207, 20209, 20300, 20303),
        owners.usersByPort().keySet());
    assertEquals(Set.of(new SocketUser("java", 5953, 4)), owners.usersByPort().get(20300));
    assertEquals(
        Set.of(
            new SocketUser("nginx", 5952, 3),
            new SocketUser("nginx", 5950, 3),
            new SocketUser("nginx", 5952, 4),
            new SocketUser("nginx", 5950, 4)),
        owners.usersByPort().get(20200));
    assertEquals(Set.of(2024), owners.unnamedPorts());
    assertEquals(
        Map.of(
            ListenerSource.ENVOY,
            0,
            ListenerSource.SSHD,
            0,
            ListenerSource.NGINX,
            7,
            ListenerSource.NODE_EXPORTER,
            0,
            ListenerSource.XRAY,
            0,
            ListenerSource.OTHER,
            2,
            ListenerSource.UNKNOWN,
            1),
        attribution.countsBySource());
    assertEquals(Map.of("java", 2), attribution.otherByProcess());
    // port 2024 had no name: the host's ss was tried, then the (empty) fd walk
    assertEquals(List.of(ListenerAttributor.SS, ListenerAttributor.HOST_SS), runner.calls);
    assertEquals(1, warnings().size());
    String warning = warnings().get(0).getFormattedMessage();
    assertTrue(warning.contains(NSENTER_DENIED), warning);
    assertTrue(warning.contains("without a process name: [2024]"), warning);
  }

  @Test
  void whenSsNamesEveryPortNoFallbackRunsAndNothingIsLogged() throws IOException {
    Files.createDirectories(procRoot.resolve("net"));
    Files.writeString(
        procRoot.resolve("net/tcp"),
        String.join(
            "\n",
            "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid",
            "   0: 00000000:0016 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0"
                + "        0 501 1 0000000000000000 100 0 0 10 0",
            "   1: 00000000:0050 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0"
                + "        0 502 1 0000000000000000 100 0 0 10 0",
            "   2: 0100007F:0050 0100007F:D000 01 00000000:00000000 00:00000000 00000000     0"
                + "        0 503 1 0000000000000000 20 0 0 10 -1",
            ""));
    CannedRunner runner =
        new CannedRunner(
            Map.of(
                ListenerAttributor.SS,
                CommandResult.ok(
                    "Netid State Recv-Q Send-Q Local Address:Port Peer Address:Port Process\n"
                        + "tcp LISTEN 0 128 0.0.0.0:22 0.0.0.0:* users:((\"sshd\",pid=612,fd=3))\n"
                        + "tcp LISTEN 0 128 [::]:22 [::]:* users:((\"sshd\",pid=612,fd=4))\n"
                        + "tcp LISTEN 0 511 0.0.0.0:80 0.0.0.0:* users:((\"nginx\",pid=9,fd=6))\n"
                        + "tcp LISTEN 0 511 *:10000 *:* users:((\"envoy\",pid=7,fd=40))\n"
                        + "udp UNCONN 0 0 0.0.0.0:68 0.0.0.0:* users:((\"dhclient\",pid=5,fd=6))\n")));
    ListenerAttribution attribution = new ListenerAttributor(runner, procRoot).attribute();

    // 10000 is not in the fixture table (ss raced it): still counted; UDP 68 is not
    assertEquals(1, attribution.count(ListenerSource.SSHD));
    assertEquals(1, attribution.count(ListenerSource.NGINX));
    assertEquals(1, attribution.count(ListenerSource.ENVOY));
    assertEquals(0, attribution.count(ListenerSource.OTHER));
    assertEquals(0, attribution.count(ListenerSource.UNKNOWN));
    assertEquals(List.of(ListenerAttributor.SS), runner.calls);
    assertEquals(List.of(), warnings());
  }

  @Test
  void withoutSsTheFdWalkNamesTheListenersItCanRead() throws IOException {
    copyCapturedTables();
    fakeProcess(5953, "java", Map.of(4, 13410L, 8, 13415L, 0, 999L));
    fakeProcess(5952, "nginx", Map.of(3, 13389L, 4, 13390L, 14, 13399L));
    Files.createDirectories(procRoot.resolve("1"));
    Files.writeString(procRoot.resolve("1/fd"), "not a directory: stands for an unreadable fd dir");
    Files.createDirectories(procRoot.resolve("self"));
    CannedRunner runner = new CannedRunner(Map.of()); // neither ss nor nsenter installed

    ListenerAttributor attributor = new ListenerAttributor(runner, procRoot);
    ListenerOwners owners = attributor.owners();

    assertEquals(Set.of(new SocketUser("java", 5953, 4)), owners.usersByPort().get(20300));
    assertEquals(Set.of(new SocketUser("java", 5953, 8)), owners.usersByPort().get(20303));
    assertEquals(
        Set.of(new SocketUser("nginx", 5952, 3), new SocketUser("nginx", 5952, 4)),
        owners.usersByPort().get(20200));
    assertEquals(Set.of(2024, 20201, 20202, 20203, 20204, 20209), owners.unnamedPorts());
    ListenerAttribution attribution = ListenerAttribution.of(owners);
    assertEquals(2, attribution.count(ListenerSource.NGINX));
    assertEquals(Map.of("java", 2), attribution.otherByProcess());
    assertEquals(6, attribution.count(ListenerSource.UNKNOWN));
    assertEquals(List.of(ListenerAttributor.SS, ListenerAttributor.HOST_SS), runner.calls);
    String warning = warnings().get(0).getFormattedMessage();
    assertTrue(warning.contains("ss -tulnp could not run"), warning);
    assertTrue(warning.contains("could not read the open files of 1 process(es)"), warning);
  }

  @Test
  void theHostSsFillsInNamesTheLocalSsCouldNotSee() throws IOException {
    copyCapturedTables();
    CannedRunner runner =
        new CannedRunner(
            Map.of(
                ListenerAttributor.SS, CommandResult.ok(ss("captured-tuln-without-p.txt")),
                ListenerAttributor.HOST_SS, CommandResult.ok(ss("captured-tulnp-with-java.txt"))));
    ListenerOwners owners = new ListenerAttributor(runner, procRoot).owners();
    assertEquals(Set.of("nginx"), owners.namesOf(20209));
    assertEquals(Set.of("java"), owners.namesOf(20303));
    assertEquals(Set.of(2024), owners.unnamedPorts());
  }

  @Test
  void aFailingSsAndOddLinesDegradeToUnknownWithOneWarningPerAttributor() throws IOException {
    copyCapturedTables();
    CannedRunner failing =
        new CannedRunner(
            Map.of(
                ListenerAttributor.SS,
                new CommandResult(1, "", "Cannot open netlink socket\n", false),
                ListenerAttributor.HOST_SS,
                CommandResult.ok("complete garbage\n")));
    ListenerAttributor first = new ListenerAttributor(failing, procRoot);

    ListenerAttribution attribution = first.attribute();
    first.attribute();
    first.attribute();

    assertEquals(10, attribution.count(ListenerSource.UNKNOWN));
    assertEquals(1, warnings().size(), "one warning for three runs of one attributor");
    String warning = warnings().get(0).getFormattedMessage();
    assertTrue(warning.contains("ss -tulnp exited with 1 (Cannot open netlink socket)"), warning);
    assertTrue(
        warning.contains("1 line(s) it could not parse (first: 'complete garbage')"), warning);
    new ListenerAttributor(failing, procRoot).attribute();
    assertEquals(2, warnings().size(), "a second attributor warns once too: no static state");
  }

  @Test
  void withoutTablesTheListenersComeFromSs() throws IOException {
    CannedRunner runner =
        new CannedRunner(
            Map.of(ListenerAttributor.SS, CommandResult.ok(ss("handmade-tulnp-edge-cases.txt"))));
    ListenerAttribution attribution = new ListenerAttributor(runner, procRoot).attribute();
    assertEquals(
        Map.of(
            ListenerSource.ENVOY,
            1,
            ListenerSource.SSHD,
            1,
            ListenerSource.NGINX,
            1,
            ListenerSource.NODE_EXPORTER,
            1,
            ListenerSource.XRAY,
            1,
            ListenerSource.OTHER,
            2,
            ListenerSource.UNKNOWN,
            1),
        attribution.countsBySource());
    assertEquals(Map.of("my (app) x", 1, "postgres", 1), attribution.otherByProcess());
    String warning = warnings().get(0).getFormattedMessage();
    assertTrue(warning.contains("net/tcp (missing)"), warning);
    assertTrue(warning.contains("printed 8 line(s) it could not parse"), warning);
  }

  /**
   * A FIFO tcp, a tcp6 linked to /dev/zero and a FIFO comm: refused without blocking, named in the
   * warning; ss still names the listeners.
   */
  @Test
  @Timeout(value = 10, unit = TimeUnit.SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
  void specialFilesInPlaceOfTablesOrCommAreRefusedWithoutBlocking() throws Exception {
    Files.createDirectories(procRoot.resolve("net"));
    HostileProcRoot.mkfifo(procRoot.resolve("net/tcp"));
    Files.createSymbolicLink(procRoot.resolve("net/tcp6"), Path.of("/dev/zero"));
    CannedRunner runner =
        new CannedRunner(
            Map.of(ListenerAttributor.SS, CommandResult.ok(ss("handmade-tulnp-edge-cases.txt"))));
    ListenerAttribution attribution = new ListenerAttributor(runner, procRoot).attribute();
    assertEquals(1, attribution.count(ListenerSource.ENVOY), "ss still names the listeners");
    String warning = warnings().get(0).getFormattedMessage();
    assertTrue(
        warning.contains(
            "cannot read " + procRoot.resolve("net/tcp") + " (it is a FIFO, not a regular file)"),
        warning);
    assertTrue(
        warning.contains(
            "cannot read "
                + procRoot.resolve("net/tcp6")
                + " (it is a character device, not a regular file)"),
        warning);

    // the fd walk: a process whose comm is a FIFO is skipped as unreadable
    Files.delete(procRoot.resolve("net/tcp"));
    Files.delete(procRoot.resolve("net/tcp6"));
    copyCapturedTables();
    fakeProcess(5952, "nginx", Map.of(3, 13389L));
    Files.delete(procRoot.resolve("5952/comm"));
    HostileProcRoot.mkfifo(procRoot.resolve("5952/comm"));
    ListenerOwners owners = new ListenerAttributor(new CannedRunner(Map.of()), procRoot).owners();
    assertTrue(owners.unnamedPorts().contains(20200), owners.unnamedPorts().toString());
    String walkWarning = warnings().get(1).getFormattedMessage();
    assertTrue(walkWarning.contains("could not read the open files of 1 process(es)"), walkWarning);
  }

  @Test
  void nothingWorkingGivesAllZeroCountsNotAnException() {
    CommandRunner broken =
        command -> {
          throw new IllegalStateException("runner bug");
        };
    ListenerAttribution attribution = new ListenerAttributor(broken, procRoot).attribute();
    assertEquals(ListenerAttribution.none(), attribution);
    assertEquals(7, attribution.countsBySource().size());
    assertEquals(1, warnings().size());
  }
}
