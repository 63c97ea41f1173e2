package io.layerfs.contract;

import static io.layerfs.contract.PermissionsMountTest.runAs;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import io.layerfs.sys.Stat;
import io.layerfs.sys.Sys;

/**
 * Promise 5 of the README as an attacker inside a container sees it: an unprivileged uid (1000,
 * through setpriv(1), no capabilities) works on a layerfs mount whose server runs as root, and
 * must not gain privilege through it. Each known overlayfs privilege bug is reproduced in the form
 * layerfs can express (no user namespaces here: "unprivileged" is a uid without capabilities).
 * <pre>
 *   l0/bin/tool        root:root 06777, security.capability = cap_setuid+ep
 *   l0/home/user/      1000:1000 0755
 *   l0/home/user/prog  1000:1000 0755
 *   l0/opt/suid-root   root:root 04755 (the lower is on a nosuid tmpfs mount: CVE-2023-0386 case)
 * </pre>
 */
class SecurityMountTest {
    private static final Sys SYS = Sys.get();
    /** VFS_CAP_REVISION_2 | VFS_CAP_FLAGS_EFFECTIVE, permitted = CAP_SETUID (7): cap_setuid+ep. */
    private static final byte[] CAP_SETUID_EP = {1, 0, 0, 2, (byte) 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};
    private static final String CAP_HEX = "0x0100000280000000000000000000000000000000";

    @TempDir
    Path tmp;

    private Stack stack() throws Exception {
        SYS.fchmodat(Sys.AT_FDCWD, tmp.toString(), 0755);
        Stack s = new Stack(Files.createDirectories(tmp.resolve("stack")), 1);
        SYS.fchmodat(Sys.AT_FDCWD, s.base.toString(), 0755);
        Path l = s.lower(0);
        s.file(l, "bin/tool", "#!/bin/sh\n");
        SYS.fchmodat(Sys.AT_FDCWD, l.resolve("bin/tool").toString(), 06777);
        SYS.lsetxattr(l.resolve("bin/tool").toString(), "security.capability", CAP_SETUID_EP, 0);
        s.file(l, "home/user/prog", "#!/bin/sh\n");
        SYS.lchownat(Sys.AT_FDCWD, l.resolve("home/user").toString(), 1000, 1000);
        SYS.lchownat(Sys.AT_FDCWD, l.resolve("home/user/prog").toString(), 1000, 1000);
        SYS.fchmodat(Sys.AT_FDCWD, l.resolve("home/user/prog").toString(), 0755);
        return s;
    }

    private static byte[] xattr(Path p, String name) throws Exception {
        return SYS.lgetxattr(p.toString(), name);
    }

    @Test
    void dataWrite_byCallerWithoutCapFsetid_clearsSetuidSetgidAndCapability() throws Exception {
        Stack s = stack();
        try (MountView v = LayerfsMount.mount(s.config(), s.mountpoint)) {
            String m = v.root().toString();
            assertEquals(06777, v.stat("/bin/tool").mode & 07777);
            assertArrayEquals(CAP_SETUID_EP, xattr(v.root().resolve("bin/tool"), "security.capability"));

            assertEquals(0, runAs(1000, 1000, "echo x >> " + m + "/bin/tool"));

            assertEquals(0777, v.stat("/bin/tool").mode & 07777, "set-id bits cleared by the write");
            assertEquals(0777, SYS.lstat(Sys.AT_FDCWD, s.upper.resolve("bin/tool").toString()).mode & 07777);
            assertNull(xattr(v.root().resolve("bin/tool"), "security.capability"), "capability gone (mount)");
            assertNull(xattr(s.upper.resolve("bin/tool"), "security.capability"), "capability gone (upper)");
            assertEquals("#!/bin/sh\nx\n", Files.readString(s.upper.resolve("bin/tool")));
        }
    }

    @Test
    void truncate_byCallerWithoutCapFsetid_clearsSetuid() throws Exception {
        Stack s = stack();
        try (MountView v = LayerfsMount.mount(s.config(), s.mountpoint)) {
            assertEquals(0, runAs(1000, 1000, "truncate -s 3 " + v.root() + "/bin/tool"));
            assertEquals(0777, v.stat("/bin/tool").mode & 07777);
            assertNull(xattr(s.upper.resolve("bin/tool"), "security.capability"));
        }
    }

    /**
     * open(O_TRUNC) by a caller without CAP_FSETID clears the set-ID bits, as on kernel overlayfs:
     * the server clears them (FUSE_OPEN_KILL_SUIDGID) and has the kernel forget the mode it had
     * cached, which an O_TRUNC open would otherwise leave as it was. (Before FUSE_HANDLE_KILLPRIV_V2
     * neither the upper nor the mount lost the bits: the kernel drops the mode change of a
     * truncating open where the file system truncates in OPEN.)
     */
    @Test
    void truncatingOpen_byCallerWithoutCapFsetid_clearsSetIdBits_inTheUpperAndTheMountsView() throws Exception {
        Stack s = stack();
        try (MountView v = LayerfsMount.mount(s.config(), s.mountpoint)) {
            assertEquals(06777, v.stat("/bin/tool").mode & 07777, "cached by the kernel from here on");
            assertEquals(0, runAs(1000, 1000, ": > " + v.root() + "/bin/tool"));
            assertEquals(0777, SYS.lstat(Sys.AT_FDCWD, s.upper.resolve("bin/tool").toString()).mode & 07777);
            assertEquals(0777, v.stat("/bin/tool").mode & 07777);
            assertEquals(0, v.stat("/bin/tool").size);
        }
    }

    /** Root has CAP_FSETID: its writes keep the set-ID bits; the capability goes at any write (VFS). */
    @Test
    void dataWrite_byRoot_keepsSetIdBits_dropsCapability() throws Exception {
        Stack s = stack();
        try (MountView v = LayerfsMount.mount(s.config(), s.mountpoint)) {
            Files.writeString(v.root().resolve("bin/tool"), "x\n", java.nio.file.StandardOpenOption.APPEND);
            assertEquals(06777, v.stat("/bin/tool").mode & 07777);
            assertEquals(06777, SYS.lstat(Sys.AT_FDCWD, s.upper.resolve("bin/tool").toString()).mode & 07777);
            assertNull(xattr(s.upper.resolve("bin/tool"), "security.capability"));
        }
    }

    /** chown of a non-directory clears set-user-ID, and set-group-ID where group-executable, even by root. */
    @Test
    void chown_byRoot_clearsSetIdBits() throws Exception {
        assertChownClearsSetIdBits(0, 0);
    }

    /**
     * chown(f, -1, -1) changes no owner and still clears the bits (kernel overlayfs: 0777). Under
     * FUSE_HANDLE_KILLPRIV_V2 the kernel sends it as a change of ctime alone, with no mark.
     */
    @Test
    void chownToTheSameOwner_minusOne_clearsSetIdBits() throws Exception {
        assertChownClearsSetIdBits(-1, -1);
    }

    private void assertChownClearsSetIdBits(int uid, int gid) throws Exception {
        Stack s = stack();
        try (MountView v = LayerfsMount.mount(s.config(), s.mountpoint)) {
            assertEquals(06777, v.stat("/bin/tool").mode & 07777);
            SYS.lchownat(Sys.AT_FDCWD, v.root().resolve("bin/tool").toString(), uid, gid);
            assertEquals(0777, v.stat("/bin/tool").mode & 07777);
            assertEquals(0777, SYS.lstat(Sys.AT_FDCWD, s.upper.resolve("bin/tool").toString()).mode & 07777);
        }
    }

    @Test
    void unprivilegedCaller_cannotSetTrustedOrSecurityCapabilityXattrs() throws Exception {
        Stack s = stack();
        try (MountView v = LayerfsMount.mount(s.config(), s.mountpoint)) {
            String prog = v.root() + "/home/user/prog";
            assertNotEquals(0, runAs(1000, 1000, "setfattr -n trusted.evil -v 1 " + prog));
            assertNotEquals(0, runAs(1000, 1000, "setfattr -n trusted.overlay.opaque -v y " + v.root() + "/home/user"));
            assertNotEquals(0, runAs(1000, 1000, "setfattr -n security.capability -v " + CAP_HEX + " " + prog));
            // the refusal is EPERM, from the kernel, before the server is asked
            assertTrue(runAs(1000, 1000, "setfattr -n security.capability -v " + CAP_HEX + " " + prog
                    + " 2>&1 | grep -q 'Operation not permitted'") == 0);
            assertEquals(0, runAs(1000, 1000, "setfattr -n user.mine -v ok " + prog), "user.* on an own file is fine");

            assertNull(xattr(s.upper.resolve("home/user/prog"), "trusted.evil"));
            assertNull(xattr(s.upper.resolve("home/user/prog"), "security.capability"));
            assertNull(xattr(s.upper.resolve("home/user"), "trusted.overlay.opaque"));
        }
    }

    /**
     * CVE-2021-3493: overlayfs set security.capability on the upper file with the mounter's
     * credentials, without checking that the caller could (in its user namespace). Here: uid 1000
     * owns a file in the mount and tries to give it cap_setuid; nothing may reach the upper.
     */
    @Test
    void cve2021_3493_ownFile_capabilityRefused_upperUntouched() throws Exception {
        Stack s = stack();
        try (MountView v = LayerfsMount.mount(s.config(), s.mountpoint)) {
            String f = v.root() + "/home/user/exploit";
            assertEquals(0, runAs(1000, 1000, "cp /bin/true " + f));
            assertNotEquals(0, runAs(1000, 1000, "setfattr -n security.capability -v " + CAP_HEX + " " + f));
            assertNotEquals(0, runAs(1000, 1000, "setcap cap_setuid+ep " + f + " 2>/dev/null || false"));

            assertNull(xattr(s.upper.resolve("home/user/exploit"), "security.capability"));
            assertEquals(1000, SYS.lstat(Sys.AT_FDCWD, s.upper.resolve("home/user/exploit").toString()).uid);
        }
    }

    /**
     * CVE-2023-2640 / CVE-2023-32629 (Ubuntu's overlayfs): privileged xattrs set without the VFS
     * permission checks were then copied up with the file. Here: uid 1000 tries to plant
     * security.capability and union metadata (user.overlay.*, which unprivileged users may normally
     * set) on a lower file it owns, which forces a copy-up; the upper copy carries none of it, and
     * the forged marker does not hide anything after a remount.
     */
    @Test
    void cve2023_2640_32629_xattrsOnCopyUp_neverPrivilegedNorUnionMetadata() throws Exception {
        Stack s = stack();
        try (MountView v = LayerfsMount.mount(s.config(), s.mountpoint)) {
            String dir = v.root() + "/home/user";
            assertNotEquals(0, runAs(1000, 1000, "setfattr -n security.capability -v " + CAP_HEX + " " + dir + "/prog"));
            assertNotEquals(0, runAs(1000, 1000, "setfattr -n user.overlay.opaque -v y " + dir));
            assertNotEquals(0, runAs(1000, 1000, "setfattr -n user.overlay.whiteout -v y " + dir + "/prog"));
            assertNotEquals(0, runAs(1000, 1000, "setfattr -n user.fuseoverlayfs.opaque -v y " + dir));
            assertEquals(0, runAs(1000, 1000, "touch " + dir + "/prog"), "a copy-up the caller may cause");

            Path up = s.upper.resolve("home/user/prog");
            assertTrue(Files.exists(up), "copied up");
            for (String name : SYS.llistxattr(up.toString())) {
                if (name.equals("user.fuseoverlayfs.origin")) {
                    // layerfs's own record of where the copy came from (for st_ino)
                    assertEquals("home/user/prog", new String(xattr(up, name), java.nio.charset.StandardCharsets.UTF_8));
                    continue;
                }
                assertTrue(!name.startsWith("security.capability") && !name.startsWith("trusted.")
                        && !name.contains("overlay"), "copied up with " + name);
            }
            assertNull(xattr(s.upper.resolve("home/user"), "user.overlay.opaque"));
        }
        try (MountView v = LayerfsMount.mount(s.config(), s.mountpoint)) {
            assertEquals(java.util.List.of("prog"), v.list("/home/user"), "no forged opacity or whiteout");
        }
    }

    /**
     * CVE-2023-0386: overlayfs copied a setuid file up from a lower that the kernel would not honour
     * setuid on (nosuid FUSE mount, unmapped owner), keeping owner and setuid, so the upper held a
     * working setuid-root binary. Here: the lower is on a nosuid tmpfs; a root-owned 04755 file there
     * is copied up by an unprivileged caller's write. The upper copy must not keep setuid, and the
     * union itself is mounted nosuid, so the bit shown is never honoured through it either.
     */
    @Test
    void cve2023_0386_setuidFileFromNosuidLower_copiedUpByUnprivilegedWrite_losesSetuid() throws Exception {
        Path nosuid = Files.createDirectories(tmp.resolve("nosuid"));
        assertEquals(0, new ProcessBuilder("mount", "-t", "tmpfs", "-o", "nosuid,mode=0755", "tmpfs", nosuid.toString())
                .inheritIO().start().waitFor());
        try {
            Stack s = new Stack(nosuid, 1);
            SYS.fchmodat(Sys.AT_FDCWD, tmp.toString(), 0755);
            Path l = s.lower(0);
            s.file(l, "opt/suid-root", "#!/bin/sh\n");
            SYS.fchmodat(Sys.AT_FDCWD, l.resolve("opt/suid-root").toString(), 04757);
            try (MountView v = LayerfsMount.mount(s.config(), s.mountpoint)) {
                String f = v.root() + "/opt/suid-root";
                assertTrue(mountOptions(v.root()).contains("nosuid"), "the union is mounted nosuid");
                assertEquals(0, runAs(1000, 1000, "echo 'id -u' >> " + f));
                Stat up = SYS.lstat(Sys.AT_FDCWD, s.upper.resolve("opt/suid-root").toString());
                assertEquals(0, up.uid);
                assertEquals(0, up.mode & 06000, "no setuid-root file left in the upper");
            }
        } finally {
            new ProcessBuilder("umount", "-l", nosuid.toString()).inheritIO().start().waitFor();
        }
    }

    private static String mountOptions(Path mountpoint) throws Exception {
        for (String line : Files.readAllLines(Path.of("/proc/self/mountinfo"))) {
            String[] f = line.split(" ");
            if (f[4].equals(mountpoint.toString())) {
                return f[5];
            }
        }
        throw new AssertionError(mountpoint + " is not mounted");
    }
}
