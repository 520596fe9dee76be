package io.sigma.agent.api;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sigma.agent.config.ApiKey;
import java.net.URI;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
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
import org.apache.pekko.util.ByteString;

/**
 * sigma-api over Pekko HTTP's pooled client. Every call has one deadline (the request timeout)
 * covering connect, headers and body; every failure becomes a {@link SigmaApiException}.
 */
public final class HttpSigmaApi implements SigmaApi {
  private static final int MAX_ERROR_TEXT = 200;
  /** Pekko's default first reconnect pause after a failed connection attempt. */
  static final Duration BASE_CONNECTION_BACKOFF = Duration.ofMillis(100);
  /** The longest a request waits for the pool to try connecting again after failures. */
  static final Duration MAX_CONNECTION_BACKOFF = Duration.ofSeconds(1);

  private final ActorSystem<?> system;
  private final String base;
  private final Optional<ApiKey> apiKey;
  private final Duration timeout;
  private final ConnectionPoolSettings poolSettings;
  private final ObjectMapper json = Json.newMapper();

  public HttpSigmaApi(ActorSystem<?> system, URI baseUrl, Optional<ApiKey> apiKey, Duration timeout) {
    this.system = system;
    String b = baseUrl.toString();
    this.base = b.endsWith("/") ? b.substring(0, b.length() - 1) : b;
    this.apiKey = apiKey;
    this.timeout = timeout;
    // A server that accepts and then hangs would otherwise hold a pooled connection for the
    // default idle timeout (60 s) after the caller has given up; tie both to the request timeout.
    ClientConnectionSettings connection = ClientConnectionSettings.create(system.classicSystem())
        .withConnectingTimeout(timeout)
        .withIdleTimeout(timeout.plus(timeout));
    // The pool's own reconnect back-off (Pekko's default grows to 2 min, for the whole pool) is
    // a second, hidden retry policy on top of the callers' (RegistrationActor, the xDS poller),
    // which already space their attempts. After an outage it held every request back for up to
    // 2 min although the API was answering, then sent them all at once, including requests whose
    // callers had long given up: in the fleet simulation (1,000 agents, 3 min outage) the API got
    // 12x its steady rate 17 s after it was back. Capped at MAX_CONNECTION_BACKOFF, a request
    // meets the API's real state within a second.
    this.poolSettings = ConnectionPoolSettings.create(system.classicSystem())
        .withConnectionSettings(connection)
        .withBaseConnectionBackoff(BASE_CONNECTION_BACKOFF)
        .withMaxConnectionBackoff(MAX_CONNECTION_BACKOFF);
  }

  @Override
  public CompletionStage<VpsRecord> register(RegisterRequest request) {
    return send(HttpMethods.POST, "/agent/register", request, new TypeReference<VpsRecord>() {})
        .thenApply(v -> requireVps(v, "register"));
  }

  @Override
  public CompletionStage<VpsRecord> heartbeat(HeartbeatRequest request) {
    return send(HttpMethods.POST, "/agent/heartbeat", request, new TypeReference<VpsRecord>() {})
        .thenApply(v -> requireVps(v, "heartbeat"));
  }

  @Override
  public CompletionStage<Page<EnvoyNode>> envoyNodes(String vpsId, int page, int perPage) {
    String path = "/envoy-nodes?vps_id=" + enc(vpsId) + "&status=active&page=" + page
        + "&per_page=" + perPage;
    return send(HttpMethods.GET, path, null, new TypeReference<Page<EnvoyNode>>() {});
  }

  @Override
  public CompletionStage<Page<EnvoyRoute>> envoyRoutes(String envoyNodeUuid, int page, int perPage) {
    String path = "/envoy-routes?envoy_node_id=" + enc(envoyNodeUuid)
        + "&status=active&source=dynamic&page=" + page + "&per_page=" + perPage;
    return send(HttpMethods.GET, path, null, new TypeReference<Page<EnvoyRoute>>() {});
  }

  @Override
  public CompletionStage<EnvoyNode> createEnvoyNode(CreateEnvoyNodeRequest request) {
    return send(HttpMethods.POST, "/envoy-nodes", request, new TypeReference<EnvoyNode>() {})
        .thenApply(n -> {
          if (n == null || n.id() == null || n.nodeId() == null) {
            throw SigmaApiException.badResponse("created Envoy node has no id/node_id");
          }
          return n;
        });
  }

  @Override
  public CompletionStage<SyncStaticResult> syncStatic(SyncStaticRequest request) {
    return send(HttpMethods.POST, "/envoy-routes/sync-static", request,
        new TypeReference<SyncStaticResult>() {});
  }

  private static VpsRecord requireVps(VpsRecord v, String call) {
    if (v == null || v.id() == null || v.id().isBlank()) {
      throw SigmaApiException.badResponse(call + " answer has no VPS \"id\"");
    }
    return v;
  }

  private static String enc(String s) {
    return URLEncoder.encode(s, StandardCharsets.UTF_8);
  }

  private <T> CompletionStage<T> send(HttpMethod method, String path, Object body, TypeReference<T> type) {
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
    // The body is always read to the end (toStrict), even after the caller's deadline passed, so
    // a late answer frees its pooled connection instead of stalling the pool.
    CompletionStage<StrictResponse> strict = Http.get(system)
        .singleRequest(request, OnDemandTls.CLIENT, poolSettings, system.classicSystem().log())
        .thenCompose(r -> r.entity().toStrict(timeout.toMillis(), system)
            .thenApply(e -> new StrictResponse(r, e.getData())));
    return strict.toCompletableFuture()
        .copy()
        .orTimeout(timeout.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS)
        .handle((r, error) -> {
          if (error != null) {
            throw classify(what, error);
          }
          return decode(what, r, type);
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
      throw SigmaApiException.badResponse(what + " answered " + describe(text)
          + " (" + e.getOriginalMessage() + ")");
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
    return "'" + (oneLine.length() > MAX_ERROR_TEXT
        ? oneLine.substring(0, MAX_ERROR_TEXT) + "…" : oneLine) + "'";
  }

  private SigmaApiException classify(String what, Throwable error) {
    Throwable e = error instanceof CompletionException && error.getCause() != null
        ? error.getCause() : error;
    if (e instanceof SigmaApiException s) {
      return s;
    }
    if (e instanceof TimeoutException) {
      return SigmaApiException.timeout(what + " got no answer within " + timeout.toMillis() + " ms");
    }
    String message = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
    return SigmaApiException.unreachable(what + " failed: " + message, e);
  }
}
