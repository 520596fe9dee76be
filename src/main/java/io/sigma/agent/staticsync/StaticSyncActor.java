package io.sigma.agent.staticsync;

import io.sigma.agent.api.CreateEnvoyNodeRequest;
import io.sigma.agent.api.EnvoyNode;
import io.sigma.agent.api.SigmaApi;
import io.sigma.agent.api.StaticRoute;
import io.sigma.agent.api.SyncStaticRequest;
import io.sigma.agent.api.SyncStaticResult;
import io.sigma.agent.retry.Backoff;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executor;
import java.util.random.RandomGenerator;
import java.util.stream.Collectors;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;
import org.apache.pekko.actor.typed.javadsl.TimerScheduler;

/**
 * Keeps sigma-api's static routes equal to the TCP proxy listeners of Envoy's static config files.
 * Every {@code interval} the files of {@link ConfigFileSet} are read (on the blocking executor, one
 * check at a time) and hashed; a file whose bytes changed is parsed ({@link
 * EnvoyStaticConfigParser}) and, once the VPS id is known ({@link VpsKnown}), its routes are sent
 * with {@code POST /envoy-routes/sync-static} under its own Envoy node ({@link NodeIds}), which is
 * created in sigma-api when the VPS has no active node of that id.
 *
 * <ul>
 *   <li>A file that cannot be read or parsed keeps what was last synced from it; its problem is
 *       logged once, and again only when the problem changes or the file is fixed.
 *   <li>A file that disappears (deleted, or no longer matched) also keeps its routes in sigma-api:
 *       Envoy runs the config it loaded until it restarts, and a file caught mid-rewrite must not
 *       wipe routes. Routes are deleted only by a readable, valid file that no longer has them.
 *   <li>A failed sync (sigma-api down, 5xx, timeout) is retried with jittered exponential backoff;
 *       the node is looked up again first, in case it was deleted meanwhile.
 * </ul>
 *
 * State (per file: last hash, last problem, routes wanted, routes last synced, node UUID) lives in
 * memory: after a restart every file is synced once, which sigma-api's upsert makes harmless.
 */
public final class StaticSyncActor extends AbstractBehavior<StaticSyncActor.Command> {
  public sealed interface Command {}

  /** The VPS this agent is registered as (from registration; again after a re-registration). */
  public record VpsKnown(String vpsId) implements Command {}

  private enum Check implements Command {
    INSTANCE
  }

  private record FilesChecked(
      ConfigFileSet.Listing listing, Map<Path, FileCheck> checks, Throwable error)
      implements Command {}

  private record SyncAnswered(
      Path file,
      String vpsId,
      List<StaticRoute> sent,
      NodeRef node,
      SyncStaticResult result,
      Throwable error)
      implements Command {}

  private record RetrySync(Path file) implements Command {}

  private record NodeRef(String uuid, boolean created) {}

  /**
   * @param hostname the host name node ids are built from ({@link NodeIds})
   * @param reads the executor file reads run on (the blocking dispatcher)
   */
  public record Settings(
      ConfigFileSet files, Duration interval, Backoff backoff, String hostname, Executor reads) {}

  /** What the actor knows of one file. */
  private static final class FileState {
    final String nodeId;
    String hash;
    String problem;
    List<StaticRoute> wanted;
    List<StaticRoute> synced;
    String nodeUuid;
    boolean inFlight;
    boolean retryPending;
    int failures;

    FileState(String nodeId) {
      this.nodeId = nodeId;
    }
  }

  private static final int MAX_SKIPPED_LOGGED = 10;

  private final Settings settings;
  private final SigmaApi api;
  private final StaticSyncMetrics metrics;
  private final Clock clock;
  private final RandomGenerator random;
  private final TimerScheduler<Command> timers;
  private final EnvoyStaticConfigParser parser = new EnvoyStaticConfigParser();
  private final Map<Path, FileState> files = new LinkedHashMap<>();
  private String vpsId;
  private boolean checking;
  private Instant checkStarted;
  private boolean stallLogged;
  private String lastCheckError;
  private int lastLeftOut;

  public static Behavior<Command> create(
      Settings settings,
      SigmaApi api,
      StaticSyncMetrics metrics,
      Clock clock,
      RandomGenerator random) {
    return Behaviors.setup(
        ctx ->
            Behaviors.withTimers(
                timers -> {
                  timers.startTimerWithFixedDelay(
                      Check.INSTANCE, Check.INSTANCE, settings.interval());
                  ctx.getSelf().tell(Check.INSTANCE);
                  ctx.getLog()
                      .info(
                          "Envoy static config sync: checking {} every {} (excluding {}); routes"
                              + " are sent to sigma-api once the VPS is registered",
                          settings.files(),
                          text(settings.interval()),
                          settings.files().excludes().isEmpty()
                              ? "nothing"
                              : String.join(",", settings.files().excludes()));
                  return new StaticSyncActor(ctx, timers, settings, api, metrics, clock, random);
                }));
  }

  private StaticSyncActor(
      ActorContext<Command> context,
      TimerScheduler<Command> timers,
      Settings settings,
      SigmaApi api,
      StaticSyncMetrics metrics,
      Clock clock,
      RandomGenerator random) {
    super(context);
    this.timers = timers;
    this.settings = settings;
    this.api = api;
    this.metrics = metrics;
    this.clock = clock;
    this.random = random;
  }

  @Override
  public Receive<Command> createReceive() {
    return newReceiveBuilder()
        .onMessage(VpsKnown.class, this::onVpsKnown)
        .onMessageEquals(Check.INSTANCE, this::onCheck)
        .onMessage(FilesChecked.class, this::onFilesChecked)
        .onMessage(SyncAnswered.class, this::onSyncAnswered)
        .onMessage(RetrySync.class, this::onRetry)
        .build();
  }

  private Behavior<Command> onVpsKnown(VpsKnown known) {
    if (Objects.equals(known.vpsId(), vpsId)) {
      return this;
    }
    if (vpsId != null) {
      getContext()
          .getLog()
          .info(
              "Envoy static config sync: the agent is now VPS {} (was {}); syncing every file"
                  + " again",
              known.vpsId(),
              vpsId);
    }
    vpsId = known.vpsId();
    files.forEach(
        (file, state) -> {
          state.nodeUuid = null;
          state.synced = null;
          state.failures = 0;
          state.retryPending = false;
          timers.cancel(file);
        });
    files.forEach(this::maybeSync);
    return this;
  }

  // ---- checking the files ----

  private Behavior<Command> onCheck() {
    if (checking) {
      Duration running = Duration.between(checkStarted, clock.instant());
      if (!stallLogged && running.compareTo(settings.interval()) >= 0) {
        stallLogged = true;
        getContext()
            .getLog()
            .warn(
                "Envoy static config sync: reading the files has taken {}s so far (a stalled file"
                    + " system?); no new check starts until it ends",
                running.toSeconds());
      }
      return this;
    }
    checking = true;
    checkStarted = clock.instant();
    Map<Path, String> known = new HashMap<>();
    files.forEach((file, state) -> known.put(file, state.hash));
    ConfigFileSet fileSet = settings.files();
    CompletionStage<FilesChecked> read =
        CompletableFuture.supplyAsync(
            () -> {
              ConfigFileSet.Listing listing = fileSet.files();
              Map<Path, FileCheck> checks = new LinkedHashMap<>();
              for (Path file : listing.files()) {
                checks.put(file, FileCheck.of(file, known.get(file), parser));
              }
              return new FilesChecked(listing, checks, null);
            },
            settings.reads());
    getContext()
        .pipeToSelf(
            read,
            (checked, error) -> error == null ? checked : new FilesChecked(null, null, error));
    return this;
  }

  private Behavior<Command> onFilesChecked(FilesChecked checked) {
    checking = false;
    stallLogged = false;
    if (checked.error() != null) {
      String problem = String.valueOf(checked.error().getMessage());
      if (!problem.equals(lastCheckError)) {
        getContext()
            .getLog()
            .warn(
                "Envoy static config sync: the check of {} failed ({}); trying again in {}",
                settings.files(),
                problem,
                text(settings.interval()));
      }
      lastCheckError = problem;
      return this;
    }
    lastCheckError = null;
    if (checked.listing().leftOut() != lastLeftOut && checked.listing().leftOut() > 0) {
      getContext()
          .getLog()
          .warn(
              "Envoy static config sync: {} matches more than {} files; {} are left out (narrow"
                  + " the globs or use --envoy-config-exclude)",
              settings.files(),
              ConfigFileSet.MAX_FILES,
              checked.listing().leftOut());
    }
    lastLeftOut = checked.listing().leftOut();
    getContext()
        .getLog()
        .debug(
            "Envoy static config check: {} file(s), {} changed",
            checked.checks().size(),
            checked.checks().values().stream()
                .filter(c -> !(c instanceof FileCheck.Unchanged))
                .count());
    forgetVanished(checked.checks().keySet());
    Map<String, Path> fileOfNode = new HashMap<>();
    checked
        .checks()
        .forEach(
            (file, check) -> {
              String nodeId = NodeIds.of(file, settings.hostname());
              Path other = fileOfNode.putIfAbsent(nodeId, file);
              if (other != null) {
                check =
                    new FileCheck.Problem(
                        null,
                        "would be synced as Envoy node '"
                            + nodeId
                            + "' like "
                            + other
                            + " (same file name); rename one of them");
              }
              FileState state = files.computeIfAbsent(file, f -> new FileState(nodeId));
              apply(file, state, check);
            });
    return this;
  }

  /** Files no longer in the set: forgotten, their routes left in sigma-api (see class doc). */
  private void forgetVanished(Set<Path> current) {
    List<Path> gone = new ArrayList<>(files.keySet());
    gone.removeAll(current);
    for (Path file : gone) {
      FileState state = files.remove(file);
      timers.cancel(file);
      getContext()
          .getLog()
          .info(
              "Envoy static config {} is gone (deleted, or no longer matched by"
                  + " --envoy-config-path/--envoy-config-exclude); {} of Envoy node '{}' stay in"
                  + " sigma-api (Envoy keeps running the config it loaded)",
              file,
              state.synced == null ? "any routes synced before" : state.synced.size() + " route(s)",
              state.nodeId);
    }
  }

  private void apply(Path file, FileState state, FileCheck check) {
    if (check instanceof FileCheck.Problem problem) {
      state.hash = problem.hash();
      if (!problem.problem().equals(state.problem)) {
        metrics.invalidFile();
        getContext()
            .getLog()
            .warn(
                "Envoy static config {} {}; {}; checking it again every {}",
                file,
                problem.problem(),
                state.synced == null
                    ? "nothing is synced from it"
                    : "the " + state.synced.size() + " route(s) last synced from it stay",
                text(settings.interval()));
      }
      state.problem = problem.problem();
    } else if (check instanceof FileCheck.Parsed parsed) {
      state.hash = parsed.hash();
      if (state.problem != null) {
        getContext().getLog().info("Envoy static config {} is usable again", file);
      }
      state.problem = null;
      logSkipped(file, parsed.config());
      state.wanted = parsed.config().routes();
      maybeSync(file, state);
    }
    // FileCheck.Unchanged: nothing to do; a sync still owed is driven by its retry timer.
  }

  private void logSkipped(Path file, StaticConfig config) {
    List<SkippedListener> skipped = config.skipped();
    if (skipped.isEmpty()) {
      return;
    }
    String shown =
        skipped.stream()
            .limit(MAX_SKIPPED_LOGGED)
            .map(SkippedListener::toString)
            .collect(Collectors.joining("; "));
    getContext()
        .getLog()
        .info(
            "Envoy static config {}: {} listener(s) not synced: {}{}",
            file,
            skipped.size(),
            shown,
            skipped.size() > MAX_SKIPPED_LOGGED ? "; ..." : "");
  }

  // ---- syncing with sigma-api ----

  private void maybeSync(Path file, FileState state) {
    if (vpsId == null
        || state.inFlight
        || state.retryPending
        || state.wanted == null
        || state.wanted.equals(state.synced)) {
      return;
    }
    state.inFlight = true;
    String vps = vpsId;
    List<StaticRoute> routes = state.wanted;
    CompletionStage<NodeRef> node =
        state.nodeUuid != null
            ? CompletableFuture.completedFuture(new NodeRef(state.nodeUuid, false))
            : node(vps, state.nodeId, file);
    CompletionStage<Map.Entry<NodeRef, SyncStaticResult>> synced =
        node.thenCompose(
            ref ->
                api.syncStatic(new SyncStaticRequest(ref.uuid(), routes))
                    .thenApply(result -> Map.entry(ref, result)));
    getContext()
        .pipeToSelf(
            synced,
            (done, error) ->
                new SyncAnswered(
                    file,
                    vps,
                    routes,
                    done == null ? null : done.getKey(),
                    done == null ? null : done.getValue(),
                    error));
  }

  /** The UUID of the VPS's active node {@code nodeId}, created when there is none. */
  private CompletionStage<NodeRef> node(String vps, String nodeId, Path file) {
    return api.allEnvoyNodes(vps)
        .thenCompose(
            nodes -> {
              for (EnvoyNode n : nodes) {
                if (nodeId.equals(n.nodeId())) {
                  return CompletableFuture.completedFuture(new NodeRef(n.id(), false));
                }
              }
              return api.createEnvoyNode(
                      new CreateEnvoyNodeRequest(
                          vps,
                          nodeId,
                          "static config " + file + " (created by sigma-agent)",
                          null,
                          "active"))
                  .thenApply(created -> new NodeRef(created.id(), true));
            });
  }

  private Behavior<Command> onSyncAnswered(SyncAnswered answer) {
    FileState state = files.get(answer.file());
    if (state == null) {
      return this;
    }
    state.inFlight = false;
    if (!answer.vpsId().equals(vpsId)) {
      maybeSync(answer.file(), state);
      return this;
    }
    if (answer.error() != null) {
      state.nodeUuid = null;
      state.failures++;
      metrics.apiFailed();
      Duration delay = settings.backoff().delay(state.failures, random);
      getContext()
          .getLog()
          .warn(
              "Could not sync Envoy static config {} (Envoy node '{}', {} route(s)) with sigma-api:"
                  + " {}; sigma-api keeps what it had, retrying in {} ms ({} failed attempt(s))",
              answer.file(),
              state.nodeId,
              answer.sent().size(),
              describe(answer.error()),
              delay.toMillis(),
              state.failures);
      state.retryPending = true;
      timers.startSingleTimer(answer.file(), new RetrySync(answer.file()), delay);
      return this;
    }
    if (answer.node().created()) {
      getContext()
          .getLog()
          .info(
              "Created Envoy node '{}' ({}) in sigma-api for static config {}",
              state.nodeId,
              answer.node().uuid(),
              answer.file());
    }
    state.nodeUuid = answer.node().uuid();
    state.synced = answer.sent();
    metrics.synced(clock.instant());
    getContext()
        .getLog()
        .info(
            "Synced Envoy static config {} to Envoy node '{}': {} route(s) (sigma-api upserted {},"
                + " deleted {}){}",
            answer.file(),
            state.nodeId,
            answer.sent().size(),
            answer.result().upserted(),
            answer.result().deleted(),
            state.failures > 0 ? " after " + state.failures + " failed attempt(s)" : "");
    state.failures = 0;
    maybeSync(answer.file(), state);
    return this;
  }

  private Behavior<Command> onRetry(RetrySync retry) {
    FileState state = files.get(retry.file());
    if (state != null) {
      state.retryPending = false;
      maybeSync(retry.file(), state);
    }
    return this;
  }

  /** "60 s", or "400 ms" below a second. */
  private static String text(Duration d) {
    return d.toMillis() % 1000 == 0 ? d.toSeconds() + " s" : d.toMillis() + " ms";
  }

  private static String describe(Throwable error) {
    Throwable cause = error;
    while ((cause instanceof CompletionException || cause instanceof ExecutionException)
        && cause.getCause() != null) {
      cause = cause.getCause();
    }
    return cause.getMessage() == null ? cause.getClass().getSimpleName() : cause.getMessage();
  }
}
