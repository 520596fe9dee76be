package io.sigma.agent.devapi;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class EndpointKindTest {

  @ParameterizedTest
  @CsvSource({
    "POST, /api/agent/register, REGISTER",
    "POST, /api/agent/register/, REGISTER",
    "post, /api/agent/register, REGISTER",
    "POST, /api/agent/heartbeat, HEARTBEAT",
    "GET, /api/envoy-nodes, ENVOY_NODES",
    "POST, /api/envoy-nodes, CREATE_NODE",
    "GET, /api/envoy-routes, ENVOY_ROUTES",
    "POST, /api/envoy-routes/sync-static, SYNC_STATIC",
    "GET, /api/agent/register, OTHER",
    "PUT, /api/envoy-nodes, OTHER",
    "POST, /api/envoy-routes, OTHER",
    "GET, /api/envoy-routes/sync-static, OTHER",
    "POST, /api//agent/register, OTHER",
    "POST, /agent/register, OTHER",
    "POST, /api, OTHER",
    "GET, /, OTHER",
    "POST, /api/agent/register/extra, OTHER",
    "POST, /apix/agent/register, OTHER"
  })
  void classifiesByMethodAndPath(String method, String path, EndpointKind expected) {
    assertEquals(expected, EndpointKind.classify(method, path));
  }

  @Test
  void nullsAreOther() {
    assertEquals(EndpointKind.OTHER, EndpointKind.classify(null, "/api/agent/register"));
    assertEquals(EndpointKind.OTHER, EndpointKind.classify("POST", null));
  }
}
