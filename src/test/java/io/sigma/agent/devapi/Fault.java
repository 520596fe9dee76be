package io.sigma.agent.devapi;

import java.time.Duration;
import java.util.Objects;

/**
 * One way the dev API can misbehave on a request, as sigma-api or a proxy in front of it would.
 * Create with the static factories; aim with {@link FaultPlan}.
 */
public sealed interface Fault {

  /** A complete answer: any status, content type and body. */
  record Answer(int status, String contentType, String body) implements Fault {
    public Answer {
      if (status < 100 || status > 599) {
        throw new IllegalArgumentException("HTTP status out of range: " + status);
      }
      Objects.requireNonNull(contentType);
      Objects.requireNonNull(body);
    }
  }

  /** 200 with JSON that lacks the fields the agent needs (e.g. no "id", no "data"). */
  record MissingFields() implements Fault {}

  /** 200 with JSON whose fields have the wrong types (e.g. "id": 12345, "data": "x"). */
  record WrongTypes() implements Fault {}

  /** Waits, then answers normally: past the client's timeout when long enough. */
  record Delay(Duration delay) implements Fault {
    public Delay {
      if (delay.isNegative()) {
        throw new IllegalArgumentException("negative delay: " + delay);
      }
    }
  }

  /** Aborts the TCP connection (RST) without sending a single byte of an answer. */
  record Reset() implements Fault {}

  String JSON = "application/json";
  String HTML = "text/html";
  String TEXT = "text/plain";

  /** {@code status} with sigma-api's error body {@code {"error": "<reason phrase>"}}. */
  static Fault status(int status) {
    return new Answer(status, JSON, "{\"error\":\"" + reason(status) + "\"}");
  }

  /** {@code status} with a given error message as {@code {"error": message}}. */
  static Fault status(int status, String message) {
    return new Answer(status, JSON, "{\"error\":" + quote(message) + "}");
  }

  /** An nginx-style HTML error page, e.g. {@code html(502)} for "502 Bad Gateway". */
  static Fault html(int status) {
    String title = status + " " + reason(status);
    return new Answer(
        status,
        HTML,
        "<html>\r\n<head><title>"
            + title
            + "</title></head>\r\n"
            + "<body>\r\n<center><h1>"
            + title
            + "</h1></center>\r\n"
            + "<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n");
  }

  /** {@code status} with a plain-text body. */
  static Fault plainText(int status, String text) {
    return new Answer(status, TEXT, text);
  }

  /** {@code status} with an empty body. */
  static Fault empty(int status) {
    return new Answer(status, TEXT, "");
  }

  /** 200, labelled application/json, with a body that is not JSON at all. */
  static Fault nonJson() {
    return new Answer(200, JSON, "upstream says: OK (this is not JSON)");
  }

  static Fault missingFields() {
    return new MissingFields();
  }

  static Fault wrongTypes() {
    return new WrongTypes();
  }

  static Fault delay(Duration delay) {
    return new Delay(delay);
  }

  static Fault reset() {
    return new Reset();
  }

  /** The standard reason phrase of a status, or "Error". */
  static String reason(int status) {
    return switch (status) {
      case 400 -> "Bad Request";
      case 401 -> "Unauthorized";
      case 403 -> "Forbidden";
      case 404 -> "Not Found";
      case 408 -> "Request Timeout";
      case 409 -> "Conflict";
      case 429 -> "Too Many Requests";
      case 500 -> "Internal Server Error";
      case 502 -> "Bad Gateway";
      case 503 -> "Service Unavailable";
      case 504 -> "Gateway Timeout";
      default -> status >= 200 && status < 300 ? "OK" : "Error";
    };
  }

  private static String quote(String s) {
    StringBuilder b = new StringBuilder("\"");
    for (char c : s.toCharArray()) {
      switch (c) {
        case '"' -> b.append("\\\"");
        case '\\' -> b.append("\\\\");
        case '\n' -> b.append("\\n");
        case '\r' -> b.append("\\r");
        case '\t' -> b.append("\\t");
        default -> {
          if (c < 0x20) {
            b.append(String.format("\\u%04x", (int) c));
          } else {
            b.append(c);
          }
        }
      }
    }
    return b.append('"').toString();
  }
}
