package io.sigma.agent.ports;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;

/**
 * The body of {@code POST /ports/allocate}: {@code {"count": N}} with N a JSON integer in
 * 1..{@value PortAllocator#MAX_COUNT}. Strict, because a guess here hands out ports: a string
 * {@code "5"}, a fraction {@code 5.5}, even {@code 5.0}, {@code null}, a nested value, a duplicated
 * {@code count} or anything after the object is rejected. Other top-level fields are ignored (room
 * for sigma-api to add some).
 *
 * @param count how many ports the caller wants
 */
public record AllocationRequest(int count) {
  private static final ObjectMapper MAPPER =
      JsonMapper.builder()
          .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION)
          .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
          .build();

  /** Why a body is not a valid request; the message is safe to send back to the caller. */
  public static final class Invalid extends Exception {
    public Invalid(String message) {
      super(message);
    }
  }

  public AllocationRequest {
    if (count < 1 || count > PortAllocator.MAX_COUNT) {
      throw new IllegalArgumentException(boundsMessage(count));
    }
  }

  /** Parses and validates a request body. */
  public static AllocationRequest parse(String body) throws Invalid {
    JsonNode root;
    try {
      root = MAPPER.readTree(body);
    } catch (JsonProcessingException e) {
      throw new Invalid(
          "body is not valid JSON (" + e.getOriginalMessage() + "); expected {\"count\": N}");
    }
    if (root == null || !root.isObject()) {
      throw new Invalid("body must be a JSON object like {\"count\": 5}");
    }
    JsonNode count = root.get("count");
    if (count == null) {
      throw new Invalid("missing field \"count\"; expected {\"count\": N}");
    }
    if (!count.isIntegralNumber()) {
      throw new Invalid("\"count\" must be an integer, not " + describe(count));
    }
    if (!count.canConvertToInt()
        || count.intValue() < 1
        || count.intValue() > PortAllocator.MAX_COUNT) {
      throw new Invalid(boundsMessage(count.asText()));
    }
    return new AllocationRequest(count.intValue());
  }

  private static String boundsMessage(Object count) {
    return "\"count\" must be between 1 and " + PortAllocator.MAX_COUNT + ", was " + count;
  }

  private static String describe(JsonNode node) {
    return switch (node.getNodeType()) {
      case STRING -> "a string";
      case NUMBER -> "a fraction (" + node.asText() + ")";
      case NULL -> "null";
      case BOOLEAN -> "a boolean";
      case OBJECT -> "an object";
      case ARRAY -> "an array";
      default -> node.getNodeType().toString().toLowerCase(java.util.Locale.ROOT);
    };
  }
}
