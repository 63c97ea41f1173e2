package io.layerfs.union;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import io.layerfs.sys.Stat;
import io.layerfs.sys.Sys;
import io.layerfs.testkit.LayerFixture;
import io.layerfs.union.Markers.Encoding;

/**
 * The public naming of encodings ({@link Markers.Encoding} and the classify methods, used by
 * io.layerfs.inspect) agrees with the checks the engine looks up with, on every form LayerFixture
 * builds:
 *
 * <pre>
 *   l/ k/ (trusted.overlay.opaque=y)   u/ (user.overlay.opaque=y)   f/ (user.fuseoverlayfs.opaque=y)
 *      o/ .wh..wh..opq                 x/ (trusted.overlay.opaque=x) gone (trusted.overlay.whiteout)
 *      ux/ (user.overlay.opaque=x) gone (user.overlay.whiteout)      dev (char 0/0)   plain/ file
 * </pre>
 */
class MarkersTest {
    private static final Sys SYS = Sys.get();

    @TempDir
    Path tmp;

    private Layer layer;

    @BeforeEach
    void build() throws Exception {
        Path l = LayerFixture.in(tmp).layer("l")
                .opaque("k").opaqueUser("u").opaqueFuseOverlay("f").opaqueOci("o")
                .whiteoutXattr("x/gone").whiteoutUserXattr("ux/gone").whiteout("dev").file("plain/file", "data")
                .path();
        int fd = SYS.openat(Sys.AT_FDCWD, l.toString(), Sys.O_RDONLY | Sys.O_DIRECTORY, 0);
        layer = new Layer(1, l, fd, false, 0, 0, 1);
    }

    @AfterEach
    void close() {
        SYS.close(layer.fd);
    }

    /** The opaque encodings the public methods find on a directory. */
    private List<Encoding> opaqueEncodings(String rel) throws Exception {
        List<Encoding> out = new ArrayList<>();
        for (String n : SYS.llistxattrAt(layer.fd, rel)) {
            Encoding e = Markers.classifyOpaqueXattr(n, SYS.lgetxattrAt(layer.fd, rel, n));
            if (e != null) {
                out.add(e);
            }
        }
        if (SYS.lstatOrNull(layer.fd, rel + "/.wh..wh..opq") != null) {
            out.add(Encoding.OCI_OPAQUE);
        }
        return out;
    }

    private boolean announces(String rel) throws Exception {
        for (String n : SYS.llistxattrAt(layer.fd, rel)) {
            if (Markers.announcesXattrWhiteouts(n, SYS.lgetxattrAt(layer.fd, rel, n))) {
                return true;
            }
        }
        return false;
    }

    @Test
    void opaqueForms_agreeWithTheEngine() throws Exception {
        for (String[] c : new String[][] {{"k", "TRUSTED_OPAQUE"}, {"u", "USER_OPAQUE"},
                {"f", "FUSE_OVERLAY_OPAQUE"}, {"o", "OCI_OPAQUE"}}) {
            assertEquals(Markers.Opacity.OPAQUE, Markers.opacity(SYS, layer, c[0]), c[0]);
            assertEquals(List.of(Encoding.valueOf(c[1])), opaqueEncodings(c[0]), c[0]);
        }
        assertEquals(Markers.Opacity.NONE, Markers.opacity(SYS, layer, "plain"));
        assertEquals(List.of(), opaqueEncodings("plain"));
    }

    @Test
    void xattrWhiteoutForms_agreeWithTheEngine() throws Exception {
        for (String[] c : new String[][] {{"x", "TRUSTED_XATTR_WHITEOUT"}, {"ux", "USER_XATTR_WHITEOUT"}}) {
            assertEquals(Markers.Opacity.HAS_XATTR_WHITEOUTS, Markers.opacity(SYS, layer, c[0]), c[0]);
            assertTrue(announces(c[0]), c[0]);
            String rel = c[0] + "/gone";
            Stat st = SYS.lstat(layer.fd, rel);
            assertTrue(Markers.isWhiteoutObject(SYS, layer, rel, st, true));
            assertEquals(Encoding.valueOf(c[1]), Markers.classifyWhiteoutXattrs(SYS.llistxattrAt(layer.fd, rel)));
        }
        assertFalse(announces("plain"));
        assertNull(Markers.classifyWhiteoutXattrs(SYS.llistxattrAt(layer.fd, "plain/file")));
    }

    @Test
    void deviceWhiteout_isTheEnginesWhiteout() throws Exception {
        Stat st = SYS.lstat(layer.fd, "dev");
        assertTrue(Markers.isWhiteoutObject(SYS, layer, "dev", st, false));
        assertTrue(st.isWhiteoutDevice());
    }

    @Test
    void ociNames_mapToTheirTargets() {
        assertEquals("x", Markers.ociWhiteoutTarget(".wh.x"));
        assertNull(Markers.ociWhiteoutTarget(".wh..wh..opq"));
        assertNull(Markers.ociWhiteoutTarget(".wh."));
        assertNull(Markers.ociWhiteoutTarget("x"));
        assertTrue(Markers.isOciOpaqueName(".wh..wh..opq"));
        assertEquals(".wh.x", Markers.ociWhiteoutName("x"));
    }

    @Test
    void encodings_haveDistinctIds_andKernelReadability() {
        for (Encoding e : Encoding.values()) {
            assertEquals(e, Encoding.byId(e.id()));
        }
        assertTrue(Encoding.CHAR_DEVICE.readByKernel(false) && Encoding.CHAR_DEVICE.readByKernel(true));
        assertTrue(Encoding.TRUSTED_OPAQUE.readByKernel(false));
        assertFalse(Encoding.TRUSTED_OPAQUE.readByKernel(true));
        assertTrue(Encoding.USER_OPAQUE.readByKernel(true));
        assertFalse(Encoding.OCI_WHITEOUT.readByKernel(false) || Encoding.OCI_WHITEOUT.readByKernel(true));
        assertFalse(Encoding.FUSE_OVERLAY_OPAQUE.readByKernel(false) || Encoding.FUSE_OVERLAY_OPAQUE.readByKernel(true));
    }
}
