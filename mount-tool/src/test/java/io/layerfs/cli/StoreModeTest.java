package io.layerfs.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import io.layerfs.store.LayerStore;
import io.layerfs.testkit.MountTests;

/**
 * Promise 5, the store's part: started as root, the store root is created mode 0700, so that host
 * users cannot walk into container uppers (or layer diffs) and run the setuid files there, whatever
 * modes those have (the CVE-2023-0386 way out of a union).
 */
class StoreModeTest {
    @TempDir
    Path tmp;

    @Test
    void storeRoot_createdAsRoot_isMode0700_andOtherUidsCannotEnter() throws Exception {
        MountTests.requireMountPrivileges();
        Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rwxr-xr-x"));
        Path root = tmp.resolve("var/lib/layerfs");

        LayerStore.open(root);

        assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(root)));
        Process p = new ProcessBuilder("setpriv", "--reuid=1000", "--regid=1000", "--clear-groups",
                "ls", root.resolve("containers").toString()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        assertTrue(p.waitFor(30, TimeUnit.SECONDS));
        assertTrue(p.exitValue() != 0 && out.contains("Permission denied"), out);
    }

    @Test
    void storeRoot_existingWithLooserMode_isTightenedTo0700() throws Exception {
        Path root = tmp.resolve("store");
        Files.createDirectories(root);
        Files.setPosixFilePermissions(root, PosixFilePermissions.fromString("rwxr-xr-x"));

        LayerStore.open(root);

        assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(root)));
    }
}
