package io.sigma.agent.logging;

import ch.qos.logback.classic.pattern.ThrowableProxyConverter;
import ch.qos.logback.classic.spi.IThrowableProxy;
import ch.qos.logback.classic.spi.StackTraceElementProxy;

/**
 * {@code %safeEx}: a stack trace whose exception messages (of the throwable, its causes and
 * suppressed ones) have their control characters escaped. A stack trace spans lines by nature, but
 * each of them is a class name, a frame or a "Caused by:" line: a message that carries a line break
 * cannot start a line that looks like a log event.
 */
public final class EscapedThrowableConverter extends ThrowableProxyConverter {
  @Override
  protected String throwableProxyToString(IThrowableProxy throwable) {
    return super.throwableProxyToString(new EscapedMessage(throwable));
  }

  /** {@code delegate} with an escaped message, and so are its causes and suppressed throwables. */
  private record EscapedMessage(IThrowableProxy delegate) implements IThrowableProxy {
    @Override
    public String getMessage() {
      return ControlCharacters.escape(delegate.getMessage());
    }

    @Override
    public String getClassName() {
      return ControlCharacters.escape(delegate.getClassName());
    }

    @Override
    public StackTraceElementProxy[] getStackTraceElementProxyArray() {
      return delegate.getStackTraceElementProxyArray();
    }

    @Override
    public int getCommonFrames() {
      return delegate.getCommonFrames();
    }

    @Override
    public IThrowableProxy getCause() {
      IThrowableProxy cause = delegate.getCause();
      return cause == null ? null : new EscapedMessage(cause);
    }

    @Override
    public IThrowableProxy[] getSuppressed() {
      IThrowableProxy[] suppressed = delegate.getSuppressed();
      if (suppressed == null) {
        return null;
      }
      IThrowableProxy[] escaped = new IThrowableProxy[suppressed.length];
      for (int i = 0; i < suppressed.length; i++) {
        escaped[i] = new EscapedMessage(suppressed[i]);
      }
      return escaped;
    }

    @Override
    public boolean isCyclic() {
      return delegate.isCyclic();
    }
  }
}
