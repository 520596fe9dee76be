package io.sigma.agent.ports;

import java.util.Collections;
import java.util.EnumMap;
import java.util.EnumSet;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * System-wide counts of listening TCP ports by who holds them, for {@code sigma_ports_used{source}}
 * and {@code sigma_ports_other_detail{process}}.
 *
 * <p>A port counts once per source holding it: {@code 0.0.0.0:22} and {@code [::]:22} of sshd make
 * one sshd port; a port that two kinds of process listen on (rare) counts for both. A port no
 * process could be named for counts as {@link ListenerSource#UNKNOWN}.
 *
 * @param countsBySource listening ports per source; every source present, 0 included
 * @param otherByProcess for {@link ListenerSource#OTHER}: listening ports per real process name
 */
public record ListenerAttribution(
    Map<ListenerSource, Integer> countsBySource, Map<String, Integer> otherByProcess) {

  public ListenerAttribution {
    EnumMap<ListenerSource, Integer> counts = new EnumMap<>(ListenerSource.class);
    for (ListenerSource source : ListenerSource.values()) {
      int count = countsBySource.getOrDefault(source, 0);
      if (count < 0) {
        throw new IllegalArgumentException("negative count for " + source + ": " + count);
      }
      counts.put(source, count);
    }
    countsBySource = Collections.unmodifiableMap(counts);
    for (Map.Entry<String, Integer> other : otherByProcess.entrySet()) {
      if (other.getValue() < 0) {
        throw new IllegalArgumentException(
            "negative count for process " + other.getKey() + ": " + other.getValue());
      }
    }
    otherByProcess = Collections.unmodifiableMap(new TreeMap<>(otherByProcess));
  }

  /** No listening ports: every source at 0. */
  public static ListenerAttribution none() {
    return new ListenerAttribution(Map.of(), Map.of());
  }

  /** Classifies every listening port's process names with {@link ProcessClassifier}. */
  public static ListenerAttribution of(ListenerOwners owners) {
    EnumMap<ListenerSource, Integer> counts = new EnumMap<>(ListenerSource.class);
    TreeMap<String, Integer> other = new TreeMap<>();
    for (int port : owners.usersByPort().keySet()) {
      Set<String> names = owners.namesOf(port);
      EnumSet<ListenerSource> sources = EnumSet.noneOf(ListenerSource.class);
      for (String name : names) {
        ListenerSource source = ProcessClassifier.classify(name);
        sources.add(source);
        if (source == ListenerSource.OTHER) {
          other.merge(name, 1, Integer::sum);
        }
      }
      if (sources.isEmpty()) {
        sources.add(ListenerSource.UNKNOWN);
      }
      sources.forEach(source -> counts.merge(source, 1, Integer::sum));
    }
    return new ListenerAttribution(counts, other);
  }

  /** Listening ports held by {@code source}. */
  public int count(ListenerSource source) {
    return countsBySource.get(source);
  }
}
