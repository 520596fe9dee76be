package io.sigma.agent.ports;

/** The kernel's TCP state numbers, as printed (hex) in the {@code st} column of /proc/net/tcp. */
public final class TcpState {
  public static final int ESTABLISHED = 0x01;
  public static final int SYN_SENT = 0x02;
  public static final int SYN_RECV = 0x03;
  public static final int FIN_WAIT1 = 0x04;
  public static final int FIN_WAIT2 = 0x05;
  public static final int TIME_WAIT = 0x06;
  public static final int CLOSE = 0x07;
  public static final int CLOSE_WAIT = 0x08;
  public static final int LAST_ACK = 0x09;
  public static final int LISTEN = 0x0A;
  public static final int CLOSING = 0x0B;

  private TcpState() {}
}
