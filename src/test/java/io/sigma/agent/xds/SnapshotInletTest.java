package io.sigma.agent.xds;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.japi.Pair;
import org.apache.pekko.stream.javadsl.AsPublisher;
import org.apache.pekko.stream.javadsl.Keep;
import org.apache.pekko.stream.javadsl.Sink;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.reactivestreams.Publisher;
import org.reactivestreams.Subscriber;
import org.reactivestreams.Subscription;

/**
 * The snapshot inlet of an ADS stream, read by a subscriber that asks for one snapshot at a time
 * (as a stream that cannot write to its Envoy does): snapshots that arrive while it does not ask
 * wait in a buffer of one, where the newest replaces the older.
 */
class SnapshotInletTest {

  private static final ActorTestKit testKit = ActorTestKit.create();
  private static final long AWAIT_SECONDS = 10;

  @AfterAll
  static void stop() {
    testKit.shutdownTestKit();
  }

  /** A subscriber that requests only when told to. */
  private static final class SlowReader implements Subscriber<XdsSnapshot> {
    final CompletableFuture<Subscription> subscription = new CompletableFuture<>();
    final BlockingQueue<XdsSnapshot> received = new LinkedBlockingQueue<>();

    @Override
    public void onSubscribe(Subscription s) {
      subscription.complete(s);
    }

    @Override
    public void onNext(XdsSnapshot snapshot) {
      received.add(snapshot);
    }

    @Override
    public void onError(Throwable t) {}

    @Override
    public void onComplete() {}

    XdsSnapshot readOne() throws Exception {
      subscription.get(AWAIT_SECONDS, TimeUnit.SECONDS).request(1);
      return received.poll(AWAIT_SECONDS, TimeUnit.SECONDS);
    }
  }

  @Test
  void aReaderThatFallsBehindGetsTheNewestSnapshotAndNeverAnOlderOne() throws Exception {
    Pair<ActorRef<XdsSnapshot>, Publisher<XdsSnapshot>> inlet =
        AdsService.snapshotInlet()
            .toMat(Sink.asPublisher(AsPublisher.WITHOUT_FANOUT), Keep.both())
            .run(testKit.system());
    SlowReader reader = new SlowReader();
    inlet.second().subscribe(reader);
    XdsSnapshot v1 = XdsSnapshot.empty("edge", 1, 1);
    inlet.first().tell(v1);
    assertEquals(v1, reader.readOne(), "the inlet runs");

    // The reader asks for nothing while v2, v3 and v4 arrive: one of them can wait.
    for (long version = 2; version <= 4; version++) {
      inlet.first().tell(XdsSnapshot.empty("edge", version, version));
    }
    List<Long> read = new ArrayList<>();
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(AWAIT_SECONDS);
    while (!read.contains(4L) && System.nanoTime() < deadline) {
      XdsSnapshot next = reader.readOne();
      if (next != null) {
        read.add(next.version());
      }
    }
    assertTrue(
        read.contains(4L), "the newest snapshot is kept, the older waiting one dropped: " + read);
    assertEquals(
        read.stream().sorted().toList(), read, "never an older one after a newer: " + read);
    assertTrue(read.size() < 3, "not all of them: the buffer holds one: " + read);
    reader.subscription.get().cancel();
  }
}
