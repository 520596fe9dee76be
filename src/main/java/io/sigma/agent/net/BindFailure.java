package io.sigma.agent.net;

import java.net.BindException;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Why a server could not bind, in one line: Pekko reports a taken port as
 * "org.apache.pekko.stream.impl.io.ConnectionSourceStage$$anon$1$$anon$2: Bind failed because of
 * java.net.BindException: [/127.0.0.1:9102] Address already in use".
 */
public final class BindFailure {
  /** Pekko's BindException text: "[host/address:port] reason". */
  private static final Pattern PEKKO_BIND =
      Pattern.compile("^\\[(?:[^/\\]]*/)?([^\\]]+)\\]\\s*(.*)$");

  private BindFailure() {}

  /** e.g. "127.0.0.1:9102 is already in use", "cannot bind 10.9.9.9:9102: Cannot assign ...". */
  public static String describe(Throwable error) {
    for (Throwable c = error; c != null; c = c.getCause()) {
      if (c instanceof BindException) {
        String text = String.valueOf(c.getMessage());
        Matcher m = PEKKO_BIND.matcher(text);
        String address = m.matches() ? m.group(1) : null;
        String why = m.matches() ? m.group(2) : text;
        if (why.toLowerCase(java.util.Locale.ROOT).contains("already in use")) {
          return (address == null ? "the address" : address) + " is already in use";
        }
        return "cannot bind" + (address == null ? "" : " " + address) + ": " + why;
      }
    }
    Throwable root = error;
    while (root.getCause() != null) {
      root = root.getCause();
    }
    return root.getMessage() == null ? root.toString() : root.getMessage();
  }
}
