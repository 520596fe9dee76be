package io.sigma.agent.ports;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

class AllocationRequestTest {

  static Stream<Arguments> valid() {
    return Stream.of(
        Arguments.of("{\"count\": 1}", 1),
        Arguments.of("{\"count\": 1000}", 1000),
        Arguments.of("  {\"count\":5}\n", 5),
        Arguments.of("{\"count\": 7, \"purpose\": \"envoy\"}", 7));
  }

  @ParameterizedTest
  @MethodSource("valid")
  void acceptsAnIntegerCountInBounds(String body, int count) throws Exception {
    assertEquals(new AllocationRequest(count), AllocationRequest.parse(body));
  }

  static Stream<Arguments> invalid() {
    return Stream.of(
        // wrong types
        Arguments.of("{\"count\": \"5\"}", "must be an integer, not a string"),
        Arguments.of("{\"count\": 5.5}", "must be an integer, not a fraction (5.5)"),
        Arguments.of("{\"count\": 5.0}", "must be an integer, not a fraction (5.0)"),
        Arguments.of("{\"count\": 1e2}", "must be an integer, not a fraction"),
        Arguments.of("{\"count\": null}", "must be an integer, not null"),
        Arguments.of("{\"count\": true}", "must be an integer, not a boolean"),
        Arguments.of("{\"count\": [5]}", "must be an integer, not an array"),
        Arguments.of("{\"count\": {\"value\": 5}}", "must be an integer, not an object"),
        // out of bounds
        Arguments.of("{\"count\": 0}", "must be between 1 and 1000, was 0"),
        Arguments.of("{\"count\": -3}", "must be between 1 and 1000, was -3"),
        Arguments.of("{\"count\": 1001}", "must be between 1 and 1000, was 1001"),
        Arguments.of("{\"count\": 4294967296}", "must be between 1 and 1000, was 4294967296"),
        Arguments.of("{\"count\": 99999999999999999999999}", "must be between 1 and 1000"),
        // missing count, extra nesting, not an object
        Arguments.of("{}", "missing field \"count\""),
        Arguments.of("{\"Count\": 5}", "missing field \"count\""),
        Arguments.of("{\"request\": {\"count\": 5}}", "missing field \"count\""),
        Arguments.of("[{\"count\": 5}]", "must be a JSON object"),
        Arguments.of("5", "must be a JSON object"),
        Arguments.of("\"{\\\"count\\\": 5}\"", "must be a JSON object"),
        Arguments.of("null", "must be a JSON object"),
        // malformed JSON
        Arguments.of("{\"count\": 5", "not valid JSON"),
        Arguments.of("{count: 5}", "not valid JSON"),
        Arguments.of("{'count': 5}", "not valid JSON"),
        Arguments.of("{\"count\": 5} {\"count\": 6}", "not valid JSON"),
        Arguments.of("{\"count\": 5} trailing", "not valid JSON"),
        Arguments.of("{\"count\": 1, \"count\": 900}", "Duplicate field 'count'"),
        Arguments.of("{\"count\": NaN}", "not valid JSON"),
        Arguments.of("count=5", "not valid JSON"));
  }

  @ParameterizedTest
  @MethodSource("invalid")
  void rejectsWithAMessageSayingWhy(String body, String expected) {
    AllocationRequest.Invalid invalid =
        assertThrows(AllocationRequest.Invalid.class, () -> AllocationRequest.parse(body));
    assertTrue(
        invalid.getMessage().contains(expected),
        "'" + invalid.getMessage() + "' should contain '" + expected + "'");
  }

  @ParameterizedTest
  @ValueSource(strings = {"", "   ", "\n"})
  void rejectsAnEmptyBody(String body) {
    AllocationRequest.Invalid invalid =
        assertThrows(AllocationRequest.Invalid.class, () -> AllocationRequest.parse(body));
    assertTrue(invalid.getMessage().contains("must be a JSON object"), invalid.getMessage());
  }

  @ParameterizedTest
  @ValueSource(ints = {0, -1, 1001})
  void theRecordItselfEnforcesTheBounds(int count) {
    assertThrows(IllegalArgumentException.class, () -> new AllocationRequest(count));
  }
}
