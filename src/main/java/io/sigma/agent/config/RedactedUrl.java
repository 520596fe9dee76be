package io.sigma.agent.config;

import java.net.URI;
import java.util.regex.Pattern;

/**
 * A URL as it may be printed: a password in it ({@code https://user:pass@host/api}) never is. The
 * whole user-info part is replaced, since a token is often put where the user name goes.
 */
public final class RedactedUrl {
  public static final String USERINFO_MASK = "***";

  /** scheme://userinfo@ : the user-info ends at the last '@' before the path. */
  private static final Pattern USERINFO = Pattern.compile("(?<=//)[^/?#]*@");

  private RedactedUrl() {}

  public static String of(URI url) {
    return text(url.toString());
  }

  /** Works on text that is not a valid URL too (it may be the bad value of a setting). */
  public static String text(String url) {
    return USERINFO.matcher(url).replaceFirst(USERINFO_MASK + "@");
  }
}
