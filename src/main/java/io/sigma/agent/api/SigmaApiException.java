package io.sigma.agent.api;

import java.util.Optional;

/** Why a sigma-api call failed, in the terms the agent acts on. */
public final class SigmaApiException extends RuntimeException {

  public enum Kind {
    /** The server answered with a non-2xx status. */
    HTTP_STATUS,
    /** No complete answer within the request timeout. */
    TIMEOUT,
    /** Connection refused, reset, DNS failure: the server could not be reached. */
    UNREACHABLE,
    /** A 2xx answer whose body is not the JSON the contract promises. */
    BAD_RESPONSE
  }

  private final Kind kind;
  private final int status;
  private final boolean listingChanged;

  private SigmaApiException(Kind kind, int status, String message, Throwable cause) {
    this(kind, status, message, cause, false);
  }

  private SigmaApiException(
      Kind kind, int status, String message, Throwable cause, boolean listingChanged) {
    super(message, cause);
    this.kind = kind;
    this.status = status;
    this.listingChanged = listingChanged;
  }

  public static SigmaApiException httpStatus(int status, String message) {
    return new SigmaApiException(Kind.HTTP_STATUS, status, "HTTP " + status + ": " + message, null);
  }

  public static SigmaApiException timeout(String message) {
    return new SigmaApiException(Kind.TIMEOUT, 0, message, null);
  }

  public static SigmaApiException unreachable(String message, Throwable cause) {
    return new SigmaApiException(Kind.UNREACHABLE, 0, message, cause);
  }

  public static SigmaApiException badResponse(String message) {
    return new SigmaApiException(Kind.BAD_RESPONSE, 0, "bad response: " + message, null);
  }

  /**
   * A {@link Kind#BAD_RESPONSE} whose pages do not fit together because rows were added or removed
   * while they were read (the total changed, a row came twice, a page came up short): a torn read,
   * worth reading again at once, unlike a server that lies the same way every time.
   */
  public static SigmaApiException listingChanged(String message) {
    return new SigmaApiException(Kind.BAD_RESPONSE, 0, "bad response: " + message, null, true);
  }

  /** True for a {@link #listingChanged} failure. */
  public boolean isListingChanged() {
    return listingChanged;
  }

  public Kind kind() {
    return kind;
  }

  /** The HTTP status for {@link Kind#HTTP_STATUS}, else empty. */
  public Optional<Integer> status() {
    return kind == Kind.HTTP_STATUS ? Optional.of(status) : Optional.empty();
  }

  public boolean isStatus(int code) {
    return kind == Kind.HTTP_STATUS && status == code;
  }

  /** 401 or 403: the API key is missing, wrong or lacks the role. */
  public boolean isAuthFailure() {
    return isStatus(401) || isStatus(403);
  }

  /** Unwraps CompletionException layers to find a SigmaApiException, if any. */
  public static Optional<SigmaApiException> of(Throwable t) {
    for (Throwable c = t; c != null; c = c.getCause()) {
      if (c instanceof SigmaApiException e) {
        return Optional.of(e);
      }
    }
    return Optional.empty();
  }
}
