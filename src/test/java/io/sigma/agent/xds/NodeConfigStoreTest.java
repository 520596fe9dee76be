package io.sigma.agent.xds;

import static io.sigma.agent.xds.Routes.route;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.Level;
import io.sigma.agent.api.EnvoyNode;
import io.sigma.agent.api.EnvoyRoute;
import io.sigma.agent.host.LogCapture;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

class NodeConfigStoreTest {

  private static final Clock CLOCK =
      Clock.fixed(Instant.parse("2026-11-26T10:00:00Z"), ZoneOffset.UTC);

  @TempDir Path tmp;

  @Test
  void savedConfigsLoadBackAsTheyWereWithTheirSerials() throws Exception {
    NodeConfigStore store = new NodeConfigStore(tmp.resolve("xds"), CLOCK);
    NodeConfig a =
        config(
            "edge-a",
            7,
            List.of(
                route("db", 10001, "10.0.0.7", 5432, "static", 3, 1),
                route("todo", 10002, null, null)));
    NodeConfig b = config("edge/b c", 2, List.of());

    store.save(a, 1_764_151_200_000L);
    store.save(b, 3);

    List<NodeConfigStore.Saved> loaded = new NodeConfigStore(tmp.resolve("xds"), CLOCK).loadAll();
    assertEquals(
        Set.of(new NodeConfigStore.Saved(a, 1_764_151_200_000L), new NodeConfigStore.Saved(b, 3)),
        Set.copyOf(loaded));
  }

  @Test
  void aFileWithoutSerialLoadsWithSerialZeroAndABadSerialIsSkipped() throws Exception {
    NodeConfigStore store = new NodeConfigStore(tmp, CLOCK);
    store.save(config("edge", 7, List.of()), 42);
    String file = Files.readString(tmp.resolve("edge.json"));
    assertTrue(file.contains("\"serial\" : 42"), file);
    Files.writeString(tmp.resolve("edge.json"), file.replace("\"serial\" : 42,", ""));
    Files.writeString(
        tmp.resolve("negative.json"),
        file.replace("\"serial\" : 42", "\"serial\" : -1")
            .replace("\"node_id\" : \"edge\"", "\"node_id\" : \"negative\""));

    assertEquals(
        List.of(new NodeConfigStore.Saved(config("edge", 7, List.of()), 0)), store.loadAll());
  }

  @Test
  void theFileHoldsTheNodeAndItsRoutesWithSigmaApisFieldNames() throws Exception {
    NodeConfigStore store = new NodeConfigStore(tmp, CLOCK);
    store.save(config("edge", 7, List.of(route("db", 10001, "10.0.0.7", 5432))), 1);

    String file = Files.readString(tmp.resolve("edge.json"));

    assertTrue(file.contains("\"format\" : 1"), file);
    assertTrue(file.contains("\"saved_at\" : \"2026-11-26T10:00:00Z\""), file);
    assertTrue(file.contains("\"node_id\" : \"edge\""), file);
    assertTrue(file.contains("\"config_version\" : 7"), file);
    assertTrue(file.contains("\"listen_port\" : 10001"), file);
    assertFalse(file.contains("placeholder"), "derived fields are not written: " + file);
  }

  @Test
  void aNewVersionReplacesTheFileOfItsNode() throws Exception {
    NodeConfigStore store = new NodeConfigStore(tmp, CLOCK);
    store.save(config("edge", 1, List.of(route("a", 10001, "a.example", 80))), 1);
    NodeConfig v2 = config("edge", 2, List.of(route("b", 10002, "b.example", 80)));

    store.save(v2, 1);

    assertEquals(List.of(v2), configs(store.loadAll()));
    assertEquals(List.of("edge.json"), fileNames(tmp));
  }

  @Test
  void deleteForgetsTheNode() throws Exception {
    NodeConfigStore store = new NodeConfigStore(tmp, CLOCK);
    store.save(config("edge", 1, List.of()), 1);
    store.save(config("other", 1, List.of()), 1);

    store.delete("edge");
    store.delete("never-saved");

    assertEquals(
        List.of("other"), configs(store.loadAll()).stream().map(NodeConfig::nodeId).toList());
  }

  @Test
  void fileNamesKeepSafeIdsAndEncodeTheRestWithoutCollisions() {
    assertEquals("layer4-01.json", NodeConfigStore.fileName("layer4-01"));
    assertEquals("a.b_c.json", NodeConfigStore.fileName("a.b_c"));
    assertEquals(
        "%2E..json",
        NodeConfigStore.fileName(".."), "a leading dot is encoded: no hidden file, no path");
    assertEquals("a%2Fb.json", NodeConfigStore.fileName("a/b"));
    assertEquals("a%25b.json", NodeConfigStore.fileName("a%b"));
    assertEquals("%C3%A9.json", NodeConfigStore.fileName("é"));
    assertNotEquals(NodeConfigStore.fileName("a/b"), NodeConfigStore.fileName("a_b"));
    assertNotEquals(NodeConfigStore.fileName("a/b"), NodeConfigStore.fileName("a%2Fb"));
  }

  @Test
  void veryLongIdsGetAShortUniqueFileName() {
    String longA = "x".repeat(300) + "a";
    String longB = "x".repeat(300) + "b";
    String nameA = NodeConfigStore.fileName(longA);

    assertTrue(nameA.getBytes(StandardCharsets.UTF_8).length < 255, nameA);
    assertNotEquals(nameA, NodeConfigStore.fileName(longB));
    assertEquals(nameA, NodeConfigStore.fileName(longA));
  }

  @Test
  @Timeout(value = 30, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
  void aFifoOrAnOversizedFileInTheStateDirIsSkippedWithoutBlockingOrReadingItWhole()
      throws Exception {
    NodeConfigStore store = new NodeConfigStore(tmp, CLOCK);
    NodeConfig good = config("good", 3, List.of(route("a", 10001, "a.example", 80)));
    store.save(good, 1);
    Process mkfifo = new ProcessBuilder("mkfifo", tmp.resolve("fifo.json").toString()).start();
    assertEquals(0, mkfifo.waitFor());
    try (var huge =
        java.nio.channels.FileChannel.open(
            tmp.resolve("huge.json"),
            java.nio.file.StandardOpenOption.CREATE_NEW,
            java.nio.file.StandardOpenOption.WRITE)) {
      huge.write(java.nio.ByteBuffer.wrap(new byte[] {'{'}), 3L << 30); // sparse, 3 GiB
    }

    try (LogCapture logs = new LogCapture(NodeConfigStore.class)) {
      assertEquals(List.of(good), configs(store.loadAll()));

      List<String> warnings = logs.messages(Level.WARN);
      assertTrue(
          warnings.stream().anyMatch(w -> w.contains("fifo.json") && w.contains("FIFO")),
          warnings.toString());
      assertTrue(
          warnings.stream().anyMatch(w -> w.contains("huge.json") && w.contains("larger than")),
          warnings.toString());
    }
  }

  @Test
  void missingDirectoryIsAnEmptyStore() {
    assertEquals(List.of(), new NodeConfigStore(tmp.resolve("absent"), CLOCK).loadAll());
  }

  @Test
  void corruptAndForeignFilesAreWarnedAboutAndSkipped() throws Exception {
    NodeConfigStore store = new NodeConfigStore(tmp, CLOCK);
    NodeConfig good = config("good", 3, List.of(route("a", 10001, "a.example", 80)));
    store.save(good, 1);
    Files.writeString(tmp.resolve("not-json.json"), "this is not JSON");
    Files.writeString(tmp.resolve("empty.json"), "");
    Files.writeString(
        tmp.resolve("truncated.json"), Files.readString(tmp.resolve("good.json")).substring(0, 60));
    Files.writeString(
        tmp.resolve("future.json"),
        Files.readString(tmp.resolve("good.json")).replace("\"format\" : 1", "\"format\" : 2"));
    Files.writeString(tmp.resolve("no-node.json"), "{\"format\": 1, \"routes\": []}");
    Files.writeString(
        tmp.resolve("no-routes.json"),
        "{\"format\": 1, \"node\": {\"node_id\": \"x\", \"config_version\": 1}}");
    Files.writeString(
        tmp.resolve("wrong-types.json"),
        "{\"format\": 1, \"node\": {\"node_id\": \"x\", \"config_version\": \"7\"}, \"routes\": []}");
    Files.createDirectory(tmp.resolve("a-directory.json"));
    Files.writeString(tmp.resolve("notes.txt"), "not a state file, not looked at");

    try (LogCapture logs = new LogCapture(NodeConfigStore.class)) {
      assertEquals(List.of(good), configs(store.loadAll()));

      List<String> warnings = logs.messages(Level.WARN);
      assertEquals(8, warnings.size(), String.join("\n", warnings));
      for (String name :
          List.of(
              "not-json",
              "empty",
              "truncated",
              "future",
              "no-node",
              "no-routes",
              "wrong-types",
              "a-directory")) {
        assertTrue(
            warnings.stream().anyMatch(w -> w.contains(name + ".json")), name + " in " + warnings);
      }
      assertTrue(warnings.stream().anyMatch(w -> w.contains("format 2")), warnings.toString());
    }
  }

  @Test
  void twoFilesForOneNodeLoadTheNewerVersion() throws Exception {
    NodeConfigStore store = new NodeConfigStore(tmp, CLOCK);
    store.save(config("edge", 5, List.of()), 1);
    Files.move(tmp.resolve("edge.json"), tmp.resolve("edge-renamed-copy.json"));
    NodeConfig v4 = config("edge", 4, List.of(route("a", 10001, "a.example", 80)));
    store.save(v4, 1);

    assertEquals(
        List.of(5L), configs(store.loadAll()).stream().map(NodeConfig::configVersion).toList());
  }

  @Test
  void twoFilesForOneNodeLoadTheOneServedLastWithTheHigherSerial() throws Exception {
    NodeConfigStore store = new NodeConfigStore(tmp, CLOCK);
    store.save(config("edge", 7, List.of()), 100);
    Files.move(tmp.resolve("edge.json"), tmp.resolve("edge-before-re-creation.json"));
    NodeConfig recreated = config("edge", 1, List.of(route("a", 10001, "a.example", 80)));
    store.save(recreated, 200);

    assertEquals(List.of(new NodeConfigStore.Saved(recreated, 200)), store.loadAll());

    Files.writeString(
        tmp.resolve("edge-future.json"),
        Files.readString(tmp.resolve("edge-before-re-creation.json"))
            .replace("\"serial\" : 100", "\"serial\" : 300"));
    assertEquals(
        List.of(new NodeConfigStore.Saved(config("edge", 7, List.of()), 300)), store.loadAll());
  }

  @Test
  void leftoversOfInterruptedWritesAreDeletedOnLoad() throws Exception {
    NodeConfigStore store = new NodeConfigStore(tmp, CLOCK);
    store.save(config("edge", 1, List.of()), 1);
    Files.writeString(tmp.resolve(".xds-123.tmp"), "{\"format\": 1, \"no");

    assertEquals(1, store.loadAll().size());
    assertEquals(List.of("edge.json"), fileNames(tmp));
  }

  @Test
  void aFailedSaveThrowsLeavesTheOldFileAndNoTempFiles() throws Exception {
    NodeConfigStore store = new NodeConfigStore(tmp, CLOCK);
    store.save(config("edge", 1, List.of()), 1);
    // A directory where the new file should land: the rename fails, for root too.
    Path blocked = Files.createDirectories(tmp.resolve("blocked.json"));

    IOException failure =
        assertThrows(IOException.class, () -> store.save(config("blocked", 2, List.of()), 2));

    assertTrue(failure.getMessage().contains("blocked.json"), failure.getMessage());
    assertEquals(List.of("blocked.json", "edge.json"), fileNames(tmp), "no temp file left");
    assertTrue(Files.isDirectory(blocked));
  }

  @Test
  void anUnwritableDirectoryThrowsAndSavingWorksAgainWhenItRecovers() throws Exception {
    // A regular file where the directory's parent should be: no one (not even root) can create it.
    Path blocker = Files.writeString(tmp.resolve("state"), "a file, not a directory");
    NodeConfigStore store = new NodeConfigStore(blocker.resolve("xds"), CLOCK);

    IOException failure =
        assertThrows(IOException.class, () -> store.save(config("a", 1, List.of()), 1));
    assertTrue(failure.getMessage().contains("state"), failure.getMessage());

    Files.delete(blocker);
    store.save(config("a", 3, List.of()), 5);
    assertEquals(List.of(new NodeConfigStore.Saved(config("a", 3, List.of()), 5)), store.loadAll());
  }

  private static List<NodeConfig> configs(List<NodeConfigStore.Saved> saved) {
    return saved.stream().map(NodeConfigStore.Saved::config).toList();
  }

  private static NodeConfig config(String nodeId, long version, List<EnvoyRoute> routes) {
    return new NodeConfig(
        new EnvoyNode(
            "uuid-" + nodeId,
            "vps-1",
            nodeId,
            null,
            "",
            version,
            "active",
            "2026-01-01T00:00:00Z",
            "2026-01-01T00:00:00Z"),
        routes);
  }

  private static List<String> fileNames(Path dir) throws Exception {
    try (Stream<Path> files = Files.list(dir)) {
      return files.map(p -> p.getFileName().toString()).sorted().collect(Collectors.toList());
    }
  }
}
