package io.sigma.agent.feature;

import java.util.Objects;
import org.apache.pekko.http.javadsl.server.Route;

/**
 * A page for the operator on the management port (loopback by default), next to /alive and /ready.
 *
 * @param path the path the route serves, as the start-up log lists it (e.g. "/xds/status")
 * @param route the route
 */
public record ManagementPage(String path, Route route) {
  public ManagementPage {
    Objects.requireNonNull(path, "path");
    Objects.requireNonNull(route, "route");
  }
}
