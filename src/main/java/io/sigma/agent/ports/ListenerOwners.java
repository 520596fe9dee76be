package io.sigma.agent.ports;

import java.util.Collections;
import java.util.Map;
import java.util.Set;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.stream.Collectors;

/**
 * The listening TCP ports of the machine (its network namespace) and the processes holding each.
 *
 * @param usersByPort every listening port, with the processes found holding a listener on it (an
 *     empty set when none could be named)
 */
public record ListenerOwners(SortedMap<Integer, Set<SocketUser>> usersByPort) {
  public ListenerOwners {
    TreeMap<Integer, Set<SocketUser>> copy = new TreeMap<>();
    usersByPort.forEach((port, users) -> copy.put(port, Set.copyOf(users)));
    usersByPort = Collections.unmodifiableSortedMap(copy);
  }

  /** The distinct process names holding {@code port}, sorted; empty when none is known. */
  public Set<String> namesOf(int port) {
    return usersByPort.getOrDefault(port, Set.of()).stream()
        .map(SocketUser::name)
        .collect(Collectors.toCollection(TreeSet::new));
  }

  /** The listening ports no process could be named for. */
  public Set<Integer> unnamedPorts() {
    return usersByPort.entrySet().stream()
        .filter(e -> e.getValue().isEmpty())
        .map(Map.Entry::getKey)
        .collect(Collectors.toCollection(TreeSet::new));
  }
}
