package io.sigma.agent.host;

import java.io.IOException;
import java.nio.file.FileStore;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * {@code disk_gb}/{@code disk_used_gb} of the file system holding a path, from statvfs through
 * {@link FileStore}: {@code getTotalSpace} is f_blocks × f_frsize and {@code getUnallocatedSpace}
 * is f_bfree × f_frsize.
 */
public final class DiskSpaceReader {
  private DiskSpaceReader() {}

  public static DiskSpace read(Path path) throws IOException {
    FileStore store = Files.getFileStore(path);
    return DiskSpace.ofBytes(store.getTotalSpace(), store.getUnallocatedSpace());
  }
}
