package io.layerfs.testkit;

import java.nio.file.Files;
import java.nio.file.Path;

import org.junit.jupiter.api.Assumptions;

/**
 * The gate for tests that mount. CI runs as root with /dev/fuse, so there a missing privilege fails
 * the test; only an explicit {@code -Dlayerfs.mountTests=false} (a laptop) turns mount tests into
 * skipped ones, reported with the reason. Never a silent skip.
 */
public final class MountTests {
    /** Surefire passes this from the parent pom; only a laptop sets it to false. */
    public static final String MOUNT_TESTS_PROPERTY = "layerfs.mountTests";

    /**
     * Gate for tests that mount: aborts the test (reported as skipped, with the reason) only when the
     * build says {@code -Dlayerfs.mountTests=false}; otherwise a missing privilege is a failure, never
     * a silent skip, because CI runs as root with /dev/fuse.
     */
    public static void requireMountPrivileges() {
        Assumptions.assumeFalse("false".equalsIgnoreCase(System.getProperty(MOUNT_TESTS_PROPERTY)),
                "mount tests disabled by -D" + MOUNT_TESTS_PROPERTY + "=false");
        if (Mounts.effectiveUid() != 0) {
            throw new AssertionError("mount tests need root (CI runs as root); run as root or pass -D"
                    + MOUNT_TESTS_PROPERTY + "=false to skip them explicitly");
        }
    }

    /** {@link #requireMountPrivileges()} plus a usable /dev/fuse. */
    public static void requireFuse() {
        requireMountPrivileges();
        if (!Files.exists(Path.of("/dev/fuse"))) {
            throw new AssertionError("FUSE mount tests need /dev/fuse; pass -D" + MOUNT_TESTS_PROPERTY
                    + "=false to skip them explicitly");
        }
    }

    private MountTests() {
    }
}
