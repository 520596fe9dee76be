package io.sigma.agent.ports;

import io.sigma.agent.host.HostFileReader;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Finds the processes that hold given socket inodes by walking {@code <proc>/<pid>/fd}: each socket
 * descriptor is a symlink to {@code socket:[inode]}; the process name is {@code <proc>/<pid>/comm}.
 * The last resort of {@link ListenerAttributor} when {@code ss} cannot name a listener. Processes
 * whose fds cannot be read (another user without root, another namespace) are counted and skipped.
 * Stateless.
 */
final class ProcSocketOwners {

  /**
   * @param owners the holders found, by inode (inodes nobody was found for are absent)
   * @param unreadableProcesses processes whose fd directory or name could not be read
   */
  record Found(Map<Long, List<SocketUser>> owners, int unreadableProcesses) {}

  private static final String SOCKET_PREFIX = "socket:[";

  private ProcSocketOwners() {}

  /**
   * Walks every process until each inode has a holder (a socket shared by several processes, like
   * nginx's, may thus list only some of them: one name is all the attribution needs).
   */
  static Found find(Path procRoot, Set<Long> inodes) throws IOException {
    Map<Long, List<SocketUser>> owners = new HashMap<>();
    Set<Long> missing = new HashSet<>(inodes);
    int unreadable = 0;
    try (DirectoryStream<Path> processes =
        Files.newDirectoryStream(procRoot, entry -> isNumber(entry.getFileName().toString()))) {
      for (Path process : processes) {
        if (missing.isEmpty()) {
          break;
        }
        long pid = Long.parseLong(process.getFileName().toString());
        List<long[]> held = new ArrayList<>(); // {inode, fd}
        boolean deniedLinks = false;
        try (DirectoryStream<Path> fds = Files.newDirectoryStream(process.resolve("fd"))) {
          for (Path fd : fds) {
            long inode;
            try {
              inode = socketInode(Files.readSymbolicLink(fd).toString());
            } catch (NoSuchFileException e) {
              continue; // closed since the listing
            } catch (IOException e) {
              deniedLinks = true; // the listing is allowed, the links are not (another user)
              continue;
            }
            if (inode >= 0 && missing.contains(inode)) {
              held.add(new long[] {inode, parseFd(fd.getFileName().toString())});
            }
          }
        } catch (IOException e) {
          unreadable++; // permission denied, not a directory, or the process just exited
          continue;
        }
        if (deniedLinks) {
          unreadable++;
        }
        if (held.isEmpty()) {
          continue;
        }
        String name;
        try {
          name =
              HostFileReader.readString(
                      process.resolve("comm"), HostFileReader.DEFAULT_CAP, StandardCharsets.UTF_8)
                  .strip();
        } catch (IOException e) {
          unreadable++;
          continue;
        }
        for (long[] socket : held) {
          owners
              .computeIfAbsent(socket[0], k -> new ArrayList<>())
              .add(new SocketUser(name, pid, (int) socket[1]));
          missing.remove(socket[0]);
        }
      }
    }
    return new Found(owners, unreadable);
  }

  /** The inode of a {@code socket:[N]} fd link target, or -1 for anything else. */
  private static long socketInode(String target) {
    if (!target.startsWith(SOCKET_PREFIX) || !target.endsWith("]")) {
      return -1;
    }
    String number = target.substring(SOCKET_PREFIX.length(), target.length() - 1);
    return isNumber(number) && number.length() < 19 ? Long.parseLong(number) : -1;
  }

  private static int parseFd(String name) {
    return isNumber(name) && name.length() < 10 ? Integer.parseInt(name) : -1;
  }

  private static boolean isNumber(String text) {
    if (text.isEmpty()) {
      return false;
    }
    for (int i = 0; i < text.length(); i++) {
      char c = text.charAt(i);
      if (c < '0' || c > '9') {
        return false;
      }
    }
    return true;
  }
}
