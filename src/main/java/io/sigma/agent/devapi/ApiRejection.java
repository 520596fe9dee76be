package io.sigma.agent.devapi;

/**
 * A request the dev API refuses, with the HTTP status the real sigma-api would answer. Thrown by
 * {@link DevApiStore} and {@link DevApiRequests}; the routes turn it into {@code {"error":
 * message}}. Admin callers (tests, simulations) see it too.
 */
public final class ApiRejection extends RuntimeException {
  private final int status;

  public ApiRejection(int status, String message) {
    super(message);
    this.status = status;
  }

  public static ApiRejection badRequest(String message) {
    return new ApiRejection(400, message);
  }

  public static ApiRejection notFound() {
    return new ApiRejection(404, "Not found");
  }

  public static ApiRejection notFound(String message) {
    return new ApiRejection(404, message);
  }

  public static ApiRejection conflict(String message) {
    return new ApiRejection(409, message);
  }

  public int status() {
    return status;
  }
}
