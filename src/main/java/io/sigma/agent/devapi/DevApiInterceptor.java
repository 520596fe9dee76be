package io.sigma.agent.devapi;

import java.util.function.Supplier;
import org.apache.pekko.http.javadsl.model.HttpRequest;
import org.apache.pekko.http.javadsl.server.Route;

/**
 * A hook in front of every request the dev API receives (after its body was read, before the API
 * key check). It returns the route that answers the request: {@code normal.get()} to let the dev
 * API answer as the contract says, or a route of its own. {@code sigma-agent --dev} uses {@link
 * #NONE}; the tests and benchmarks plug their fault injection in here.
 */
@FunctionalInterface
public interface DevApiInterceptor {
  /** Every request answered normally. */
  DevApiInterceptor NONE = (kind, request, normal) -> normal.get();

  /**
   * @param kind which endpoint the request addresses
   * @param normal builds the normal answer (it runs the store operation, so call it at most once
   *     and only when that answer is wanted)
   */
  Route intercept(EndpointKind kind, HttpRequest request, Supplier<Route> normal);
}
