package dev.credchain;

import com.sun.jna.Library;
import com.sun.jna.NativeLibrary;
import com.sun.jna.Platform;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Collections;
import java.util.EnumSet;
import java.util.Map;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Finds libcredchain, in this order:
 *
 * <ol>
 *   <li>the system property {@value #PROPERTY} (a file, or a directory holding libcredchain.so);
 *   <li>the environment variable {@value #ENV} (same);
 *   <li>the copy bundled in the jar under {@code <jna platform prefix>/libcredchain.so}
 *       ({@code linux-x86-64/libcredchain.so}), extracted to a fresh temporary file.
 * </ol>
 *
 * <p>A property or variable that is set but names nothing loadable is an error: it never falls
 * through to the next place, so a typo cannot silently load some other copy.
 *
 * <p>The library is opened {@code RTLD_LOCAL}, not with JNA's default {@code RTLD_GLOBAL}: its
 * symbols serve this binding only. Loaded globally, they would also satisfy the {@code credchain_*}
 * references of every native driver loaded later (whatever ABI major that driver was built for),
 * bypassing the driver's own copy; opened locally, each driver calls its own copy, and the copies
 * agree among themselves which one serves the process (the first loaded of each ABI major).
 */
final class NativeLoader {
  static final String PROPERTY = "credchain.library.path";
  static final String ENV = "CREDCHAIN_LIBRARY";
  /** Where to extract the bundled copy; default java.io.tmpdir. Must not be mounted noexec. */
  static final String TMPDIR_PROPERTY = "credchain.tmpdir";

  private static final Logger LOG = Logger.getLogger("dev.credchain");

  /** The loaded library and a human description of where it came from. */
  static final class Loaded {
    final NativeLibrary library;
    final String location;

    Loaded(NativeLibrary library, String location) {
      this.library = library;
      this.location = location;
    }
  }

  private NativeLoader() {}

  /** dlopen flags: RTLD_LAZY, and RTLD_LOCAL (0 on Linux, 4 on macOS). */
  static final Map<String, Object> OPEN_OPTIONS = Collections.<String, Object>singletonMap(
      Library.OPTION_OPEN_FLAGS, Platform.isMac() ? 0x1 | 0x4 : 0x1);

  /**
   * What every entry point throws when loading failed: {@code INTERNAL}, with the reason. A
   * {@link CredChainException} (the ABI check's) contributes its message as is, anything else
   * (an {@link UnsatisfiedLinkError}) its {@code toString()}.
   */
  static CredChainException loadFailure(Throwable error) {
    String why = error instanceof CredChainException ? error.getMessage() : error.toString();
    return new CredChainException(CredChainException.Code.INTERNAL,
        "libcredchain could not be loaded: " + why, error);
  }

  static String libraryFileName() {
    return System.mapLibraryName("credchain");
  }

  static String resourceName() {
    return Platform.RESOURCE_PREFIX + "/" + libraryFileName();
  }

  static Loaded load() throws IOException {
    String prop = System.getProperty(PROPERTY);
    if (prop != null && !prop.isEmpty()) {
      return openFile(prop, "system property " + PROPERTY);
    }
    String env = System.getenv(ENV);
    if (env != null && !env.isEmpty()) {
      return openFile(env, "environment variable " + ENV);
    }
    return extractBundled();
  }

  private static Loaded openFile(String configured, String how) {
    File f = new File(configured);
    if (f.isDirectory()) {
      f = new File(f, libraryFileName());
    }
    if (!f.isFile()) {
      throw new UnsatisfiedLinkError(how + " names " + configured + ", but " + f + " is not a file");
    }
    String path = f.getAbsolutePath();
    return new Loaded(NativeLibrary.getInstance(path, OPEN_OPTIONS), path + " (" + how + ")");
  }

  private static Loaded extractBundled() throws IOException {
    String resource = resourceName();
    ClassLoader cl = NativeLoader.class.getClassLoader();
    InputStream in = cl == null ? ClassLoader.getSystemResourceAsStream(resource)
        : cl.getResourceAsStream(resource);
    if (in == null) {
      throw new UnsatisfiedLinkError("libcredchain not found: set the system property " + PROPERTY
          + " or the environment variable " + ENV + " to its path; this jar bundles no "
          + resource);
    }
    Path tmp;
    try {
      tmp = createPrivateTempFile();
      tmp.toFile().deleteOnExit();
      try (OutputStream out = Files.newOutputStream(tmp, StandardOpenOption.WRITE,
          StandardOpenOption.TRUNCATE_EXISTING, LinkOption.NOFOLLOW_LINKS)) {
        byte[] buf = new byte[64 * 1024];
        for (int n; (n = in.read(buf)) > 0; ) {
          out.write(buf, 0, n);
        }
      }
    } finally {
      in.close();
    }
    NativeLibrary lib;
    try {
      lib = NativeLibrary.getInstance(tmp.toString(), OPEN_OPTIONS);
    } catch (UnsatisfiedLinkError e) {
      Files.deleteIfExists(tmp);
      throw e;
    }
    // Once mapped, the file is no longer needed on POSIX systems: unlinking it now means no copy
    // is left behind even if the JVM dies without running its exit hooks (deleteOnExit stays as
    // the fallback where unlinking a mapped file is not allowed).
    if (!Platform.isWindows()) {
      try {
        Files.deleteIfExists(tmp);
      } catch (IOException e) {
        LOG.log(Level.FINE, "could not delete " + tmp + " yet; it goes at exit", e);
      }
    }
    return new Loaded(lib, "jar resource " + resource + " extracted to " + tmp);
  }

  /** A new file with a unique name that only this user can read, write or map. */
  static Path createPrivateTempFile() throws IOException {
    String dirName = System.getProperty(TMPDIR_PROPERTY);
    if (dirName == null || dirName.isEmpty()) {
      dirName = System.getProperty("java.io.tmpdir");
    }
    Path dir = Paths.get(dirName);
    String suffix = "-" + libraryFileName();
    if (FileSystems.getDefault().supportedFileAttributeViews().contains("posix")) {
      // createTempFile opens with CREATE_NEW (O_EXCL): an existing file or symlink of the same
      // name makes it fail rather than be followed; the mode is set atomically at creation.
      return Files.createTempFile(dir, "credchain-", suffix, PosixFilePermissions.asFileAttribute(
          EnumSet.of(PosixFilePermission.OWNER_READ, PosixFilePermission.OWNER_WRITE,
              PosixFilePermission.OWNER_EXECUTE)));
    }
    Path p = Files.createTempFile(dir, "credchain-", suffix);
    File f = p.toFile();
    f.setReadable(false, false);
    f.setWritable(false, false);
    f.setExecutable(false, false);
    f.setReadable(true, true);
    f.setWritable(true, true);
    f.setExecutable(true, true);
    return p;
  }
}
