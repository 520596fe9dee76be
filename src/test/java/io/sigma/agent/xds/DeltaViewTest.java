package io.sigma.agent.xds;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

class DeltaViewTest {

  private final DeltaView<Integer, String> view = new DeltaView<>(number -> "v" + number);

  @Test
  void putGetAndRemoveWithoutABase() {
    view.put("a", "v1");
    assertEquals("v1", view.get("a"));
    assertTrue(view.contains("a"));
    assertNull(view.get("b"));

    view.remove("a");

    assertFalse(view.contains("a"));
    assertEquals(0, view.differences());
  }

  @Test
  void rebaseKeepsTheContentAndOnlyTheDifferences() {
    view.put("a", "v1");
    view.put("b", "v2");
    view.put("old", "v9");

    view.rebase(Map.of("a", 1, "b", 3, "new", 4));

    assertEquals("v1", view.get("a"));
    assertEquals("v2", view.get("b"), "differs from the base: kept as a difference");
    assertEquals("v9", view.get("old"));
    assertNull(view.get("new"), "in the base, not held");
    assertEquals(Set.of("a", "b", "old"), new TreeSet<>(view.names()));
    assertEquals(3, view.differences(), "b, old and new differ; a does not");

    view.put("b", "v3");
    view.put("new", "v4");
    view.remove("old");

    assertEquals(0, view.differences(), "now exactly the base");
    assertEquals(Set.of("a", "b", "new"), new TreeSet<>(view.names()));
    List<String> values = new ArrayList<>();
    view.forEachValue(values::add);
    assertEquals(Set.of("v1", "v3", "v4"), new TreeSet<>(values));
  }

  @Test
  void removingABaseNameHidesItAndPuttingItBackWithTheBaseValueForgetsTheDifference() {
    view.rebase(Map.of("a", 1));

    view.remove("a");
    assertFalse(view.contains("a"));
    assertEquals(List.of(), view.names());
    List<String> values = new ArrayList<>();
    view.forEachValue(values::add);
    assertEquals(List.of(), values);

    view.put("a", "v1");
    assertEquals(0, view.differences());
    assertEquals("v1", view.get("a"));
  }
}
