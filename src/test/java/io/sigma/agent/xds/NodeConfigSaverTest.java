package io.sigma.agent.xds;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sigma.agent.api.EnvoyNode;
import io.sigma.agent.retry.Backoff;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Predicate;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.FishingOutcomes;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The saver child with a real state dir that breaks (a regular file where the dir should be). */
class NodeConfigSaverTest {

  private static final ActorTestKit testKit = ActorTestKit.create();
  private static final Duration AWAIT = Duration.ofSeconds(10);
  private static final Backoff BACKOFF = new Backoff(Duration.ofMillis(20), Duration.ofMillis(100));

  @TempDir Path tmp;

  private final TestProbe<ConfigPoller.Command> poller = testKit.createTestProbe();

  @AfterAll
  static void stop() {
    testKit.shutdownTestKit();
  }

  private static NodeConfig config(String nodeId, long version) {
    return new NodeConfig(
        new EnvoyNode("uuid-" + nodeId, "vps", nodeId, null, null, version, "active", null, null),
        List.of(Routes.route("web", 10000, "backend.example", 80)));
  }

  private ActorRef<NodeConfigSaver.Command> spawn(NodeConfigStore store) {
    return testKit.spawn(
        ConfigPoller.restarting(
            NodeConfigSaver.create(
                store,
                BACKOFF,
                new SplittableRandom(1),
                poller.ref(),
                new NodeConfigSaver.Pending())));
  }

  private ConfigPoller.SavesChanged nextReport() {
    return poller.expectMessageClass(ConfigPoller.SavesChanged.class, AWAIT);
  }

  /** Skips reports until one satisfies {@code condition}; returns it. */
  private ConfigPoller.SavesChanged awaitReport(Predicate<ConfigPoller.SavesChanged> condition) {
    List<ConfigPoller.Command> fished =
        poller.fishForMessage(
            AWAIT,
            message ->
                condition.test((ConfigPoller.SavesChanged) message)
                    ? FishingOutcomes.complete()
                    : FishingOutcomes.continueAndIgnore());
    return (ConfigPoller.SavesChanged) fished.get(fished.size() - 1);
  }

  /**
   * The config saved for {@code nodeId}, or null. Read from a copy of its file: {@code loadAll} on
   * the live directory deletes the temp files of interrupted writes, so polling it would race with
   * the saver's own writes (a save in progress then fails and is reported).
   */
  private NodeConfigStore.Saved saved(NodeConfigStore store, String nodeId) {
    Path file = store.dir().resolve(NodeConfigStore.fileName(nodeId));
    try {
      Path copy = Files.createTempDirectory(tmp, "read-");
      Files.copy(file, copy.resolve(file.getFileName()));
      return new NodeConfigStore(copy, Clock.systemUTC())
          .loadAll().stream()
              .filter(s -> s.config().nodeId().equals(nodeId))
              .findFirst()
              .orElse(null);
    } catch (NoSuchFileException | NotDirectoryException e) {
      return null;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  @Test
  void aSaveThatWorksIsOnDiskWithItsSerialAndNothingIsReported() {
    NodeConfigStore store = new NodeConfigStore(tmp.resolve("xds"), Clock.systemUTC());
    ActorRef<NodeConfigSaver.Command> saver = spawn(store);
    saver.tell(new NodeConfigSaver.Save(config("edge", 3), 77));
    NodeConfigStore.Saved saved =
        poller.awaitAssert(
            AWAIT,
            () -> {
              NodeConfigStore.Saved s = saved(store, "edge");
              assertTrue(s != null, "saved");
              return s;
            });
    assertEquals(config("edge", 3), saved.config());
    assertEquals(77, saved.serial());
    saver.tell(new NodeConfigSaver.Delete("edge"));
    poller.awaitAssert(
        AWAIT,
        () -> {
          assertNull(saved(store, "edge"), "deleted");
          return null;
        });
    poller.expectNoMessage(Duration.ofMillis(100));
  }

  @Test
  void failedSavesAreRetriedUntilTheNewestConfigIsOnDisk() throws IOException {
    Path dir = tmp.resolve("xds");
    Files.writeString(dir, "a regular file where the state dir should be");
    NodeConfigStore store = new NodeConfigStore(dir, Clock.systemUTC());
    ActorRef<NodeConfigSaver.Command> saver = spawn(store);
    saver.tell(new NodeConfigSaver.Save(config("edge", 1), 10));
    ConfigPoller.SavesChanged failing = nextReport();
    assertEquals(List.of("edge"), failing.unsavedNodes());
    assertTrue(failing.lastError().contains("xds"), failing.lastError());
    saver.tell(new NodeConfigSaver.Save(config("edge", 2), 11));
    saver.tell(new NodeConfigSaver.Save(config("other", 1), 12));
    awaitReport(report -> report.unsavedNodes().equals(List.of("edge", "other")));

    Files.delete(dir);
    ConfigPoller.SavesChanged done = awaitReport(report -> report.unsavedNodes().isEmpty());
    assertNull(done.lastError());
    assertEquals(2, saved(store, "edge").config().configVersion(), "the newest one");
    assertEquals(11, saved(store, "edge").serial());
    assertEquals(1, saved(store, "other").config().configVersion());
  }

  @Test
  void aNodeRemovedWhileItsSaveIsPendingIsNeitherSavedNorPending() throws IOException {
    Path dir = tmp.resolve("xds");
    Files.writeString(dir, "a regular file where the state dir should be");
    NodeConfigStore store = new NodeConfigStore(dir, Clock.systemUTC());
    ActorRef<NodeConfigSaver.Command> saver = spawn(store);
    saver.tell(new NodeConfigSaver.Save(config("gone", 1), 10));
    assertEquals(List.of("gone"), nextReport().unsavedNodes());
    saver.tell(new NodeConfigSaver.Delete("gone"));
    ConfigPoller.SavesChanged after = awaitReport(report -> report.unsavedNodes().isEmpty());
    assertNull(after.lastError(), "nothing left to save");
    Files.delete(dir);
    saver.tell(new NodeConfigSaver.Save(config("edge", 1), 20));
    poller.awaitAssert(
        AWAIT,
        () -> {
          assertTrue(saved(store, "edge") != null);
          return null;
        });
    assertNull(saved(store, "gone"), "the removed node's save was dropped");
  }

  @Test
  void aSaverThatCrashesRestartsAndStillSavesWhatWasPending() {
    AtomicInteger crashes = new AtomicInteger();
    NodeConfigStore store =
        new NodeConfigStore(tmp.resolve("xds"), Clock.systemUTC()) {
          @Override
          public void save(NodeConfig config, long serial) throws IOException {
            if (crashes.getAndIncrement() == 0) {
              throw new IllegalStateException("a bug in the store (test fault)");
            }
            super.save(config, serial);
          }
        };
    ActorRef<NodeConfigSaver.Command> saver = spawn(store);
    saver.tell(new NodeConfigSaver.Save(config("edge", 5), 50));
    assertEquals(List.of("edge"), nextReport().unsavedNodes(), "restarted with the save pending");
    ConfigPoller.SavesChanged done = nextReport();
    assertEquals(List.of(), done.unsavedNodes());
    assertEquals(5, saved(store, "edge").config().configVersion());
    assertEquals(2, crashes.get(), "tried again after the crash");
    saver.tell(new NodeConfigSaver.Save(config("edge", 6), 51));
    poller.awaitAssert(
        AWAIT,
        () -> {
          assertEquals(6, saved(store, "edge").config().configVersion());
          return null;
        });
    assertFalse(crashes.get() < 3);
  }
}
