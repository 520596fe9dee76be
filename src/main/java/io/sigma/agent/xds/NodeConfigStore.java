package io.sigma.agent.xds;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sigma.agent.api.EnvoyNode;
import io.sigma.agent.api.EnvoyRoute;
import io.sigma.agent.api.Json;
import io.sigma.agent.host.HostFileReader;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Clock;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The last good config of every Envoy node, kept in a directory (normally {@code <state-dir>/xds})
 * so that a restarted agent serves it at once, before sigma-api answers.
 *
 * <p>One JSON file per node, {@code <encoded node.id>.json}, holding the node record and its routes
 * as sigma-api sent them ({@link NodeConfig}), not the serialized Envoy resources: the file stays
 * readable and small, and an upgraded agent maps it with its own (possibly fixed) mapper instead of
 * serving resources an older version built. Writes are atomic (a temp file in the same directory,
 * forced to disk, then an atomic rename), so a crash leaves the old file or the new one, never half
 * of one. The file also keeps the serial (version_info) the config was last served with, so a
 * restarted agent never numbers a config below what Envoy has seen (see {@link XdsSnapshot}).
 *
 * <p>Loading never throws: an unreadable or corrupt file is logged and skipped. A failed save
 * throws, and the caller (the poller) retries it until it works. Not thread-safe: one owner (the
 * poller) calls it.
 */
public class NodeConfigStore {

  /** Version of the file layout; files of another format are skipped on load. */
  static final int FORMAT = 1;

  static final String SUFFIX = ".json";
  private static final String TEMP_PREFIX = ".xds-";
  private static final String TEMP_SUFFIX = ".tmp";

  /** Largest serial accepted from a file (far above any clock; leaves room to count up). */
  static final long MAX_SERIAL = 1L << 62;

  /**
   * The largest state file read back: twice the routes listing's byte budget (the file holds what
   * one listing brought, re-indented). A FIFO, a device or a bigger file in the state dir is
   * skipped like a corrupt one, never opened or read to the end.
   */
  static final int MAX_FILE_BYTES = 16 << 20;

  /**
   * Encoded names longer than this are cut and made unique with a hash (file names max 255 bytes).
   */
  private static final int MAX_ENCODED_NAME = 180;

  private static final Logger log = LoggerFactory.getLogger(NodeConfigStore.class);

  private final Path dir;
  private final Clock clock;
  private final ObjectMapper json =
      Json.newMapper().addMixIn(EnvoyRoute.class, RouteFileFields.class);

  /** Routes are written with sigma-api's fields only (not the derived {@code isPlaceholder()}). */
  @JsonIgnoreProperties({"placeholder"})
  private abstract static class RouteFileFields {}

  /**
   * The file written for one node: the node record and its routes, and the serial it was served
   * with (absent in files of agents before serials: read as 0).
   */
  record StoredNodeConfig(
      int format, String savedAt, Long serial, EnvoyNode node, List<EnvoyRoute> routes) {}

  /**
   * A config read back from the directory, with the serial it was last served with (0: unknown).
   */
  public record Saved(NodeConfig config, long serial) {}

  /**
   * @param dir the directory to use (created on the first write)
   */
  public NodeConfigStore(Path dir, Clock clock) {
    this.dir = dir;
    this.clock = clock;
  }

  public Path dir() {
    return dir;
  }

  /**
   * Every readable node config in the directory, one per node.id (when two files name the same
   * node: the one served last, by serial, else the higher config_version; with the higher serial of
   * the two, so no serial is ever handed out twice). A missing directory is an empty store;
   * leftovers of interrupted writes are deleted.
   */
  public List<Saved> loadAll() {
    if (!Files.isDirectory(dir)) {
      log.info("xDS state: no saved Envoy configs yet ({} does not exist)", dir);
      return List.of();
    }
    Map<String, Saved> byNode = new LinkedHashMap<>();
    try (DirectoryStream<Path> files = Files.newDirectoryStream(dir)) {
      for (Path file : files) {
        String name = file.getFileName().toString();
        if (name.startsWith(TEMP_PREFIX) && name.endsWith(TEMP_SUFFIX)) {
          deleteQuietly(file, "left over from an interrupted write");
          continue;
        }
        if (!name.endsWith(SUFFIX) || name.startsWith(".")) {
          continue;
        }
        Saved saved = read(file);
        if (saved != null) {
          byNode.merge(saved.config().nodeId(), saved, NodeConfigStore::newer);
        }
      }
    } catch (IOException | RuntimeException e) {
      log.warn(
          "xDS state: cannot list {} ({}); starting without saved Envoy configs, they come from "
              + "sigma-api once it answers",
          dir,
          describe(e));
      return List.of();
    }
    return List.copyOf(byNode.values());
  }

  /**
   * Writes {@code config}, served with {@code serial}, as its node's last good config.
   *
   * @throws IOException when it could not be written (disk full, unwritable directory...); the
   *     previous file, if any, is left as it was
   */
  public void save(NodeConfig config, long serial) throws IOException {
    Path target = dir.resolve(fileName(config.nodeId()));
    Path temp = null;
    try {
      Files.createDirectories(dir);
      byte[] bytes =
          json.writerWithDefaultPrettyPrinter()
              .writeValueAsBytes(
                  new StoredNodeConfig(
                      FORMAT, clock.instant().toString(), serial, config.node(), config.routes()));
      temp = Files.createTempFile(dir, TEMP_PREFIX, TEMP_SUFFIX);
      try (FileChannel channel = FileChannel.open(temp, StandardOpenOption.WRITE)) {
        ByteBuffer buffer = ByteBuffer.wrap(bytes);
        while (buffer.hasRemaining()) {
          channel.write(buffer);
        }
        channel.force(true);
      }
      Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    } catch (IOException | RuntimeException e) {
      if (temp != null) {
        deleteQuietly(temp, "of a failed write");
      }
      throw e instanceof IOException io
          ? new IOException(describe(io), io)
          : new IOException(describe(e), e);
    }
  }

  private static Saved newer(Saved a, Saved b) {
    long serial = Math.max(a.serial(), b.serial());
    boolean bNewer =
        b.serial() != a.serial()
            ? b.serial() > a.serial()
            : b.config().configVersion() > a.config().configVersion();
    return new Saved(bNewer ? b.config() : a.config(), serial);
  }

  /** Forgets a node (gone from sigma-api), so a restart does not serve it again. */
  public void delete(String nodeId) {
    Path file = dir.resolve(fileName(nodeId));
    try {
      Files.deleteIfExists(file);
    } catch (IOException | RuntimeException e) {
      log.warn(
          "xDS state: cannot delete {} of removed Envoy node {} ({}); a restart with sigma-api down "
              + "would serve its old config until the first poll",
          file,
          nodeId,
          describe(e));
    }
  }

  /**
   * The file name for a node.id: letters, digits, '-' and '_' kept, every other byte (and a leading
   * '.') as %XX, so distinct node.ids never share a file; very long ids are cut and get a hash.
   */
  static String fileName(String nodeId) {
    StringBuilder name = new StringBuilder(nodeId.length() + 8);
    byte[] bytes = nodeId.getBytes(StandardCharsets.UTF_8);
    for (int i = 0; i < bytes.length; i++) {
      int b = bytes[i] & 0xff;
      boolean safe =
          (b >= 'a' && b <= 'z')
              || (b >= 'A' && b <= 'Z')
              || (b >= '0' && b <= '9')
              || b == '-'
              || b == '_'
              || (b == '.' && i > 0);
      if (safe) {
        name.append((char) b);
      } else {
        name.append('%')
            .append(Character.toUpperCase(Character.forDigit(b >> 4, 16)))
            .append(Character.toUpperCase(Character.forDigit(b & 0xf, 16)));
      }
    }
    if (name.length() > MAX_ENCODED_NAME) {
      name.setLength(MAX_ENCODED_NAME - 17);
      name.append('~').append(sha256(nodeId), 0, 16);
    }
    return name.append(SUFFIX).toString();
  }

  private Saved read(Path file) {
    StoredNodeConfig stored;
    try {
      stored =
          json.readValue(HostFileReader.readBytes(file, MAX_FILE_BYTES), StoredNodeConfig.class);
    } catch (JacksonException e) {
      log.warn(
          "xDS state: ignoring {}: not a saved Envoy config ({}); that node is served once sigma-api "
              + "answers",
          file,
          e.getOriginalMessage());
      return null;
    } catch (IOException | RuntimeException e) {
      log.warn(
          "xDS state: ignoring {}: cannot read it ({}); that node is served once sigma-api answers",
          file,
          describe(e));
      return null;
    }
    String problem = problem(stored);
    if (problem != null) {
      log.warn(
          "xDS state: ignoring {}: {}; that node is served once sigma-api answers", file, problem);
      return null;
    }
    List<EnvoyRoute> routes = new ArrayList<>(stored.routes().size());
    for (EnvoyRoute route : stored.routes()) {
      if (route != null) {
        routes.add(route);
      }
    }
    return new Saved(
        new NodeConfig(stored.node(), routes), stored.serial() == null ? 0 : stored.serial());
  }

  private static String problem(StoredNodeConfig stored) {
    if (stored == null) {
      return "empty";
    }
    if (stored.format() != FORMAT) {
      return "file format " + stored.format() + " is not " + FORMAT;
    }
    if (stored.node() == null
        || stored.node().nodeId() == null
        || stored.node().nodeId().isBlank()) {
      return "no node.node_id";
    }
    if (stored.routes() == null) {
      return "no routes array";
    }
    if (stored.serial() != null && (stored.serial() < 0 || stored.serial() > MAX_SERIAL)) {
      return "serial " + stored.serial() + " out of range";
    }
    return null;
  }

  private void deleteQuietly(Path file, String why) {
    try {
      Files.deleteIfExists(file);
      log.debug("xDS state: deleted {} ({})", file, why);
    } catch (IOException | RuntimeException e) {
      log.debug("xDS state: cannot delete {} ({}): {}", file, why, describe(e));
    }
  }

  private static String describe(Exception e) {
    if (e instanceof NoSuchFileException) {
      return "no such file or directory: " + e.getMessage();
    }
    if (e instanceof AccessDeniedException) {
      return "permission denied: " + e.getMessage();
    }
    return e.getMessage() == null
        ? e.getClass().getSimpleName()
        : e.getClass().getSimpleName() + ": " + e.getMessage();
  }

  private static String sha256(String text) {
    try {
      return HexFormat.of()
          .formatHex(
              MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8)));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is part of every JDK", e);
    }
  }
}
