package io.sigma.agent.ports;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;
import java.util.function.Supplier;
import org.apache.pekko.http.javadsl.model.ContentTypes;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.StatusCode;
import org.apache.pekko.http.javadsl.model.StatusCodes;
import org.apache.pekko.http.javadsl.model.headers.HttpChallenge;
import org.apache.pekko.http.javadsl.model.headers.WWWAuthenticate;
import org.apache.pekko.http.javadsl.server.AllDirectives;
import org.apache.pekko.http.javadsl.server.PathMatchers;
import org.apache.pekko.http.javadsl.server.Route;
import org.apache.pekko.http.javadsl.unmarshalling.Unmarshaller;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code POST /ports/allocate} on the metrics server, the call sigma-api proxies for
 * {@code POST /vps/{id}/allocate-ports} (contract section 5).
 *
 * <table>
 *   <caption>answers</caption>
 *   <tr><td>200</td><td>{@code {"ports": [10001, 10002]}}: reserved for the caller</td></tr>
 *   <tr><td>400</td><td>{@code {"error": "..."}}: body not {@code {"count": N}}, 1 ≤ N ≤ 1000
 *       ({@link AllocationRequest})</td></tr>
 *   <tr><td>401</td><td>an {@code --allocate-token} is set and neither {@code X-Api-Key} nor
 *       {@code Authorization: Bearer} carries it</td></tr>
 *   <tr><td>409</td><td>fewer free ports than asked; nothing reserved</td></tr>
 *   <tr><td>413</td><td>body over {@value #MAX_BODY_BYTES} bytes</td></tr>
 *   <tr><td>503</td><td>port scanning is off ({@code --port-scan})</td></tr>
 * </table>
 * The token is checked before anything else, so an unauthenticated caller learns nothing
 * (not even whether scanning is on). The allocation blocks for its bind tests, so it runs on
 * the given blocking-IO executor, not on the HTTP server's threads.
 */
public final class AllocationRoutes extends AllDirectives {
  private static final Logger LOG = LoggerFactory.getLogger(AllocationRoutes.class);
  /** Bodies are {@code {"count": N}}; anything this long is not one. */
  public static final long MAX_BODY_BYTES = 4096;

  private final ObjectMapper json = new ObjectMapper();
  private final Optional<PortAllocator> allocator;
  private final Supplier<Optional<AllocationToken>> token;
  private final Executor blocking;

  /**
   * @param allocator the allocator, or empty when port scanning is disabled (answers 503)
   * @param token the required shared secret, or empty for none
   * @param blocking runs the allocations (they bind-test ports)
   */
  public AllocationRoutes(Optional<PortAllocator> allocator, Optional<AllocationToken> token,
      Executor blocking) {
    this(allocator, constant(Objects.requireNonNull(token, "token")), blocking);
  }

  /** @param token the token as of each request: SIGHUP may set, change or remove it */
  public AllocationRoutes(Optional<PortAllocator> allocator,
      Supplier<Optional<AllocationToken>> token, Executor blocking) {
    this.allocator = Objects.requireNonNull(allocator, "allocator");
    this.token = Objects.requireNonNull(token, "token");
    this.blocking = Objects.requireNonNull(blocking, "blocking");
  }

  private static Supplier<Optional<AllocationToken>> constant(Optional<AllocationToken> token) {
    return () -> token;
  }

  public Route route() {
    return path(PathMatchers.segment("ports").slash("allocate"), () -> post(() ->
        optionalHeaderValueByName("X-Api-Key", apiKey ->
            optionalHeaderValueByName("Authorization", authorization -> {
              Optional<AllocationToken> token = this.token.get();
              if (token.isPresent() && !token.get().acceptsHeaders(apiKey, authorization)) {
                LOG.debug("POST /ports/allocate without a valid allocation token: 401");
                return complete(error(StatusCodes.UNAUTHORIZED, "missing or wrong allocation "
                    + "token: send it as X-Api-Key or Authorization: Bearer")
                    .addHeader(WWWAuthenticate.create(HttpChallenge.create("Bearer", "sigma-agent"))));
              }
              if (allocator.isEmpty()) {
                return complete(error(StatusCodes.SERVICE_UNAVAILABLE,
                    "port scanning is disabled on this agent (start it with --port-scan)"));
              }
              return withSizeLimit(MAX_BODY_BYTES, () ->
                  entity(Unmarshaller.entityToString(), body ->
                      completeWithFuture(answer(allocator.get(), body))));
            }))));
  }

  private CompletionStage<HttpResponse> answer(PortAllocator ports, String body) {
    AllocationRequest request;
    try {
      request = AllocationRequest.parse(body);
    } catch (AllocationRequest.Invalid e) {
      return CompletableFuture.completedFuture(error(StatusCodes.BAD_REQUEST, e.getMessage()));
    }
    return CompletableFuture.supplyAsync(() -> ports.allocate(request.count()), blocking)
        .handle((allocation, failure) -> {
          if (failure != null) {
            LOG.error("Port allocation of {} failed unexpectedly", request.count(), failure);
            return error(StatusCodes.INTERNAL_SERVER_ERROR,
                "allocation failed: " + failure.getMessage());
          }
          return respond(ports.range(), allocation);
        });
  }

  private HttpResponse respond(PortRange range, PortAllocator.Allocation allocation) {
    if (allocation instanceof PortAllocator.Allocation.Granted granted) {
      LOG.info("Allocated {} port(s) of {}: {}", granted.ports().size(), range, granted.ports());
      ObjectNode body = json.createObjectNode();
      ArrayNode ports = body.putArray("ports");
      granted.ports().forEach(ports::add);
      return jsonResponse(StatusCodes.OK, body);
    }
    PortAllocator.Allocation.Insufficient insufficient =
        (PortAllocator.Allocation.Insufficient) allocation;
    LOG.warn("Allocation of {} port(s) refused: only {} free in {}", insufficient.requested(),
        insufficient.free(), range);
    return error(StatusCodes.CONFLICT, "only " + insufficient.free() + " free port(s) in "
        + range + ", " + insufficient.requested() + " requested");
  }

  private HttpResponse error(StatusCode status, String message) {
    return jsonResponse(status, json.createObjectNode().put("error", message));
  }

  private HttpResponse jsonResponse(StatusCode status, ObjectNode body) {
    byte[] bytes;
    try {
      bytes = json.writeValueAsBytes(body);
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      throw new IllegalStateException("a tree of strings and ints always serializes", e);
    }
    return HttpResponse.create().withStatus(status)
        .withEntity(ContentTypes.APPLICATION_JSON, bytes);
  }
}
