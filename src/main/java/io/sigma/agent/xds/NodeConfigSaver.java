package io.sigma.agent.xds;

import io.sigma.agent.retry.Backoff;
import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.random.RandomGenerator;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.TimerScheduler;

/**
 * Writes the configs the {@link ConfigPoller} serves to the state dir ({@link NodeConfigStore}): a
 * child of the poller, on its dispatcher (blocking file I/O).
 *
 * <p>A config that cannot be saved (disk full, unwritable state dir) stays served from memory and
 * its save is retried (backoff with jitter, {@link #retrying}) until it works; a newer config of
 * the node replaces a pending save, a removed node drops it. So a restart never serves a config
 * older than the last one served. The configs not saved yet live in a {@link Pending} the poller
 * keeps for it, so a crash of this actor (restarted by the poller) loses none of them. The poller
 * hears of every change of the pending set ({@link ConfigPoller.SavesChanged}) for its status.
 */
final class NodeConfigSaver {

  /** The saver's protocol. */
  sealed interface Command permits Save, Delete, RetrySaves {}

  /** Save {@code config}, served as {@code serial}. */
  record Save(NodeConfig config, long serial) implements Command {}

  /** The node is gone: drop a pending save of it and delete its file. */
  record Delete(String nodeId) implements Command {}

  private enum RetrySaves implements Command {
    INSTANCE
  }

  /**
   * The configs served but not saved yet, newest per node.id, and the failed save rounds in a row:
   * kept by the poller across restarts of the saver, touched by the saver only.
   */
  static final class Pending {
    private final Map<String, Save> saves = new TreeMap<>();
    private int failures;
    private String lastError;
  }

  private static final Object RETRY_TIMER = "retry-saves";

  private final ActorContext<Command> context;
  private final TimerScheduler<Command> timers;
  private final NodeConfigStore store;
  private final Backoff backoff;
  private final RandomGenerator random;
  private final ActorRef<ConfigPoller.Command> poller;
  private final Pending pending;

  private NodeConfigSaver(
      ActorContext<Command> context,
      TimerScheduler<Command> timers,
      NodeConfigStore store,
      Backoff backoff,
      RandomGenerator random,
      ActorRef<ConfigPoller.Command> poller,
      Pending pending) {
    this.context = context;
    this.timers = timers;
    this.store = store;
    this.backoff = backoff;
    this.random = random;
    this.poller = poller;
    this.pending = pending;
  }

  /**
   * @param backoff delays between save rounds that fail
   * @param poller told each change of the pending saves
   * @param pending the saves not done yet (survives restarts of this actor)
   */
  static Behavior<Command> create(
      NodeConfigStore store,
      Backoff backoff,
      RandomGenerator random,
      ActorRef<ConfigPoller.Command> poller,
      Pending pending) {
    return Behaviors.setup(
        context ->
            Behaviors.withTimers(
                timers -> {
                  context.setLoggerName(NodeConfigSaver.class);
                  NodeConfigSaver saver =
                      new NodeConfigSaver(context, timers, store, backoff, random, poller, pending);
                  if (pending.saves.isEmpty()) {
                    return saver.saved();
                  }
                  // Restarted with saves pending: they are tried again after a pause.
                  return saver.retryLater();
                }));
  }

  /** Every config the poller asked for is saved. */
  private Behavior<Command> saved() {
    return Behaviors.receive(Command.class)
        .onMessage(
            Save.class,
            save -> {
              pending.saves.put(save.config().nodeId(), save);
              return saveAll(false);
            })
        .onMessage(
            Delete.class,
            delete -> {
              store.delete(delete.nodeId());
              return Behaviors.same();
            })
        .onMessageEquals(RetrySaves.INSTANCE, Behaviors::same)
        .build();
  }

  /** Saves failed: new ones wait for the retry timer, which writes every pending one. */
  private Behavior<Command> retrying() {
    return Behaviors.receive(Command.class)
        .onMessage(
            Save.class,
            save -> {
              pending.saves.put(save.config().nodeId(), save);
              report();
              return Behaviors.same();
            })
        .onMessage(
            Delete.class,
            delete -> {
              pending.saves.remove(delete.nodeId());
              store.delete(delete.nodeId());
              if (pending.saves.isEmpty()) {
                timers.cancel(RETRY_TIMER);
                pending.failures = 0;
                pending.lastError = null;
                report();
                return saved();
              }
              report();
              return Behaviors.same();
            })
        .onMessageEquals(RetrySaves.INSTANCE, () -> saveAll(true))
        .build();
  }

  /**
   * Writes every pending save; retries those that failed later.
   *
   * @param wasPending whether saves were pending before (the poller then hears when they are done)
   */
  private Behavior<Command> saveAll(boolean wasPending) {
    String failure = null;
    for (Save save : List.copyOf(pending.saves.values())) {
      try {
        store.save(save.config(), save.serial());
        pending.saves.remove(save.config().nodeId());
      } catch (IOException e) {
        failure = e.getMessage();
      }
    }
    if (pending.saves.isEmpty()) {
      if (pending.failures > 0) {
        context
            .getLog()
            .info(
                "xDS state: {} is writable again after {} failed attempt(s); every served Envoy "
                    + "config is saved",
                store.dir(),
                pending.failures);
      }
      pending.failures = 0;
      pending.lastError = null;
      if (wasPending) {
        report();
      }
      return saved();
    }
    pending.failures++;
    pending.lastError = failure;
    Duration retry = backoff.delay(pending.failures, random);
    String message =
        "xDS state: cannot save the config of Envoy node(s) {} to {} ({}); serving it from memory "
            + "(a restart now would serve an older config), retrying in {} ms";
    if (pending.failures == 1) {
      context
          .getLog()
          .warn(
              message + "; further failures are logged at debug level until a save works",
              pending.saves.keySet(),
              store.dir(),
              failure,
              retry.toMillis());
    } else {
      context
          .getLog()
          .debug(
              message + " (attempt {})",
              pending.saves.keySet(),
              store.dir(),
              failure,
              retry.toMillis(),
              pending.failures);
    }
    report();
    timers.startSingleTimer(RETRY_TIMER, RetrySaves.INSTANCE, retry);
    return retrying();
  }

  /** After a restart with saves pending. */
  private Behavior<Command> retryLater() {
    timers.startSingleTimer(
        RETRY_TIMER, RetrySaves.INSTANCE, backoff.delay(Math.max(1, pending.failures), random));
    report();
    return retrying();
  }

  private void report() {
    poller.tell(
        new ConfigPoller.SavesChanged(List.copyOf(pending.saves.keySet()), pending.lastError));
  }
}
