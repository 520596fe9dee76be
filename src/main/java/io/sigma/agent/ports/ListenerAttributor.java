package io.sigma.agent.ports;

import io.sigma.agent.host.HostFileReader;
import io.sigma.agent.host.HostFileRefusedException;
import java.io.IOException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Names the processes behind every listening TCP port of the machine, for the per-source counts.
 * Never throws: whatever fails degrades to source "unknown".
 *
 * <ol>
 *   <li>The listening ports are the LISTEN rows of {@code <proc>/net/tcp} and {@code tcp6} (with
 *       their socket inodes), plus any TCP listener {@code ss} shows.
 *   <li>{@code ss -tulnp} names most of them ({@code users:(("sshd",pid=612,fd=3))}).
 *   <li>For ports still unnamed (ss is missing, or the agent lacks the rights to see other
 *       processes' sockets): {@code nsenter -t 1 -m -- ss -tulnp}, i.e. the host's ss.
 *   <li>Then the fd walk ({@link ProcSocketOwners}): {@code <proc>/<pid>/fd} links {@code
 *       socket:[inode]} matched against the listeners' inodes, named from {@code
 *       <proc>/<pid>/comm}.
 *   <li>Ports nobody could be named for count as {@link ListenerSource#UNKNOWN}.
 * </ol>
 *
 * A missing {@code ss}, a failing {@code nsenter}, permission errors, odd output lines or unnamed
 * ports produce ONE warning per attributor (listing what failed); later ones are logged at debug.
 * Thread-safe.
 */
public final class ListenerAttributor {
  private static final Logger LOG = LoggerFactory.getLogger(ListenerAttributor.class);
  public static final List<String> SS = List.of("ss", "-tulnp");
  public static final List<String> HOST_SS =
      List.of("nsenter", "-t", "1", "-m", "--", "ss", "-tulnp");
  private static final int MAX_PORTS_LOGGED = 20;

  private final CommandRunner runner;
  private final Path procRoot;
  private boolean warned;

  /**
   * @param runner runs {@code ss} and {@code nsenter}
   * @param procRoot where the host's procfs is mounted, normally {@code /proc}
   */
  public ListenerAttributor(CommandRunner runner, Path procRoot) {
    this.runner = Objects.requireNonNull(runner, "runner");
    this.procRoot = Objects.requireNonNull(procRoot, "procRoot");
  }

  /** Counts of the listening ports by source, now. */
  public ListenerAttribution attribute() {
    return ListenerAttribution.of(owners());
  }

  /** Every listening port and the processes found holding it, now. */
  public synchronized ListenerOwners owners() {
    List<String> problems = new ArrayList<>();
    TreeMap<Integer, Set<SocketUser>> users = new TreeMap<>();
    TreeMap<Long, Integer> portByInode = new TreeMap<>();
    readListenTables(users, portByInode, problems);

    SsOutput ss = runSs(SS, problems);
    if (ss != null) {
      addListeners(ss, users, true);
    }
    if (hasUnnamed(users)) {
      SsOutput hostSs = runSs(HOST_SS, problems);
      if (hostSs != null) {
        addListeners(hostSs, users, false);
      }
    }
    if (hasUnnamed(users) && !portByInode.isEmpty()) {
      walkFds(users, portByInode, problems);
    }

    ListenerOwners owners = new ListenerOwners(users);
    Set<Integer> unnamed = owners.unnamedPorts();
    if (!unnamed.isEmpty()) {
      problems.add(
          unnamed.size()
              + " listening port(s) without a process name: "
              + (unnamed.size() <= MAX_PORTS_LOGGED
                  ? unnamed.toString()
                  : unnamed.stream().limit(MAX_PORTS_LOGGED).toList() + " and more"));
    }
    if (!problems.isEmpty()) {
      report(problems);
    }
    return owners;
  }

  private void report(List<String> problems) {
    String text = String.join("; ", problems);
    if (!warned) {
      warned = true;
      LOG.warn(
          "attributing listening ports to processes: {}. Those ports count as source"
              + " 'unknown'; further problems like these are logged at debug level",
          text);
    } else {
      LOG.debug("attributing listening ports: {}", text);
    }
  }

  private void readListenTables(
      TreeMap<Integer, Set<SocketUser>> users,
      TreeMap<Long, Integer> portByInode,
      List<String> problems) {
    for (String table : List.of("tcp", "tcp6")) {
      Path file = procRoot.resolve("net").resolve(table);
      byte[] data;
      try {
        data = HostFileReader.readBytes(file, HostFileReader.SOCKET_TABLE_CAP);
      } catch (NoSuchFileException e) {
        if (table.equals("tcp")) {
          problems.add("cannot read " + file + " (missing)");
        }
        continue;
      } catch (IOException e) {
        problems.add(
            "cannot read "
                + file
                + " ("
                + (e instanceof HostFileRefusedException refused
                    ? "it " + refused.problem()
                    : e.getMessage())
                + ")");
        continue;
      }
      ProcNetTcpParser.parse(
          data,
          data.length,
          (address, port, state, inode) -> {
            if (state == TcpState.LISTEN) {
              users.computeIfAbsent(port, p -> new HashSet<>());
              if (inode != 0) {
                portByInode.put(inode, port);
              }
            }
          });
    }
  }

  /** Runs an ss command; null (with a problem noted) when it could not give an answer. */
  private SsOutput runSs(List<String> command, List<String> problems) {
    String name = String.join(" ", command);
    CommandResult result;
    try {
      result = runner.run(command);
    } catch (IOException | RuntimeException e) {
      problems.add(name + " could not run (" + e.getMessage() + ")");
      return null;
    }
    if (result.exitCode() != 0) {
      problems.add(name + " exited with " + result.exitCode() + firstLine(result.stderr()));
      return null;
    }
    SsOutput output = SsOutputParser.parse(result.stdout());
    if (output.oddLines() > 0) {
      problems.add(
          name
              + " printed "
              + output.oddLines()
              + " line(s) it could not parse (first: '"
              + output.firstOddLine()
              + "')");
    }
    if (result.truncated()) {
      problems.add(name + " printed more than the runner keeps; the rest was dropped");
    }
    return output;
  }

  /**
   * Adds the TCP listeners of an ss output: their users for every port, and (for the primary ss,
   * which sees the same network namespace as the tables) ports the tables missed. The host ss only
   * fills in names of ports still unnamed.
   */
  private static void addListeners(
      SsOutput output, TreeMap<Integer, Set<SocketUser>> users, boolean addPorts) {
    for (SsListener listener : output.sockets()) {
      if (!listener.isTcpListener()) {
        continue;
      }
      Set<SocketUser> known = users.get(listener.localPort());
      if (known == null) {
        if (!addPorts) {
          continue;
        }
        known = new HashSet<>();
        users.put(listener.localPort(), known);
      } else if (!addPorts && !known.isEmpty()) {
        continue;
      }
      known.addAll(listener.users());
    }
  }

  private void walkFds(
      TreeMap<Integer, Set<SocketUser>> users,
      TreeMap<Long, Integer> portByInode,
      List<String> problems) {
    Set<Integer> unnamed =
        users.entrySet().stream()
            .filter(e -> e.getValue().isEmpty())
            .map(Map.Entry::getKey)
            .collect(Collectors.toSet());
    Set<Long> wanted =
        portByInode.entrySet().stream()
            .filter(e -> unnamed.contains(e.getValue()))
            .map(Map.Entry::getKey)
            .collect(Collectors.toSet());
    ProcSocketOwners.Found found;
    try {
      found = ProcSocketOwners.find(procRoot, wanted);
    } catch (IOException | RuntimeException e) {
      problems.add("cannot walk " + procRoot + " for socket owners (" + e.getMessage() + ")");
      return;
    }
    found.owners().forEach((inode, holders) -> users.get(portByInode.get(inode)).addAll(holders));
    if (found.unreadableProcesses() > 0 && found.owners().size() < wanted.size()) {
      problems.add(
          "could not read the open files of "
              + found.unreadableProcesses()
              + " process(es) under "
              + procRoot);
    }
  }

  private static boolean hasUnnamed(TreeMap<Integer, Set<SocketUser>> users) {
    return users.values().stream().anyMatch(Set::isEmpty);
  }

  private static String firstLine(String text) {
    String line = text.strip().lines().findFirst().orElse("");
    return line.isEmpty() ? "" : " (" + line + ")";
  }
}
