package io.sigma.agent.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;

class JsonTest {
  private final ObjectMapper json = Json.newMapper();

  @Test
  void readsSnakeCaseAndIgnoresUnknownFields() throws Exception {
    EnvoyNode n =
        json.readValue(
            "{\"id\":\"u\",\"vps_id\":\"v\",\"node_id\":\"layer4-01\","
                + "\"admin_port\":null,\"config_version\":7,\"status\":\"active\",\"future\":{\"x\":1}}",
            EnvoyNode.class);
    assertEquals("layer4-01", n.nodeId());
    assertEquals(7, n.configVersion());
  }

  @Test
  void rejectsAStringWhereANumberBelongs() {
    assertThrows(
        JsonProcessingException.class,
        () -> json.readValue("{\"id\":\"u\",\"config_version\":\"7\"}", EnvoyNode.class));
  }

  @Test
  void rejectsAFractionWhereAnIntegerBelongs() {
    assertThrows(
        JsonProcessingException.class,
        () -> json.readValue("{\"id\":\"u\",\"config_version\":7.9}", EnvoyNode.class));
  }

  @Test
  void rejectsANumberWhereAnIdBelongs() {
    assertThrows(
        JsonProcessingException.class,
        () -> json.readValue("{\"id\":12345,\"hostname\":\"h\"}", VpsRecord.class));
  }

  @Test
  void rejectsAMissingPrimitive() {
    assertThrows(
        JsonProcessingException.class, () -> json.readValue("{\"id\":\"u\"}", EnvoyNode.class));
  }

  @Test
  void rejectsAnOutOfRangePort() {
    assertThrows(
        JsonProcessingException.class,
        () -> json.readValue("{\"listen_port\":99999999999}", EnvoyRoute.class));
  }
}
