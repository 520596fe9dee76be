package io.sigma.agent.devapi;

/**
 * The 200 JSON bodies of {@link Fault.MissingFields} and {@link Fault.WrongTypes}, shaped like the
 * answer of each endpoint so that only a careful client notices what is wrong.
 */
final class FaultBodies {
  private FaultBodies() {}

  static String missingFields(EndpointKind kind) {
    return switch (kind) {
      // A VPS record without "id".
      case REGISTER, HEARTBEAT -> "{\"hostname\":\"somewhere\",\"status\":\"active\"}";
      // A page without "data": must not read as "no nodes / no routes".
      case ENVOY_NODES, ENVOY_ROUTES -> "{\"total\":1,\"page\":1,\"per_page\":100}";
      case CREATE_NODE -> "{\"node_id\":\"dev-envoy\",\"status\":\"active\"}";
      case SYNC_STATIC -> "{\"upserted\":1}";
      case OTHER -> "{}";
    };
  }

  static String wrongTypes(EndpointKind kind) {
    return switch (kind) {
      case REGISTER, HEARTBEAT ->
          "{\"id\":12345,\"hostname\":[\"not\",\"a\",\"string\"],\"status\":{\"active\":true}}";
      case ENVOY_NODES ->
          "{\"data\":[{\"id\":7,\"vps_id\":true,\"node_id\":[],\"config_version\":\"seven\","
              + "\"status\":1}],\"total\":\"one\",\"page\":\"first\",\"per_page\":null}";
      case ENVOY_ROUTES ->
          "{\"data\":[{\"id\":7,\"name\":[],\"listen_port\":\"ten thousand\","
              + "\"backend_port\":\"x\",\"proxy_protocol\":\"two\"}],\"total\":\"one\","
              + "\"page\":\"first\",\"per_page\":null}";
      case CREATE_NODE ->
          "{\"id\":42,\"vps_id\":[],\"node_id\":{},\"config_version\":\"seven\",\"status\":false}";
      case SYNC_STATIC -> "{\"upserted\":\"some\",\"deleted\":[1]}";
      case OTHER -> "[]";
    };
  }
}
