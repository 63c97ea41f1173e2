package io.layerfs.fuse;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import io.layerfs.contract.LayerfsMount;
import io.layerfs.contract.MountView;
import io.layerfs.contract.Stack;
import io.layerfs.sys.DirEntry;
import io.layerfs.sys.Errno;
import io.layerfs.sys.Stat;
import io.layerfs.sys.Sys;
import io.layerfs.sys.SysException;

/**
 * What the /dev/fuse binding does beyond the contract suite ({@code MountContractTest}, the default binding):
 * one kernel inode per hard-linked file, so attributes are right through every name at once
 * despite day-long attribute timeouts; open files that lose their last name; RENAME2 flags;
 * READDIRPLUS over big directories; 1 MiB reads. Real mounts, root needed (CI has it).
 */
class DevFuseMountTest {
    private static final Sys SYS = Sys.get();

    @TempDir
    Path tmp;

    private MountView mount(Stack s) throws Exception {
        return LayerfsMount.mount(s.config(), s.mountpoint, FuseMount.Binding.DEV_FUSE);
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    @Test
    void hardLink_writeThroughOneName_otherNameShowsSizeAndNlinkAtOnce() throws Exception {
        Stack s = new Stack(tmp, 1);
        s.file(s.lower(0), "a", "12");
        Files.createLink(s.lower(0).resolve("b"), s.lower(0).resolve("a"));
        try (MountView v = mount(s)) {
            Stat before = v.stat("/b");
            assertEquals(2, before.nlink);
            v.append("/a", bytes("345"));
            Stat after = v.stat("/b"); // cached for a day, yet right: /a and /b are one kernel inode
            assertEquals(5, after.size);
            assertEquals(before.ino, after.ino);
            assertEquals("12345", new String(v.read("/b"), StandardCharsets.UTF_8));
            v.link("/b", "/c");
            assertEquals(3, v.stat("/a").nlink);
            v.unlink("/c");
            assertEquals(2, v.stat("/b").nlink);
        }
    }

    /**
     * A file opened read-only before another process copies it up and writes to it: once the page
     * cache is dropped, its reads come to the server with its own handle. They must read the copy,
     * and so must every later open, which shares the pages those reads fill (found 2026-12-07: the
     * handle still read the lower file, and a new open then showed the old content too).
     */
    @Test
    void readerOpenedBeforeCopyUp_afterCacheDropped_itAndNewOpensReadTheCopy() throws Exception {
        Stack s = new Stack(tmp, 1);
        s.file(s.lower(0), "small", "OLDDATA1rest");
        try (MountView v = mount(s)) {
            int reader = SYS.openat(Sys.AT_FDCWD, v.host("/small"), Sys.O_RDONLY, 0);
            try {
                byte[] buf = new byte[12];
                assertEquals(12, SYS.pread(reader, buf, 12, 0));
                assertEquals("OLDDATA1rest", new String(buf, StandardCharsets.UTF_8));
                int writer = SYS.openat(Sys.AT_FDCWD, v.host("/small"), Sys.O_WRONLY, 0);
                try {
                    SYS.pwrite(writer, bytes("NEWDATA1"), 8, 0);
                    SYS.fsync(writer, false); // written back: its pages are clean, so they can be dropped
                } finally {
                    SYS.close(writer);
                }
                Files.writeString(Path.of("/proc/sys/vm/drop_caches"), "1");

                assertEquals(12, SYS.pread(reader, buf, 12, 0));
                assertEquals("NEWDATA1rest", new String(buf, StandardCharsets.UTF_8), "the reader's own handle");
                assertEquals("NEWDATA1rest", new String(v.read("/small"), StandardCharsets.UTF_8), "a new open");
                assertEquals("NEWDATA1rest", Files.readString(s.upper.resolve("small")));
            } finally {
                SYS.close(reader);
            }
        }
    }

    @Test
    void unlink_fileOpen_handleStillStatsReadsAndWrites() throws Exception {
        Stack s = new Stack(tmp, 1);
        try (MountView v = mount(s)) {
            v.write("/f", bytes("abc"));
            int fd = SYS.openat(Sys.AT_FDCWD, v.host("/f"), Sys.O_RDWR, 0);
            try {
                v.unlink("/f");
                Stat st = SYS.fstat(fd);
                assertEquals(0, st.nlink);
                assertEquals(3, st.size);
                SYS.pwrite(fd, bytes("de"), 2, 3);
                byte[] back = new byte[5];
                assertEquals(5, SYS.pread(fd, back, 5, 0));
                assertArrayEquals(bytes("abcde"), back);
                SYS.ftruncate(fd, 1);
                assertEquals(1, SYS.fstat(fd).size);
                assertEquals(Errno.ENOENT, errno(() -> v.stat("/f")));
                v.write("/f", bytes("new"));
                assertEquals(3, v.stat("/f").size); // a new object under the old name
                assertEquals(1, SYS.fstat(fd).size);
            } finally {
                SYS.close(fd);
            }
            assertEquals(List.of(), listWork(s));
        }
    }

    @Test
    void unlink_lowerFileOpen_fstatShowsNoLinkAndDataStays() throws Exception {
        Stack s = new Stack(tmp, 1);
        s.file(s.lower(0), "f", "low");
        try (MountView v = mount(s)) {
            int fd = SYS.openat(Sys.AT_FDCWD, v.host("/f"), Sys.O_RDONLY, 0);
            try {
                v.unlink("/f");
                assertEquals(0, SYS.fstat(fd).nlink);
                byte[] back = new byte[3];
                assertEquals(3, SYS.pread(fd, back, 3, 0));
                assertArrayEquals(bytes("low"), back);
            } finally {
                SYS.close(fd);
            }
            assertEquals(Errno.ENOENT, errno(() -> v.stat("/f")));
        }
    }

    @Test
    void rename2_noReplaceOverExisting_eexist_exchange_einval() throws Exception {
        Stack s = new Stack(tmp, 1);
        s.file(s.lower(0), "a", "a");
        s.file(s.lower(0), "b", "b");
        try (MountView v = mount(s)) {
            assertEquals(Errno.EEXIST, errno(() -> SYS.renameat2(Sys.AT_FDCWD, v.host("/a"), Sys.AT_FDCWD,
                    v.host("/b"), Sys.RENAME_NOREPLACE)));
            assertEquals(Errno.EINVAL, errno(() -> SYS.renameat2(Sys.AT_FDCWD, v.host("/a"), Sys.AT_FDCWD,
                    v.host("/b"), Sys.RENAME_EXCHANGE)));
            SYS.renameat2(Sys.AT_FDCWD, v.host("/a"), Sys.AT_FDCWD, v.host("/c"), Sys.RENAME_NOREPLACE);
            assertEquals(List.of("b", "c"), v.list("/"));
            assertEquals("a", new String(v.read("/c"), StandardCharsets.UTF_8));
        }
    }

    @Test
    void readdir_bigMergedDirectory_everyNameOnceWithItsInode() throws Exception {
        Stack s = new Stack(tmp, 2);
        for (int i = 0; i < 1500; i++) {
            s.file(s.lower(i % 2), "d/" + "name-" + i, "");
        }
        try (MountView v = mount(s)) {
            Map<String, Long> listed = new HashMap<>();
            for (DirEntry d : SYS.listDir(Sys.AT_FDCWD, v.host("/d"))) {
                assertEquals(null, listed.put(d.name, d.ino), d.name);
            }
            assertEquals(1500, listed.size());
            for (Map.Entry<String, Long> e : listed.entrySet()) {
                assertEquals(v.stat("/d/" + e.getKey()).ino, (long) e.getValue(), e.getKey());
            }
        }
    }

    @Test
    void lookup_missingThenCreated_negativeEntryDoesNotHideIt() throws Exception {
        Stack s = new Stack(tmp, 1);
        try (MountView v = mount(s)) {
            assertEquals(Errno.ENOENT, errno(() -> v.stat("/n")));
            v.write("/n", bytes("x"));
            assertEquals(1, v.stat("/n").size);
            v.unlink("/n");
            assertEquals(Errno.ENOENT, errno(() -> v.stat("/n")));
            v.mkdir("/n", 0755);
            assertEquals(Stat.S_IFDIR, v.stat("/n").type());
        }
    }

    @Test
    void getxattr_absentThenSet_seenAtOnce() throws Exception {
        Stack s = new Stack(tmp, 1);
        s.file(s.lower(0), "f", "x");
        try (MountView v = mount(s)) {
            assertEquals(Errno.ENODATA, errno(() -> v.getxattr("/f", "user.k")));
            assertEquals(Errno.ENODATA, errno(() -> v.getxattr("/f", "user.k")));
            v.setxattr("/f", "user.k", bytes("v"));
            assertArrayEquals(bytes("v"), v.getxattr("/f", "user.k"));
            v.removexattr("/f", "user.k");
            assertEquals(Errno.ENODATA, errno(() -> v.getxattr("/f", "user.k")));
        }
    }

    @Test
    void write_threeMiB_roundTripsInRequestSizedPieces() throws Exception {
        Stack s = new Stack(tmp, 1);
        byte[] data = new byte[3 << 20];
        new Random(7).nextBytes(data);
        try (MountView v = mount(s)) {
            v.write("/big", data);
            assertArrayEquals(data, v.read("/big"));
            assertArrayEquals(data, Files.readAllBytes(s.upper.resolve("big")));
        }
    }

    @Test
    void lseek_dataAndHole_answeredFromTheLayerFile() throws Exception {
        Stack s = new Stack(tmp, 1);
        Path lower = s.lower(0).resolve("sparse");
        try (var ch = java.nio.channels.FileChannel.open(lower, java.nio.file.StandardOpenOption.CREATE,
                java.nio.file.StandardOpenOption.WRITE)) {
            ch.write(java.nio.ByteBuffer.wrap(bytes("data")), 1 << 20); // 1 MiB of hole, then data
            ch.truncate(4 << 20); // and a hole after it
        }
        int lfd = SYS.openat(Sys.AT_FDCWD, lower.toString(), Sys.O_RDONLY, 0);
        long dataAt;
        long holeAt;
        try {
            dataAt = SYS.lseek(lfd, 0, Sys.SEEK_DATA);
            holeAt = SYS.lseek(lfd, dataAt, Sys.SEEK_HOLE);
        } finally {
            SYS.close(lfd);
        }
        assertTrue(dataAt > 0 && holeAt < 4 << 20, "the test's filesystem keeps no holes: " + dataAt + ", " + holeAt);
        try (MountView v = mount(s)) {
            int fd = SYS.openat(Sys.AT_FDCWD, s.mountpoint.resolve("sparse").toString(), Sys.O_RDONLY, 0);
            try {
                assertEquals(dataAt, SYS.lseek(fd, 0, Sys.SEEK_DATA));
                assertEquals(holeAt, SYS.lseek(fd, dataAt, Sys.SEEK_HOLE));
                assertEquals(-1, SYS.lseek(fd, (4 << 20) - 1, Sys.SEEK_DATA)); // ENXIO: no data after
            } finally {
                SYS.close(fd);
            }
        }
    }

    @Test
    void debug_tracesEachRequestAndReply_onStderr() throws Exception {
        Stack s = new Stack(tmp, 1);
        s.file(s.lower(0), "a", "1");
        java.io.ByteArrayOutputStream err = new java.io.ByteArrayOutputStream();
        java.io.PrintStream saved = System.err;
        Files.createDirectories(s.mountpoint);
        io.layerfs.union.UnionFs fs = io.layerfs.union.UnionFs.open(s.config());
        try {
            System.setErr(new java.io.PrintStream(err, true, StandardCharsets.UTF_8));
            try (FuseMount m = FuseMount.mount(fs, s.mountpoint, List.of(), true, FuseMount.Binding.DEV_FUSE)) {
                assertEquals(Errno.ENOENT, errno(() -> SYS.lstat(Sys.AT_FDCWD, s.mountpoint.resolve("missing").toString())));
            }
        } finally {
            System.setErr(saved);
            fs.close();
        }
        List<String> lines = err.toString(StandardCharsets.UTF_8).lines().toList();
        int at = -1;
        for (int i = 0; i < lines.size() && at < 0; i++) {
            if (lines.get(i).matches("unique: \\d+, opcode: LOOKUP \\(1\\), nodeid: 1, insize: \\d+, pid: \\d+, path: /, name: missing")) {
                at = i;
            }
        }
        assertTrue(at >= 0, String.join("\n", lines));
        String unique = lines.get(at).split(",")[0].substring("unique: ".length());
        // a miss is answered with a negative entry (node id 0, cached for a day): a success
        assertTrue(lines.contains("   unique: " + unique + ", success, outsize: 144"), String.join("\n", lines));
    }

    private static List<String> listWork(Stack s) throws Exception {
        List<String> names = new ArrayList<>();
        try (var st = Files.list(s.work.resolve("work"))) {
            st.forEach(p -> names.add(p.getFileName().toString()));
        }
        return names;
    }

    @FunctionalInterface
    private interface Call {
        void run() throws SysException;
    }

    private static int errno(Call c) {
        return assertThrows(SysException.class, c::run).errno();
    }

    @Test
    void mount_raisesReadaheadToOneRequest_dataReadsBack() throws Exception {
        Stack s = new Stack(tmp, 1);
        byte[] data = new byte[8 << 20];
        new Random(7).nextBytes(data);
        Files.write(s.lower(0).resolve("big"), data);
        try (MountView v = mount(s)) {
            String device = Readahead.device(Files.readString(Path.of("/proc/self/mountinfo")),
                    s.mountpoint.toString()).orElseThrow();
            Path bdi = Path.of("/sys/class/bdi", device, "read_ahead_kb");
            assertEquals(String.valueOf(DevFuseOps.MAX_READ / 1024), Files.readString(bdi).trim());
            assertArrayEquals(data, v.read("/big"));
        }
    }
}
