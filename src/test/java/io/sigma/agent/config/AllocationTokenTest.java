package io.sigma.agent.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Optional;
import org.junit.jupiter.api.Test;

class AllocationTokenTest {
  private final AllocationToken token = new AllocationToken("s3cret-token");

  @Test
  void acceptsTheTokenAsXApiKey() {
    assertTrue(token.acceptsHeaders(Optional.of("s3cret-token"), Optional.empty()));
  }

  @Test
  void acceptsTheTokenAsBearerWhateverTheSchemeCase() {
    for (String header :
        new String[] {
          "Bearer s3cret-token",
          "bearer s3cret-token",
          "BEARER s3cret-token",
          "  Bearer   s3cret-token  "
        }) {
      assertTrue(token.acceptsHeaders(Optional.empty(), Optional.of(header)), header);
    }
  }

  @Test
  void oneMatchingHeaderIsEnoughEvenIfTheOtherIsWrong() {
    assertTrue(token.acceptsHeaders(Optional.of("wrong"), Optional.of("Bearer s3cret-token")));
    assertTrue(token.acceptsHeaders(Optional.of("s3cret-token"), Optional.of("Bearer wrong")));
  }

  @Test
  void rejectsMissingWrongAndNearMissTokens() {
    assertFalse(token.acceptsHeaders(Optional.empty(), Optional.empty()));
    assertFalse(token.acceptsHeaders(Optional.of(""), Optional.empty()));
    assertFalse(token.acceptsHeaders(Optional.of("s3cret-toke"), Optional.empty()));
    assertFalse(token.acceptsHeaders(Optional.of("s3cret-token2"), Optional.empty()));
    assertFalse(token.acceptsHeaders(Optional.of("S3CRET-TOKEN"), Optional.empty()));
    assertFalse(
        token.acceptsHeaders(Optional.empty(), Optional.of("s3cret-token")),
        "the token without the Bearer scheme");
    assertFalse(token.acceptsHeaders(Optional.empty(), Optional.of("Basic s3cret-token")));
    assertFalse(token.acceptsHeaders(Optional.empty(), Optional.of("Bearer")));
    assertFalse(token.acceptsHeaders(Optional.empty(), Optional.of("Bearer ")));
    assertFalse(token.acceptsHeaders(Optional.empty(), Optional.of("Bearers3cret-token")));
  }

  @Test
  void neverShowsTheToken() {
    assertFalse(token.toString().contains("s3cret"));
    assertEquals("AllocationToken[<redacted>]", token.toString());
  }

  @Test
  void aBlankTokenIsRejected() {
    assertThrows(IllegalArgumentException.class, () -> new AllocationToken(" "));
  }
}
