package io.layerfs.store;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarConstants;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import io.layerfs.sys.Stat;
import io.layerfs.sys.Sys;

/**
 * Hostile layer tars (issue 6, promises 2, 4 and 6): each is refused with a {@link LayerFormatException}
 * that says why, or applied confined to its directory; either way the sentinel tree the hostile names
 * aim at is snapshotted before and after ({@link HostTree}: mode, owner, link count, times with ctime,
 * content, xattrs) and must not have changed.
 * <pre>
 * tmp/
 *   host/              the sentinel: what the hostile names aim at
 *     etc/passwd       "root:x:0:0"
 *     etc/shadow       mode 0600
 *     bin/
 *     link -> etc
 *   targets/N/         one empty target directory per apply
 * </pre>
 * From a target, {@code ../../host/etc/passwd} names the sentinel's passwd.
 */
class HostileLayerTest {
    private static final String UP = "../../host";

    @TempDir
    Path tmp;
    Path host;
    Path targets;
    Path layer;
    private final Sys sys = Sys.get();
    private int applies;

    @BeforeEach
    void setUp() throws IOException {
        host = Files.createDirectory(tmp.resolve("host"));
        Files.createDirectories(host.resolve("etc"));
        Files.createDirectories(host.resolve("bin"));
        Files.writeString(host.resolve("etc/passwd"), "root:x:0:0");
        Files.writeString(host.resolve("etc/shadow"), "secret");
        Files.setPosixFilePermissions(host.resolve("etc/shadow"), java.nio.file.attribute.PosixFilePermissions
                .fromString("rw-------"));
        Files.createSymbolicLink(host.resolve("link"), Path.of("etc"));
        targets = Files.createDirectory(tmp.resolve("targets"));
    }

    // ---- helpers ----------------------------------------------------------------------------------

    private LayerApplier.Result apply(InputStream tar, LayerLimits limits) throws IOException {
        layer = Files.createDirectory(targets.resolve(String.valueOf(applies++)));
        return new LayerApplier(limits, sys.geteuid() == 0).apply(tar, layer);
    }

    /** The layer is refused with a message containing messagePart, and nothing outside its target changed. */
    private LayerFormatException refused(InputStream tar, LayerLimits limits, String messagePart) throws IOException {
        Map<String, String> before = HostTree.snapshot(tmp, targets);
        LayerFormatException e = assertThrows(LayerFormatException.class, () -> apply(tar, limits));
        assertTrue(e.getMessage().contains(messagePart), "message: " + e.getMessage());
        assertEquals(before, HostTree.snapshot(tmp, targets), "the sentinel changed");
        return e;
    }

    private LayerFormatException refused(byte[] tar, String messagePart) throws IOException {
        return refused(new ByteArrayInputStream(tar), LayerLimits.DEFAULTS, messagePart);
    }

    /** The layer is applied, and nothing outside its target changed. */
    private void confined(byte[] tar) throws IOException {
        Map<String, String> before = HostTree.snapshot(tmp, targets);
        apply(new ByteArrayInputStream(tar), LayerLimits.DEFAULTS);
        assertEquals(before, HostTree.snapshot(tmp, targets), "the sentinel changed");
    }

    private Stat lstat(String rel) throws Exception {
        return sys.lstat(Sys.AT_FDCWD, layer.resolve(rel).toString());
    }

    // ---- names --------------------------------------------------------------------------------------

    @Test
    void apply_dotDotNames_refused() throws Exception {
        refused(new Tars().file(UP + "/etc/passwd", "evil").bytes(), "'..'");
        refused(new Tars().dir("a").file("a/../" + UP + "/etc/passwd", "evil").bytes(), "'..'");
        refused(new Tars().dir("a").file("a/../../x", "evil").bytes(), "'..'");
        refused(new Tars().file("./../x", "evil").bytes(), "'..'");
        refused(new Tars().dir(UP + "/bin/new").bytes(), "'..'");
    }

    @Test
    void apply_absoluteNames_refused() throws Exception {
        refused(new RawTar().file(host.resolve("etc/passwd").toString(), "evil").bytes(), "absolute path");
        refused(new RawTar().file("/etc/layerfs-hostile-test", "evil").bytes(), "absolute path");
        refused(new RawTar().file("//x", "evil").bytes(), "absolute path");
        assertFalse(Files.exists(Path.of("/etc/layerfs-hostile-test"), LinkOption.NOFOLLOW_LINKS));
    }

    @Test
    void apply_symlinkToEtcThenFileThroughIt_refused() throws Exception {
        refused(new Tars().symlink("etc", "/etc").file("etc/layerfs-hostile-test", "evil").bytes(), "symlink");
        assertFalse(Files.exists(Path.of("/etc/layerfs-hostile-test"), LinkOption.NOFOLLOW_LINKS));
        refused(new Tars().symlink("etc", host.resolve("etc").toString()).file("etc/passwd", "evil").bytes(), "symlink");
        refused(new Tars().symlink("etc", host.resolve("etc").toString()).dir("etc/sub").bytes(), "symlink");
        // a whiteout or an opaque marker through the link would write a device or an xattr there
        refused(new Tars().symlink("etc", host.resolve("etc").toString()).file("etc/.wh.passwd", "").bytes(), "symlink");
        refused(new Tars().symlink("etc", host.resolve("etc").toString()).file("etc/.wh..wh..opq", "").bytes(),
                "symlink");
    }

    @Test
    void apply_chainedRelativeSymlinksClimbingOut_refused() throws Exception {
        // a/up -> ..   a/up2 -> up/..   b -> a/up2/../host : each hop stays "relative", together they leave
        byte[] tar = new Tars().dir("a").symlink("a/up", "..").symlink("a/up2", "up/..")
                .symlink("b", "a/up2/" + UP).file("b/etc/passwd", "evil").bytes();
        refused(tar, "symlink");
        refused(new Tars().dir("x").symlink("x/l1", "../").symlink("x/l2", "l1/..").dir("x/l2/host/etc/new").bytes(),
                "symlink");
    }

    @Test
    void apply_symlinksPointingOut_areOnlySymlinks() throws Exception {
        // a symlink may name anything (the union resolves it inside the container); making one writes nothing there
        confined(new Tars().symlink("abs", "/etc/passwd").symlink("rel", UP + "/etc/passwd").bytes());
        assertEquals(Stat.S_IFLNK, lstat("abs").type());
        assertEquals(UP + "/etc/passwd", Files.readSymbolicLink(layer.resolve("rel")).toString());
    }

    @Test
    void deleteTree_layerWithSymlinksOutAndReadOnlyDirs_removesOnlyTheLayer() throws Exception {
        // what the store does with a refused layer's staging directory: nothing it points at goes with it
        TarArchiveEntry ro = Tars.entry("ro/", TarConstants.LF_DIR, 0555);
        byte[] tar = new Tars().symlink("etc", host.resolve("etc").toString()).symlink("rel", UP)
                .symlink("file", host.resolve("etc/passwd").toString()).add(ro, null).file("ro/f", "x")
                .dir("d/e").symlink("d/e/up", "../../" + UP + "/bin").bytes();
        confined(tar);
        Map<String, String> before = HostTree.snapshot(tmp, targets);
        AtomicFiles.deleteTree(layer);
        assertFalse(Files.exists(layer, LinkOption.NOFOLLOW_LINKS));
        Map<String, String> after = HostTree.snapshot(tmp, targets);
        assertEquals(before, after, "the sentinel changed");
        assertTrue(Files.exists(host.resolve("etc/passwd")));
    }

    // ---- hard links ---------------------------------------------------------------------------------

    @Test
    void apply_hardLinksToHostPaths_refused() throws Exception {
        refused(new Tars().hardlink("h", UP + "/etc/passwd").bytes(), "'..'");
        refused(new Tars().hardlink("h", host.resolve("etc/shadow").toString()).bytes(), "absolute path");
        refused(new Tars().hardlink("h", "/etc/passwd").bytes(), "absolute path");
    }

    @Test
    void apply_hardLinkThroughSymlinkedDirectory_refused() throws Exception {
        refused(new Tars().symlink("s", host.resolve("etc").toString()).hardlink("h", "s/passwd").bytes(),
                "names no file");
        refused(new Tars().symlink("s", UP + "/etc").hardlink("h", "s/shadow").bytes(), "names no file");
        // even through a symlink to a directory of the layer itself: a link target is a name the layer wrote
        refused(new Tars().dir("d").file("d/f", "x").symlink("s", "d").hardlink("h", "s/f").bytes(), "names no file");
    }

    @Test
    void apply_hardLinkToSymlink_linksTheSymlinkItself() throws Exception {
        confined(new Tars().symlink("l", host.resolve("etc/passwd").toString()).hardlink("h", "l").bytes());
        Stat l = lstat("l");
        Stat h = lstat("h");
        assertEquals(Stat.S_IFLNK, h.type());
        assertEquals(l.ino, h.ino);
        assertEquals(2, h.nlink);
    }

    @Test
    void apply_hardLinkToEntryNotYetSeen_refused() throws Exception {
        refused(new Tars().hardlink("h", "later").file("later", "x").bytes(), "names no file");
        refused(new Tars().dir("d").hardlink("h", "d").bytes(), "names no file");
    }

    // ---- PAX and GNU names --------------------------------------------------------------------------

    @Test
    void apply_paxPathRewritingToDotDot_refused() throws Exception {
        // the ustar name is harmless; the PAX record that replaces it is not
        refused(new RawTar().pax(Map.of("path", "../x")).file("harmless", "evil").bytes(), "'..'");
        refused(new RawTar().pax(Map.of("path", UP + "/etc/passwd")).file("harmless", "evil").bytes(), "'..'");
        // commons-compress strips the leading '/' of a PAX path: the name lands inside the layer
        String abs = host.resolve("etc/passwd").toString();
        confined(new RawTar().pax(Map.of("path", abs)).file("harmless", "evil").bytes());
        assertEquals("evil", Files.readString(layer.resolve(abs.substring(1))));
    }

    @Test
    void apply_paxLinkpathRewritingOut_refused() throws Exception {
        byte[] tar = new RawTar().file("f", "x").pax(Map.of("linkpath", UP + "/etc/passwd"))
                .entry("h", '1', "f", new byte[0]).bytes();
        refused(tar, "'..'");
        tar = new RawTar().pax(Map.of("linkpath", host.resolve("etc").toString())).entry("s", '2', "ok", new byte[0])
                .file("s/passwd", "evil").bytes();
        refused(tar, "symlink");
    }

    @Test
    void apply_gnuLongNamesRewritingToDotDot_refused() throws Exception {
        refused(new RawTar().gnuLong('L', "../x").file("harmless", "evil").bytes(), "'..'");
        refused(new RawTar().gnuLong('L', "a/" + "b/".repeat(60) + "../".repeat(62) + "x").file("harmless", "e").bytes(),
                "'..'");
        byte[] tar = new RawTar().file("f", "x").gnuLong('K', UP + "/etc/shadow").entry("h", '1', "f", new byte[0])
                .bytes();
        refused(tar, "'..'");
    }

    // ---- whiteouts and forged union metadata (promise 4) --------------------------------------------

    @Test
    void apply_dotDotWhiteoutsAndBareWhiteout_refused() throws Exception {
        refused(new Tars().file(".wh..", "").bytes(), "bad whiteout");
        refused(new Tars().dir("d").file("d/.wh...", "").bytes(), "bad whiteout");
        refused(new Tars().file(".wh.", "").bytes(), "bad whiteout");
        refused(new Tars().dir("d").file("d/.wh.", "").bytes(), "bad whiteout");
    }

    @Test
    void apply_whiteoutAndSameNameInOneLayer_refused() throws Exception {
        refused(new Tars().file(".wh.x", "").file("x", "1").bytes(), "duplicate");
        refused(new Tars().file("x", "1").file(".wh.x", "").bytes(), "duplicate");
        refused(new Tars().file(".wh.d", "").dir("d").bytes(), "duplicate");
        refused(new Tars().dir("d").file("d/f", "1").file(".wh.d", "").bytes(), "duplicate");
    }

    @Test
    void apply_forgedOverlayXattrs_refused() throws Exception {
        for (String x : List.of("trusted.overlay.opaque", "trusted.overlay.redirect", "trusted.overlay.whiteout",
                "trusted.overlay.metacopy", "user.overlay.opaque", "user.overlay.whiteout",
                "user.fuseoverlayfs.opaque", "user.fuseoverlayfs.origin")) {
            for (String type : List.of("file", "dir", "symlink")) {
                TarArchiveEntry e = type.equals("dir") ? Tars.entry("d/", TarConstants.LF_DIR, 0755)
                        : type.equals("file") ? Tars.entry("f", TarConstants.LF_NORMAL, 0644)
                        : Tars.entry("l", TarConstants.LF_SYMLINK, 0777);
                if (type.equals("symlink")) {
                    e.setLinkName("f");
                }
                e.addPaxHeader("SCHILY.xattr." + x, "y");
                refused(new Tars().add(e, type.equals("file") ? new byte[0] : null).bytes(), "forged overlay xattr");
            }
            // libarchive's spelling: URL-encoded name, base64 value
            refused(new RawTar().pax(Map.of("LIBARCHIVE.xattr." + x, "eQ==")).file("f", "").bytes(),
                    "forged overlay xattr");
        }
    }

    @Test
    void apply_xattrNameWithNul_refused() throws Exception {
        // libc cuts a name at its NUL: the name checked here would not be the name set
        refused(new RawTar().pax(Map.of("SCHILY.xattr.user.a\0trusted.overlay.opaque", "y")).file("f", "").bytes(),
                "NUL in an xattr name");
    }

    @Test
    void apply_zeroZeroCharacterDevice_refused() throws Exception {
        refused(new Tars().chardev("w", 0, 0).bytes(), "0/0 character device");
        refused(new Tars().dir("d").chardev("d/w", 0, 0).bytes(), "0/0 character device");
    }

    @Test
    void apply_deviceNodes_madeInsideTheLayerOnly() throws Exception {
        assumeTrue(sys.geteuid() == 0, "device nodes need root");
        TarArchiveEntry blk = Tars.entry("disk", TarConstants.LF_BLK, 0600);
        blk.setDevMajor(7);
        blk.setDevMinor(0);
        confined(new Tars().chardev("null", 1, 3).add(blk, null).fifo("p").bytes());
        assertEquals(Stat.S_IFCHR, lstat("null").type());
        assertEquals(LayerApplier.makedev(1, 3), lstat("null").rdev);
        assertEquals(Stat.S_IFBLK, lstat("disk").type());
        assertEquals(LayerApplier.makedev(7, 0), lstat("disk").rdev);
    }

    // ---- sizes (promise 6) --------------------------------------------------------------------------

    @Test
    void apply_oneTebibyteSparseEntry_refusedBeforeWriting() throws Exception {
        // one byte of data at the end of a 1 TiB file, in GNU tar's PAX form: commons-compress reads PAX
        // sparse sizes as int, so the header itself is refused; nothing is written
        long tib = 1L << 40;
        byte[] tar = new RawTar().paxSparse("huge", tib - 1, new byte[] {'x'}, tib).bytes();
        refused(new ByteArrayInputStream(tar), LayerLimits.DEFAULTS, "not a readable");
        assertFalse(Files.exists(layer.resolve("huge")));
        // the old GNU form holds up to 12 octal digits (64 GiB - 1): refused by the sparse limit
        long most = (1L << 36) - 1;
        tar = new RawTar().block(RawTar.gnuSparseHeader("huge", most - 1, 1, most)).data(new byte[] {'x'}).bytes();
        refused(new ByteArrayInputStream(tar), LayerLimits.DEFAULTS.maxSparseRealBytes(1L << 30), "sparse file");
        assertFalse(Files.exists(layer.resolve("huge")));
    }

    @Test
    void apply_smallSparseEntry_keepsItsHoles() throws Exception {
        long real = 64L << 20;
        byte[] tar = new RawTar().block(RawTar.gnuSparseHeader("s", real - 1, 1, real)).data(new byte[] {'x'})
                .bytes();
        confined(tar);
        Stat st = lstat("s");
        assertEquals(real, st.size);
        assertTrue(st.blocks * 512 < (1 << 20), "holes stay holes: " + st.blocks + " blocks");
        try (var ch = java.nio.channels.FileChannel.open(layer.resolve("s"))) {
            java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate(1);
            ch.read(b, real - 1);
            assertEquals('x', b.get(0));
        }
    }

    @Test
    void apply_millionEmptyEntries_stoppedAtTheEntryLimit() throws Exception {
        // 1,048,576 empty files, generated as read; the limit (100 here) stops the import after 100 of them
        InputStream tar = RawTar.entries(1 << 20, i -> RawTar.sealed(RawTar.header("f" + i, '0', 0, null)));
        refused(tar, LayerLimits.DEFAULTS.maxEntries(100), "more than the limit of 100 entries");
        try (Stream<Path> s = Files.list(layer)) {
            assertEquals(100, s.count());
        }
    }

    @Test
    void apply_hundredMegabytePaxRecord_refusedAtTheHeaderLimit() throws Exception {
        int size = 100 * 1000 * 1000;
        String prefix = size + " path=";
        byte[] header = RawTar.sealed(RawTar.header("PaxHeaders/x", 'x', size, null));
        InputStream tar = RawTar.concat(RawTar.bytes(header),
                RawTar.bytes(prefix.getBytes(StandardCharsets.US_ASCII)),
                () -> RawTar.repeat(size - prefix.length() - 1, 'a'),
                RawTar.bytes(new byte[] {'\n'}),
                RawTar.bytes(new byte[RawTar.padding(size)]),
                RawTar.bytes(new RawTar().file("x", "x").bytes()));
        refused(tar, LayerLimits.DEFAULTS, "headers of one entry");
    }

    @Test
    void apply_gzipBomb_stoppedAtTheSizeLimit() throws Exception {
        // a gzip stream of 1 TiB of zeros (about 1 GiB compressed), compressed as it is read
        refused(RawTar.gzipOfZeros(1L << 40), LayerLimits.DEFAULTS.maxLayerBytes(16L << 20), "larger than the limit");
    }

    @Test
    void apply_fileLargerThanTheLimit_refusedFromItsHeader() throws Exception {
        InputStream tar = RawTar.concat(RawTar.bytes(RawTar.sealed(RawTar.header("big", '0', 1L << 40, null))),
                () -> RawTar.repeat(1L << 40, 0));
        refused(tar, LayerLimits.DEFAULTS, "larger than the limit");
        assertFalse(Files.exists(layer.resolve("big")));
    }

    @Test
    void apply_zstdFrameAskingForTwoGibWindow_refused() throws Exception {
        // frame header (RFC 8878 3.1.1.1): no content size, Window_Descriptor exponent 21 -> 2^31 bytes;
        // then one raw, last block of 1024 zero bytes (a valid empty tar)
        byte[] frame = new byte[4 + 2 + 3 + 1024];
        byte[] head = {0x28, (byte) 0xb5, 0x2f, (byte) 0xfd, 0x00, (byte) (21 << 3), 0x01, 0x20, 0x00};
        System.arraycopy(head, 0, frame, 0, head.length);
        refused(frame, "window larger than the limit of 2^27 bytes");
        // the same frame with a 2^27 window is an ordinary empty layer
        frame[5] = (byte) (17 << 3);
        confined(frame);
    }

    // ---- digests ------------------------------------------------------------------------------------

    @Test
    void import_digestStringsWithDotDot_refused_storeUntouched() throws Exception {
        Path root = tmp.resolve("store");
        LayerStore store = LayerStore.open(root);
        byte[] layerTar = new Tars().file("f", "x").bytes();
        Digest diff = Digest.sha256(layerTar);
        String config = "{\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\"" + diff + "\"]}}";
        List<String[]> cases = new ArrayList<>();
        // {what, config, layer digest in the manifest, manifest digest in the index}
        cases.add(new String[] {"layer digest", config, "sha256:../../x", null});
        cases.add(new String[] {"diff_id", config.replace(diff.toString(), "sha256:../../x"), null, null});
        cases.add(new String[] {"manifest digest", config, null, "sha256:../../x"});
        cases.add(new String[] {"config digest", config, null, null});
        for (String[] c : cases) {
            Path oci = Files.createDirectories(tmp.resolve("oci-" + c[0].replace(' ', '-')));
            Path blobs = Files.createDirectories(oci.resolve("blobs/sha256"));
            Digest layerD = write(blobs, layerTar);
            Digest configD = write(blobs, c[1].getBytes(StandardCharsets.UTF_8));
            String configRef = c[0].equals("config digest") ? "sha256:../../../host/etc/passwd" : configD.toString();
            String manifest = "{\"schemaVersion\":2,\"config\":{\"digest\":\"" + configRef + "\",\"size\":"
                    + c[1].length() + "},\"layers\":[{\"digest\":\"" + (c[2] != null ? c[2] : layerD.toString())
                    + "\",\"size\":" + layerTar.length + "}]}";
            Digest manifestD = write(blobs, manifest.getBytes(StandardCharsets.UTF_8));
            Files.writeString(oci.resolve("index.json"), "{\"schemaVersion\":2,\"manifests\":[{\"digest\":\""
                    + (c[3] != null ? c[3] : manifestD.toString()) + "\",\"size\":" + manifest.length() + "}]}");
            Map<String, String> before = HostTree.snapshot(host, oci);
            StoreException e = assertThrows(StoreException.class, () -> store.importImage(oci, null,
                    LayerLimits.DEFAULTS), c[0]);
            assertEquals(StoreException.Kind.BAD_CONTENT, e.kind(), c[0] + ": " + e.getMessage());
            assertTrue(e.getMessage().contains("not a sha256 digest"), c[0] + ": " + e.getMessage());
            assertEquals(before, HostTree.snapshot(host, oci), c[0] + ": the sentinel changed");
            assertEquals(List.of(), store.layers());
            try (Stream<Path> staged = Files.list(root.resolve("tmp"))) {
                assertEquals(0, staged.count(), "no staging left");
            }
        }
        // docker save archives name files, not digests: the same climb is refused as a file name
        Path docker = Files.createDirectories(tmp.resolve("docker"));
        Files.writeString(docker.resolve("manifest.json"), "[{\"Config\":\"../../host/etc/passwd\",\"Layers\":[]}]");
        StoreException e = assertThrows(StoreException.class, () -> store.importImage(docker, null,
                LayerLimits.DEFAULTS));
        assertTrue(e.getMessage().contains("bad file name"), e.getMessage());
        assertEquals(List.of(), store.layers());
        assertEquals(List.of(), store.images());
    }

    @Test
    void import_imageArchiveWithEscapingNames_refused() throws Exception {
        // the outer archive (OCI archive, docker save) is unpacked into staging before any layer is read
        LayerStore store = LayerStore.open(tmp.resolve("store"));
        List<byte[]> archives = List.of(
                new Tars().file("../../host/etc/passwd", "evil").bytes(),
                new Tars().file(host.resolve("etc/passwd").toString(), "evil").bytes(),
                new Tars().symlink("blobs", "../../host/etc").file("blobs/passwd", "evil").bytes(),
                new Tars().hardlink("copy", "../../host/etc/shadow").bytes(),
                new Tars().symlink("copy", UP + "/etc/shadow").bytes());
        for (int i = 0; i < archives.size(); i++) {
            Path archive = targets.resolve("archive-" + i + ".tar");
            Files.write(archive, archives.get(i));
            Map<String, String> before = HostTree.snapshot(host, targets);
            StoreException e = assertThrows(StoreException.class, () -> store.importImage(archive, null,
                    LayerLimits.DEFAULTS), "archive " + i);
            assertEquals(StoreException.Kind.BAD_CONTENT, e.kind(), e.getMessage());
            assertEquals(before, HostTree.snapshot(host, targets), "archive " + i + ": the sentinel changed");
        }
        try (Stream<Path> staged = Files.list(tmp.resolve("store/tmp"))) {
            assertEquals(0, staged.count(), "no staging left");
        }
    }

    private static Digest write(Path blobs, byte[] data) throws IOException {
        Digest d = Digest.sha256(data);
        Files.write(blobs.resolve(d.hex()), data);
        return d;
    }

    @Test
    void digest_parse_refusesPathsAndOtherAlgorithms() {
        for (String s : List.of("sha256:../../x", "sha256:/etc/passwd", "../../x", "sha512:" + "a".repeat(128),
                "sha256:" + "A".repeat(64), "sha256:" + "a".repeat(63), "sha256:" + "a".repeat(64) + "/..")) {
            assertThrows(IllegalArgumentException.class, () -> Digest.parse(s), s);
        }
    }
}
