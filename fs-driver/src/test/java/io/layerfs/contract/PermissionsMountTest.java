package io.layerfs.contract;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import io.layerfs.sys.Stat;
import io.layerfs.sys.Sys;

/**
 * Processes of other uids inside the mount (as in a container): started as root, layerfs mounts with
 * allow_other and default_permissions, so the kernel checks modes, sticky and setgid rules.
 * The processes run through setpriv(1) as uid/gid 1000 or 1001.
 */
class PermissionsMountTest {
    private static final Sys SYS = Sys.get();

    @TempDir
    Path tmp;

    /** Runs sh -c script as uid:gid and returns its exit status (stderr goes to the test log). */
    static int runAs(int uid, int gid, String script) throws IOException, InterruptedException {
        Process p = new ProcessBuilder("setpriv", "--reuid=" + uid, "--regid=" + gid, "--clear-groups",
                "sh", "-c", script).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(30, TimeUnit.SECONDS), "timed out: " + script);
        if (!out.isBlank()) {
            System.err.println("[uid " + uid + "] " + script + ": " + out.strip());
        }
        return p.exitValue();
    }

    private Stack stack() throws Exception {
        // other uids must be able to walk down to the mount point
        SYS.fchmodat(Sys.AT_FDCWD, tmp.toString(), 0755);
        Stack s = new Stack(Files.createDirectories(tmp.resolve("stack")), 1);
        SYS.fchmodat(Sys.AT_FDCWD, s.base.toString(), 0755);
        Path l = s.lower(0);
        s.file(l, "etc/secret", "root only");
        SYS.fchmodat(Sys.AT_FDCWD, l.resolve("etc/secret").toString(), 0600);
        s.file(l, "etc/motd", "hello");
        SYS.fchmodat(Sys.AT_FDCWD, l.resolve("etc/motd").toString(), 0644);
        Stack.mkdirs(l.resolve("tmp"));
        SYS.fchmodat(Sys.AT_FDCWD, l.resolve("tmp").toString(), 01777);
        s.file(l, "tmp/owned-by-1001", "x");
        SYS.lchownat(Sys.AT_FDCWD, l.resolve("tmp/owned-by-1001").toString(), 1001, 1001);
        Stack.mkdirs(l.resolve("shared"));
        SYS.lchownat(Sys.AT_FDCWD, l.resolve("shared").toString(), 0, 2000);
        SYS.fchmodat(Sys.AT_FDCWD, l.resolve("shared").toString(), 02777);
        return s;
    }

    @Test
    void otherUid_kernelChecksModes() throws Exception {
        Stack s = stack();
        try (MountView v = LayerfsMount.mount(s.config(), s.base.resolve("mnt"))) {
            String m = v.root().toString();
            assertEquals(0, runAs(1000, 1000, "cat " + m + "/etc/motd >/dev/null"), "world-readable file");
            assertTrue(runAs(1000, 1000, "cat " + m + "/etc/secret") != 0, "0600 root file must be refused");
            assertTrue(runAs(1000, 1000, "echo x >> " + m + "/etc/motd") != 0, "no write permission");
            assertTrue(runAs(1000, 1000, "touch " + m + "/etc/new") != 0, "no write permission on /etc");
            assertEquals("hello", Stack.text(v.read("/etc/motd")), "a refused write changes nothing");
            assertEquals(List.of("motd", "secret"), v.list("/etc"));
        }
    }

    @Test
    void otherUid_newFilesGetCallersOwner_andStickyDirectoryProtectsOthersFiles() throws Exception {
        Stack s = stack();
        try (MountView v = LayerfsMount.mount(s.config(), s.base.resolve("mnt"))) {
            String m = v.root().toString();
            assertEquals(0, runAs(1000, 1000, "echo mine > " + m + "/tmp/mine && mkdir " + m + "/tmp/d"));
            Stat st = v.stat("/tmp/mine");
            assertEquals(1000, st.uid);
            assertEquals(1000, st.gid);
            assertEquals(1000, v.stat("/tmp/d").uid);
            assertTrue(runAs(1000, 1000, "rm -f " + m + "/tmp/owned-by-1001") != 0, "sticky /tmp");
            assertEquals(0, runAs(1001, 1001, "rm " + m + "/tmp/owned-by-1001"), "the owner may delete");
            assertEquals(List.of("d", "mine"), v.list("/tmp"));
        }
    }

    @Test
    void setgidDirectory_newEntriesTakeItsGroup() throws Exception {
        Stack s = stack();
        try (MountView v = LayerfsMount.mount(s.config(), s.base.resolve("mnt"))) {
            String m = v.root().toString();
            assertEquals(0, runAs(1000, 1000, "touch " + m + "/shared/f && mkdir " + m + "/shared/sub"));
            assertEquals(2000, v.stat("/shared/f").gid);
            Stat sub = v.stat("/shared/sub");
            assertEquals(2000, sub.gid);
            assertEquals(02000, sub.mode & 02000, "subdirectories inherit setgid");
        }
    }

    @Test
    void openUnlinkedFile_fstatGivesNlinkZero_andDataStaysReadable() throws Exception {
        Stack s = stack();
        try (MountView v = LayerfsMount.mount(s.config(), s.base.resolve("mnt"))) {
            v.write("/etc/tmpfile", Stack.bytes("still here"));
            int fd = SYS.openat(Sys.AT_FDCWD, v.host("/etc/tmpfile"), Sys.O_RDWR, 0);
            try {
                v.unlink("/etc/tmpfile");
                assertEquals(0, SYS.fstat(fd).nlink);
                byte[] buf = new byte[10];
                assertEquals(10, SYS.pread(fd, buf, 10, 0));
                assertEquals("still here", new String(buf, StandardCharsets.UTF_8));
            } finally {
                SYS.close(fd);
            }
            assertEquals(List.of("motd", "secret"), v.list("/etc"), "no .fuse_hidden file left behind");
        }
    }
}
