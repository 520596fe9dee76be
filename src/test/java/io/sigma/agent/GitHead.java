package io.sigma.agent;

import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;

/** The commit checked out where the tests run (the build under test ran in the same checkout). */
public final class GitHead {
  private GitHead() {}

  public static String commit() throws Exception {
    Process git = new ProcessBuilder("git", "rev-parse", "HEAD").redirectErrorStream(true).start();
    String out = new String(git.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
    if (!git.waitFor(30, TimeUnit.SECONDS) || git.exitValue() != 0) {
      throw new IllegalStateException("git rev-parse HEAD failed: " + out);
    }
    return out;
  }
}
