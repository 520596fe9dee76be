package io.sigma.agent.xds;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.Consumer;
import java.util.function.Function;

/**
 * A map from resource name to what one delta stream knows of it (the version Envoy holds, the
 * Clusters a Listener may use), kept as a shared <em>base</em> (a {@link DeltaSnapshotIndex} map,
 * the same instance for every stream of the node) plus this stream's own differences. A stream in
 * sync with the node's snapshot has no differences, so its view costs next to nothing however many
 * resources the node has. Not thread-safe (one stream, one thread at a time).
 *
 * @param <B> the base map's values
 * @param <V> the view's values ({@code valueOf} of a base value)
 */
final class DeltaView<B, V> {

  private final Function<B, V> valueOf;
  private Map<String, B> base = Map.of();

  /** This stream's differences from {@link #base}; a null value: not held, though base has it. */
  private final Map<String, V> overlay = new HashMap<>();

  DeltaView(Function<B, V> valueOf) {
    this.valueOf = valueOf;
  }

  /** The value of {@code name}, null when not held. */
  V get(String name) {
    V own = overlay.get(name);
    if (own != null || overlay.containsKey(name)) {
      return own;
    }
    B shared = base.get(name);
    return shared == null ? null : valueOf.apply(shared);
  }

  boolean contains(String name) {
    return get(name) != null;
  }

  void put(String name, V value) {
    Objects.requireNonNull(value, "value");
    B shared = base.get(name);
    if (shared != null && value.equals(valueOf.apply(shared))) {
      overlay.remove(name);
    } else {
      overlay.put(name, value);
    }
  }

  void remove(String name) {
    if (base.containsKey(name)) {
      overlay.put(name, null);
    } else {
      overlay.remove(name);
    }
  }

  /** The names held, in no set order; a copy, so the view may change while it is walked. */
  List<String> names() {
    List<String> names = new ArrayList<>(base.size() + overlay.size());
    for (String name : base.keySet()) {
      if (!overlay.containsKey(name)) {
        names.add(name);
      }
    }
    overlay.forEach(
        (name, value) -> {
          if (value != null) {
            names.add(name);
          }
        });
    return names;
  }

  void forEachValue(Consumer<V> action) {
    base.forEach(
        (name, shared) -> {
          if (!overlay.containsKey(name)) {
            action.accept(valueOf.apply(shared));
          }
        });
    overlay
        .values()
        .forEach(
            value -> {
              if (value != null) {
                action.accept(value);
              }
            });
  }

  /** The same content, expressed as differences from {@code newBase}. */
  void rebase(Map<String, B> newBase) {
    if (newBase == base) {
      return;
    }
    Map<String, V> content = new HashMap<>();
    for (String name : names()) {
      content.put(name, get(name));
    }
    base = newBase;
    overlay.clear();
    content.forEach(this::put);
    for (String name : newBase.keySet()) {
      if (!content.containsKey(name)) {
        overlay.put(name, null);
      }
    }
  }

  /** How many names differ from the base (what this view costs beyond the shared index). */
  int differences() {
    return overlay.size();
  }
}
