package io.sigma.agent.devapi;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import io.sigma.agent.api.Json;
import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.Done;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.http.javadsl.Http;
import org.apache.pekko.http.javadsl.ServerBinding;
import org.apache.pekko.http.javadsl.server.Route;
import org.apache.pekko.http.javadsl.settings.ServerSettings;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * An embedded, in-memory sigma-api on 127.0.0.1 (what {@code sigma-agent --dev}, the integration
 * tests and the fleet simulation run against). It implements the contract for real. A {@link
 * DevApiInterceptor} sees every request first: the tests' fault injection plugs in there, {@code
 * --dev} has none; {@link #unbind()} / {@link #rebind()} let a subclass take the port away and back
 * (the tests' outages).
 *
 * <pre>{@code
 * DevSigmaApi api = new DevSigmaApi(0, "secret");
 * api.store().seedForFirstRegistration(DevSeed.standard());
 * String baseUrl = api.start(system).toCompletableFuture().get(); // http://127.0.0.1:PORT/api
 * ...
 * api.stop();
 * }</pre>
 *
 * <p>Several instances can live in one JVM: all state is per instance. Not final: the tests'
 * FaultInjectingDevApi extends it with a fault plan and request counters.
 */
public class DevSigmaApi {
  private static final Logger log = LoggerFactory.getLogger(DevSigmaApi.class);

  public static final String HOST = "127.0.0.1";

  /** How long in-flight (e.g. delayed) answers get when the server goes down or stops. */
  static final Duration TERMINATE_DEADLINE = Duration.ofMillis(500);

  /**
   * HTTP/1.1 only (a reset must be a TCP abort); no request timeout, so delayed answers are as slow
   * as asked; room for a simulated fleet of a thousand agents reconnecting at once.
   */
  private static final String SERVER_CONFIG =
      String.join(
          "\n",
          "pekko.http.server.enable-http2 = off",
          "pekko.http.server.request-timeout = infinite",
          "pekko.http.server.idle-timeout = 120 s",
          "pekko.http.server.max-connections = 8192",
          "pekko.http.server.backlog = 1024");

  private enum State {
    NEW,
    STARTING,
    UP,
    UNBINDING,
    UNBOUND,
    REBINDING,
    STOPPED
  }

  private final int requestedPort;
  private final String apiKey;
  private final DevApiStore store;
  private final DevApiInterceptor interceptor;

  private State state = State.NEW;
  private ActorSystem<?> system;
  private Route route;
  private ServerSettings settings;
  private ServerBinding binding;
  private int port = -1;

  /**
   * A dev API answering every request normally. {@code port} 0 picks an ephemeral port; {@code
   * apiKey} null or blank: no check, else every request needs {@code X-Api-Key}.
   */
  public DevSigmaApi(int port, String apiKey) {
    this(port, apiKey, new DevApiStore(), DevApiInterceptor.NONE);
  }

  /**
   * @param store the data it serves (its clock stamps the records)
   * @param interceptor sees every request first (see {@link DevApiInterceptor})
   */
  public DevSigmaApi(int port, String apiKey, DevApiStore store, DevApiInterceptor interceptor) {
    if (port < 0 || port > 65535) {
      throw new IllegalArgumentException("port out of range: " + port);
    }
    this.requestedPort = port;
    this.apiKey = apiKey;
    this.store = Objects.requireNonNull(store);
    this.interceptor = Objects.requireNonNull(interceptor);
  }

  /** Binds 127.0.0.1; completes with the base URL, e.g. {@code http://127.0.0.1:41234/api}. */
  public synchronized CompletionStage<String> start(ActorSystem<?> actorSystem) {
    if (state != State.NEW) {
      return CompletableFuture.failedFuture(
          new IllegalStateException("dev sigma-api already started (" + state + ")"));
    }
    state = State.STARTING;
    system = actorSystem;
    route = new DevApiRoutes(store, interceptor, apiKey, Json.newMapper()).route();
    Config config =
        ConfigFactory.parseString(SERVER_CONFIG).withFallback(actorSystem.settings().config());
    settings = ServerSettings.create(config);
    return bind(requestedPort)
        .thenApply(
            url -> {
              log.info(
                  "dev sigma-api listening on {} (API key check {})",
                  url,
                  apiKey == null || apiKey.isBlank() ? "off" : "on");
              return url;
            });
  }

  /**
   * Unbinds the port and closes every open connection (in-flight answers get half a second), so
   * clients meet "connection refused" until {@link #rebind}. The port is kept.
   */
  protected final synchronized CompletionStage<Done> unbind() {
    if (state != State.UP) {
      return CompletableFuture.failedFuture(
          new IllegalStateException("dev sigma-api is not bound (" + state + ")"));
    }
    state = State.UNBINDING;
    ServerBinding b = binding;
    binding = null;
    return b.terminate(TERMINATE_DEADLINE)
        .handle(
            (t, e) -> {
              synchronized (this) {
                if (state == State.UNBINDING) {
                  state = State.UNBOUND;
                }
              }
              log.info("dev sigma-api unbound port {}: connections are refused", port);
              return Done.getInstance();
            });
  }

  /** Binds the same port again after {@link #unbind}; completes with the (same) base URL. */
  protected final synchronized CompletionStage<String> rebind() {
    if (state != State.UNBOUND) {
      return CompletableFuture.failedFuture(
          new IllegalStateException("dev sigma-api is not unbound (" + state + ")"));
    }
    state = State.REBINDING;
    return bind(port)
        .thenApply(
            url -> {
              log.info("dev sigma-api is bound again on {}", url);
              return url;
            });
  }

  /** Unbinds and closes connections; the instance cannot be started again. */
  public synchronized CompletionStage<Done> stop() {
    State was = state;
    state = State.STOPPED;
    ServerBinding b = binding;
    binding = null;
    if (b == null) {
      return CompletableFuture.completedFuture(Done.getInstance());
    }
    log.info("dev sigma-api on port {} stopping (was {})", port, was);
    return b.terminate(TERMINATE_DEADLINE).thenApply(t -> Done.getInstance());
  }

  private CompletionStage<String> bind(int p) {
    return Http.get(system)
        .newServerAt(HOST, p)
        .withSettings(settings)
        .bind(route)
        .handle(
            (b, e) -> {
              synchronized (this) {
                if (e != null) {
                  state = state == State.REBINDING ? State.UNBOUND : State.STOPPED;
                  throw new IllegalStateException("dev sigma-api cannot bind " + HOST + ":" + p, e);
                }
                if (state == State.STOPPED) {
                  b.unbind();
                  throw new IllegalStateException("dev sigma-api was stopped while binding");
                }
                binding = b;
                port = b.localAddress().getPort();
                state = State.UP;
                return baseUrl();
              }
            });
  }

  /** {@code http://127.0.0.1:PORT/api}; the port is known once {@link #start} completed. */
  public synchronized String baseUrl() {
    if (port < 0) {
      throw new IllegalStateException("dev sigma-api not bound yet");
    }
    return "http://" + HOST + ":" + port + EndpointKind.BASE_PATH;
  }

  /** The bound port (stays the same across {@link #unbind} / {@link #rebind}); -1 before start. */
  public synchronized int port() {
    return port;
  }

  /** Serving on its port. */
  protected final synchronized boolean isBound() {
    return state == State.UP;
  }

  /** Unbound by {@link #unbind}, until {@link #rebind}. */
  protected final synchronized boolean isUnbound() {
    return state == State.UNBOUND;
  }

  /** The data (VPS records, nodes, routes), for seeding (and the tests' DevApiAdmin). */
  public DevApiStore store() {
    return store;
  }
}
