package io.sigma.agent.devapi;

import static java.nio.charset.StandardCharsets.UTF_8;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sigma.agent.api.ApiError;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.Optional;
import java.util.function.Function;
import java.util.function.Supplier;
import org.apache.pekko.http.javadsl.model.ContentTypes;
import org.apache.pekko.http.javadsl.model.HttpHeader;
import org.apache.pekko.http.javadsl.model.HttpRequest;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.Query;
import org.apache.pekko.http.javadsl.server.AllDirectives;
import org.apache.pekko.http.javadsl.server.Route;
import org.apache.pekko.http.javadsl.unmarshalling.Unmarshaller;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The HTTP face of the dev API: classifies each request, hands it to the {@link DevApiInterceptor}
 * (which normally lets it through), checks the API key, then answers from the {@link DevApiStore}.
 * Only routing and rendering live here; rules live in the store and the request parser.
 */
public final class DevApiRoutes extends AllDirectives {
  private static final Logger log = LoggerFactory.getLogger(DevApiRoutes.class);
  static final String API_KEY_HEADER = "X-Api-Key";
  private static final Duration BODY_READ_TIMEOUT = Duration.ofSeconds(10);

  private final DevApiStore store;
  private final DevApiInterceptor interceptor;
  private final byte[] apiKey;
  private final ObjectMapper mapper;
  private final DevApiRequests requests;

  /**
   * @param apiKey the key every request must carry in {@code X-Api-Key}; null or blank: no check
   */
  public DevApiRoutes(
      DevApiStore store, DevApiInterceptor interceptor, String apiKey, ObjectMapper mapper) {
    this.store = store;
    this.interceptor = interceptor;
    this.apiKey = apiKey == null || apiKey.isBlank() ? null : apiKey.getBytes(UTF_8);
    this.mapper = mapper;
    this.requests = new DevApiRequests(mapper);
  }

  public Route route() {
    // Read the whole request body first, as a real server does: an (intercepted) answer sent
    // before the body has arrived would make Pekko close the connection after it.
    return toStrictEntity(
        BODY_READ_TIMEOUT,
        () ->
            extractRequest(
                request -> {
                  EndpointKind kind =
                      EndpointKind.classify(request.method().value(), request.getUri().path());
                  return interceptor.intercept(kind, request, () -> authorized(kind, request));
                }));
  }

  private Route authorized(EndpointKind kind, HttpRequest request) {
    if (apiKey != null) {
      Optional<HttpHeader> given = request.getHeader(API_KEY_HEADER);
      if (given.isEmpty()) {
        return complete(error(401, "Missing API key"));
      }
      if (!MessageDigest.isEqual(given.get().value().getBytes(UTF_8), apiKey)) {
        return complete(error(401, "Invalid API key"));
      }
    }
    Query query = request.getUri().query();
    return switch (kind) {
      case REGISTER -> withBody(body -> store.register(requests.register(body)));
      case HEARTBEAT -> withBody(body -> store.heartbeat(requests.heartbeat(body)));
      case CREATE_NODE -> withBody(body -> store.createNode(requests.createNode(body)));
      case SYNC_STATIC -> withBody(body -> store.syncStatic(requests.syncStatic(body)));
      case ENVOY_NODES ->
          answer(
              () ->
                  store.listNodes(
                      DevApiRequests.uuidParam("vps_id", param(query, "vps_id")),
                      param(query, "status"),
                      DevApiRequests.intParam("page", param(query, "page")),
                      DevApiRequests.intParam("per_page", param(query, "per_page"))));
      case ENVOY_ROUTES ->
          answer(
              () ->
                  store.listRoutes(
                      DevApiRequests.uuidParam("envoy_node_id", param(query, "envoy_node_id")),
                      param(query, "status"),
                      param(query, "source"),
                      DevApiRequests.intParam("page", param(query, "page")),
                      DevApiRequests.intParam("per_page", param(query, "per_page"))));
      case OTHER -> complete(error(404, "Not found"));
    };
  }

  private Route withBody(Function<JsonNode, Object> action) {
    return entity(
        Unmarshaller.entityToString(), body -> answer(() -> action.apply(requests.parse(body))));
  }

  private Route answer(Supplier<Object> action) {
    try {
      return complete(json(200, action.get()));
    } catch (ApiRejection r) {
      return complete(error(r.status(), r.getMessage()));
    } catch (RuntimeException e) {
      log.error("dev sigma-api: request failed unexpectedly, answering 500", e);
      return complete(error(500, "Internal server error"));
    }
  }

  private static String param(Query query, String name) {
    return query.get(name).orElse(null);
  }

  private HttpResponse json(int status, Object value) {
    try {
      return HttpResponse.create()
          .withStatus(status)
          .withEntity(ContentTypes.APPLICATION_JSON, mapper.writeValueAsBytes(value));
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("cannot render " + value.getClass().getSimpleName(), e);
    }
  }

  private HttpResponse error(int status, String message) {
    return json(status, new ApiError(message));
  }
}
