package io.sigma.agent.host;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DiskSpaceReaderTest {
  private static final long GIB = 1L << 30;

  @Test
  void wholeGibibytesRoundedDown() {
    assertEquals(new DiskSpace(40, 12), DiskSpace.ofBytes(40 * GIB + GIB - 1, 28 * GIB + 1));
    assertEquals(new DiskSpace(0, 0), DiskSpace.ofBytes(GIB - 1, 0));
    assertEquals(new DiskSpace(1, 0), DiskSpace.ofBytes(GIB, GIB));
  }

  @Test
  void impossibleFiguresDoNotGoNegative() {
    assertEquals(new DiskSpace(1, 0), DiskSpace.ofBytes(GIB, 2 * GIB));
    assertEquals(new DiskSpace(0, 0), DiskSpace.ofBytes(-1, -1));
  }

  @Test
  void aMissingPathIsAnIoError(@TempDir Path dir) {
    assertThrows(NoSuchFileException.class, () -> DiskSpaceReader.read(dir.resolve("nope")));
  }

  /**
   * The root file system against java.io.File's statvfs view. Used space moves while other builds
   * run, so it is compared within 1 GiB; the total does not move.
   */
  @Test
  void realRootFileSystem() throws Exception {
    File root = new File("/");
    long total = root.getTotalSpace();
    long usedBefore = total - root.getFreeSpace();
    DiskSpace read = DiskSpaceReader.read(Path.of("/"));
    long usedAfter = total - root.getFreeSpace();
    assertEquals(total / GIB, read.totalGb());
    long low = Math.min(usedBefore, usedAfter) / GIB - 1;
    long high = Math.max(usedBefore, usedAfter) / GIB + 1;
    assertTrue(
        read.usedGb() >= low && read.usedGb() <= high,
        low + " <= " + read.usedGb() + " <= " + high);
    assertTrue(read.totalGb() > 0);
  }
}
