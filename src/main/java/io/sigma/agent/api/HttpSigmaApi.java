package io.sigma.agent.api;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.URI;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeoutException;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.http.javadsl.Http;
import org.apache.pekko.http.javadsl.model.ContentTypes;
import org.apache.pekko.http.javadsl.model.HttpMethod;
import org.apache.pekko.http.javadsl.model.HttpMethods;
import org.apache.pekko.http.javadsl.model.HttpRequest;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.headers.RawHeader;
import org.apache.pekko.http.javadsl.settings.ClientConnectionSettings;
import org.apache.pekko.http.javadsl.settings.ConnectionPoolSettings;
import org.apache.pekko.http.scaladsl.model.EntityStreamSizeException;
import org.apache.pekko.util.ByteString;

/**
 * sigma-api over Pekko HTTP's pooled client, in two lanes with connections of their own: the fleet
 * lane (register, heartbeat) and the xDS lane (listings, node registration, static sync), so route
 * fetches can never hold the connections a heartbeat needs. A request waits in its lane for a free
 * connection (bounded: {@link #MAX_WAITING} requests, each at most one request timeout), then has
 * one deadline, the request timeout, from the moment it is handed to a free connection, covering
 * connect, headers and body. A body is read up to {@link #MAX_RESPONSE_BYTES}. Every failure
 * becomes a {@link SigmaApiException}.
 */
public final class HttpSigmaApi implements SigmaApi {
  private static final int MAX_ERROR_TEXT = 200;

  /**
   * Largest response body read, 4 MiB: an honest page of 100 routes is ~45 KB. A longer body (e.g.
   * one that never ends) is cut off as it streams in, never buffered whole.
   */
  public static final long MAX_RESPONSE_BYTES = 4L * 1024 * 1024;

  /**
   * Connections of the fleet lane: the registration actor has one request in flight at a time; a
   * second connection lets its next beat go while a late answer still holds the first.
   */
  static final int FLEET_CONNECTIONS = 2;

  /** Connections of the xDS lane: the poller's routes fetches at once (ConfigPoller's default). */
  static final int XDS_CONNECTIONS = 4;

  /** Requests that may wait for a connection in one lane; more fail at once. */
  static final int MAX_WAITING = 32;

  /** Pekko's default first reconnect pause after a failed connection attempt. */
  static final Duration BASE_CONNECTION_BACKOFF = Duration.ofMillis(100);

  /** The longest a request waits for the pool to try connecting again after failures. */
  static final Duration MAX_CONNECTION_BACKOFF = Duration.ofSeconds(1);

  private final ActorSystem<?> system;
  private final String base;
  private final Optional<ApiKey> apiKey;
  private final Duration timeout;

  /** Who a failure names: the host and port of --api-url, never its user info. */
  private final String peerHost;

  private final int peerPort;
  private final Lane fleet;
  private final Lane xds;
  private final ObjectMapper json = Json.newMapper();

  /** A lane: its admission and its own Pekko pool (pools are keyed by their settings). */
  private record Lane(RequestLane admission, ConnectionPoolSettings pool) {}

  public HttpSigmaApi(
      ActorSystem<?> system, URI baseUrl, Optional<ApiKey> apiKey, Duration timeout) {
    this.system = system;
    String b = baseUrl.toString();
    this.base = b.endsWith("/") ? b.substring(0, b.length() - 1) : b;
    this.apiKey = apiKey;
    this.timeout = timeout;
    this.peerHost =
        baseUrl.getHost() == null ? String.valueOf(baseUrl.getAuthority()) : baseUrl.getHost();
    this.peerPort =
        baseUrl.getPort() != -1
            ? baseUrl.getPort()
            : "https".equalsIgnoreCase(baseUrl.getScheme()) ? 443 : 80;
    // A server that accepts and then hangs would otherwise hold a pooled connection for the
    // default idle timeout (60 s) after the caller has given up; tie both to the request timeout.
    ClientConnectionSettings connection =
        ClientConnectionSettings.create(system.classicSystem())
            .withConnectingTimeout(timeout)
            .withIdleTimeout(timeout.plus(timeout));
    // The pool's own reconnect back-off (Pekko's default grows to 2 min, for the whole pool) is
    // a second, hidden retry policy on top of the callers' (RegistrationActor, the xDS poller),
    // which already space their attempts. After an outage it held every request back for up to
    // 2 min although the API was answering, then sent them all at once, including requests whose
    // callers had long given up: in the fleet simulation (1,000 agents, 3 min outage) the API got
    // 12x its steady rate 17 s after it was back. Capped at MAX_CONNECTION_BACKOFF, a request
    // meets the API's real state within a second.
    ConnectionPoolSettings pool =
        ConnectionPoolSettings.create(system.classicSystem())
            .withConnectionSettings(connection)
            .withBaseConnectionBackoff(BASE_CONNECTION_BACKOFF)
            .withMaxConnectionBackoff(MAX_CONNECTION_BACKOFF);
    // The queue wait is bounded by one request timeout: a connection is normally free again
    // within one timeout (connect, idle and body reads are all tied to it), so waiting longer
    // means the lane is stuck, and the caller's own retry schedule serves better than a queue.
    this.fleet = lane("fleet", FLEET_CONNECTIONS, pool);
    this.xds = lane("xDS", XDS_CONNECTIONS, pool);
    if (fleet.pool().equals(xds.pool())) {
      throw new IllegalStateException("the fleet and xDS lanes would share one connection pool");
    }
  }

  private Lane lane(String name, int connections, ConnectionPoolSettings pool) {
    return new Lane(
        new RequestLane(
            name,
            connections,
            MAX_WAITING,
            timeout,
            system.classicSystem().scheduler(),
            system.executionContext()),
        pool.withMaxConnections(connections));
  }

  @Override
  public CompletionStage<VpsRecord> register(RegisterRequest request) {
    return send(
            fleet, HttpMethods.POST, "/agent/register", request, new TypeReference<VpsRecord>() {})
        .thenApply(v -> requireVps(v, "register"));
  }

  @Override
  public CompletionStage<VpsRecord> heartbeat(HeartbeatRequest request) {
    return send(
            fleet, HttpMethods.POST, "/agent/heartbeat", request, new TypeReference<VpsRecord>() {})
        .thenApply(v -> requireVps(v, "heartbeat"));
  }

  @Override
  public CompletionStage<Page<EnvoyNode>> envoyNodes(String vpsId, int page, int perPage) {
    return nodesPage(vpsId, page, perPage).thenApply(FetchedPage::page);
  }

  @Override
  public CompletionStage<Page<EnvoyRoute>> envoyRoutes(
      String envoyNodeUuid, int page, int perPage) {
    return routesPage(envoyNodeUuid, page, perPage).thenApply(FetchedPage::page);
  }

  /**
   * As the default, with each page's body size counted against {@link ListingLimits#maxBytes()}.
   */
  @Override
  public CompletionStage<List<EnvoyNode>> allEnvoyNodes(String vpsId) {
    return Pagination.collectAll(
        Pagination.nodesListing(vpsId),
        ListingLimits.NODES,
        MAX_PER_PAGE,
        EnvoyNode::id,
        page -> nodesPage(vpsId, page, MAX_PER_PAGE));
  }

  /**
   * As the default, with each page's body size counted against {@link ListingLimits#maxBytes()}.
   */
  @Override
  public CompletionStage<List<EnvoyRoute>> allEnvoyRoutes(String envoyNodeUuid) {
    return Pagination.collectAll(
        Pagination.routesListing(envoyNodeUuid),
        ListingLimits.ROUTES,
        MAX_PER_PAGE,
        EnvoyRoute::id,
        page -> routesPage(envoyNodeUuid, page, MAX_PER_PAGE));
  }

  private CompletionStage<FetchedPage<EnvoyNode>> nodesPage(String vpsId, int page, int perPage) {
    String path =
        "/envoy-nodes?vps_id="
            + enc(vpsId)
            + "&status=active&page="
            + page
            + "&per_page="
            + perPage;
    return exchange(xds, HttpMethods.GET, path, null, new TypeReference<Page<EnvoyNode>>() {})
        .thenApply(d -> new FetchedPage<>(d.value(), d.bodyBytes()));
  }

  private CompletionStage<FetchedPage<EnvoyRoute>> routesPage(
      String envoyNodeUuid, int page, int perPage) {
    String path =
        "/envoy-routes?envoy_node_id="
            + enc(envoyNodeUuid)
            + "&status=active&source=dynamic&page="
            + page
            + "&per_page="
            + perPage;
    return exchange(xds, HttpMethods.GET, path, null, new TypeReference<Page<EnvoyRoute>>() {})
        .thenApply(d -> new FetchedPage<>(d.value(), d.bodyBytes()));
  }

  @Override
  public CompletionStage<EnvoyNode> createEnvoyNode(CreateEnvoyNodeRequest request) {
    return send(xds, HttpMethods.POST, "/envoy-nodes", request, new TypeReference<EnvoyNode>() {})
        .thenApply(
            n -> {
              if (n == null || n.id() == null || n.nodeId() == null) {
                throw SigmaApiException.badResponse("created Envoy node has no id/node_id");
              }
              return n;
            });
  }

  @Override
  public CompletionStage<SyncStaticResult> syncStatic(SyncStaticRequest request) {
    return send(
        xds,
        HttpMethods.POST,
        "/envoy-routes/sync-static",
        request,
        new TypeReference<SyncStaticResult>() {});
  }

  /**
   * The VPS id goes into URLs (vps_id=...), the state and the logs: only a UUID in its canonical
   * 36-character form is taken.
   */
  private static VpsRecord requireVps(VpsRecord v, String call) {
    if (v == null || v.id() == null || v.id().isBlank()) {
      throw SigmaApiException.badResponse(call + " answer has no VPS \"id\"");
    }
    if (!VpsIds.isCanonicalUuid(v.id())) {
      throw SigmaApiException.badResponse(
          call + " answer has a VPS \"id\" that is not a UUID: " + Excerpt.of(v.id()));
    }
    return v;
  }

  private static String enc(String s) {
    return URLEncoder.encode(s, StandardCharsets.UTF_8);
  }

  private <T> CompletionStage<T> send(
      Lane lane, HttpMethod method, String path, Object body, TypeReference<T> type) {
    return exchange(lane, method, path, body, type).thenApply(Decoded::value);
  }

  private record Decoded<T>(T value, long bodyBytes) {}

  private <T> CompletionStage<Decoded<T>> exchange(
      Lane lane, HttpMethod method, String path, Object body, TypeReference<T> type) {
    HttpRequest request;
    try {
      request = HttpRequest.create(base + path).withMethod(method);
      if (body != null) {
        request = request.withEntity(ContentTypes.APPLICATION_JSON, json.writeValueAsBytes(body));
      }
      if (apiKey.isPresent()) {
        request = request.addHeader(RawHeader.create("X-Api-Key", apiKey.get().value()));
      }
    } catch (Exception e) {
      return CompletableFuture.failedFuture(
          SigmaApiException.badResponse("could not build request: " + e.getMessage()));
    }
    String what = method.value() + " " + path;
    HttpRequest ready = request;
    // The body is always read to the end (toStrict, at most MAX_RESPONSE_BYTES), even after the
    // caller's deadline passed, so a late answer frees its pooled connection (and its lane slot)
    // instead of stalling the pool. The deadline starts when the lane hands the request to a
    // free connection, so time spent waiting for one is not taken from it.
    return lane.admission()
        .admit(
            what,
            () ->
                Http.get(system)
                    .singleRequest(
                        ready, OnDemandTls.CLIENT, lane.pool(), system.classicSystem().log())
                    // withSizeLimit fails the body stream with an EntityStreamSizeException as soon
                    // as it
                    // passes the limit; toStrict's own, higher cap is never the one that stops it.
                    .thenCompose(
                        r ->
                            r.entity()
                                .withSizeLimit(MAX_RESPONSE_BYTES)
                                .toStrict(timeout.toMillis(), 2 * MAX_RESPONSE_BYTES, system)
                                .thenApply(e -> new StrictResponse(r, e.getData())))
                    .toCompletableFuture())
        .thenCompose(
            started ->
                started
                    .copy()
                    .orTimeout(timeout.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS))
        .handle(
            (r, error) -> {
              if (error != null) {
                throw classify(what, error);
              }
              return new Decoded<>(decode(what, r, type), r.body().size());
            });
  }

  private record StrictResponse(HttpResponse response, ByteString body) {}

  private <T> T decode(String what, StrictResponse r, TypeReference<T> type) {
    int status = r.response().status().intValue();
    String text = r.body().utf8String();
    if (status < 200 || status > 299) {
      throw SigmaApiException.httpStatus(status, errorText(text));
    }
    try {
      T value = json.readValue(text, type);
      if (value == null) {
        throw SigmaApiException.badResponse(what + " answered an empty or null body");
      }
      return value;
    } catch (JacksonException e) {
      throw SigmaApiException.badResponse(
          what + " answered " + describe(text) + " (" + e.getOriginalMessage() + ")");
    }
  }

  /** The server's {"error": ...} message, or a short, single-line look at whatever came back. */
  private String errorText(String body) {
    try {
      ApiError e = json.readValue(body, ApiError.class);
      if (e != null && e.error() != null) {
        return e.error();
      }
    } catch (JacksonException | IllegalArgumentException ignored) {
      // not the JSON error shape: describe what it is instead
    }
    return describe(body);
  }

  private static String describe(String body) {
    String t = body.strip();
    if (t.isEmpty()) {
      return "an empty body";
    }
    String lower = t.toLowerCase(java.util.Locale.ROOT);
    if (lower.startsWith("<!doctype html") || lower.startsWith("<html")) {
      return "an HTML page";
    }
    String oneLine = t.replaceAll("\\s+", " ");
    return "'"
        + (oneLine.length() > MAX_ERROR_TEXT ? oneLine.substring(0, MAX_ERROR_TEXT) + "…" : oneLine)
        + "'";
  }

  /**
   * Pekko reports a body over the toStrict limit as an EntityStreamSizeException, maybe wrapped.
   */
  private static boolean tooLong(Throwable error) {
    for (Throwable c = error; c != null; c = c.getCause()) {
      if (c instanceof EntityStreamSizeException) {
        return true;
      }
    }
    return false;
  }

  private SigmaApiException classify(String what, Throwable error) {
    Throwable e =
        error instanceof CompletionException && error.getCause() != null ? error.getCause() : error;
    if (e instanceof SigmaApiException s) {
      return s;
    }
    if (tooLong(e)) {
      return SigmaApiException.badResponse(
          what
              + " answered a body longer than "
              + MAX_RESPONSE_BYTES
              + " bytes; stopped reading it");
    }
    if (e instanceof TimeoutException) {
      return SigmaApiException.timeout(
          what
              + ": no answer from "
              + peerHost
              + ":"
              + peerPort
              + " within "
              + timeout.toMillis()
              + " ms");
    }
    return SigmaApiException.unreachable(
        what + ": " + ConnectionFailure.describe(e, peerHost, peerPort, timeout), e);
  }
}
