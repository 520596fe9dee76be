package io.sigma.agent.host;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

class LogTextTest {

  @Test
  void shortTextIsQuotedOnOneLine() {
    assertEquals("'a b c'", LogText.excerpt("  a\n b\r\n\tc \n", 10));
  }

  @Test
  void longTextIsCut() {
    assertEquals("'abcde…'", LogText.excerpt("abcdefgh", 5));
  }

  @Test
  void controlCharactersCannotReachTheLog() {
    assertEquals("'??x?[31m'", LogText.excerpt("\u0000\u0001x\u001b[31m", 20));
  }
}
