package io.sigma.agent.host;

/**
 * Size and use of a file system in whole GiB (2^30 bytes), rounded down, as in the contract's
 * {@code disk_gb} and {@code disk_used_gb}.
 */
public record DiskSpace(long totalGb, long usedGb) {
  private static final long GIB = 1L << 30;

  /**
   * From statvfs figures: total bytes (f_blocks × f_frsize) and free bytes including the
   * root-reserved blocks (f_bfree × f_frsize). Used = total − free, as {@code df} counts it.
   */
  public static DiskSpace ofBytes(long totalBytes, long freeBytes) {
    long total = Math.max(0, totalBytes);
    long used = Math.max(0, total - Math.max(0, freeBytes));
    return new DiskSpace(total / GIB, used / GIB);
  }
}
