package io.layerfs.inspect;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Collectors;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import io.layerfs.inspect.Version.Status;
import io.layerfs.union.Markers.Encoding;

/** Scenarios of {@link LayerStack#explain} on {@link EncodingStack}: one per encoding and per kind of cause. */
class LayerStackTest {
    @TempDir
    Path tmp;

    private EncodingStack fx;
    private LayerStack stack;

    @BeforeEach
    void build() throws Exception {
        fx = EncodingStack.in(tmp);
        stack = fx.stack(Rules.LAYERFS);
    }

    private static String names(List<LayerRef> layers) {
        return layers.stream().map(LayerRef::name).collect(Collectors.joining(","));
    }

    private void assertHiddenBy(String path, Cause.Kind kind, String layer, Encoding encoding, String markerPath)
            throws Exception {
        Step s = stack.lookup(path);
        assertFalse(s.visible(), path);
        Cause c = s.hiddenBy();
        assertEquals(kind, c.kind(), path);
        assertEquals(layer, c.layer().name(), path);
        assertEquals(encoding, c.marker().encoding(), path);
        assertEquals(markerPath, c.marker().markerPath(), path);
    }

    @Test
    void explain_fileInLowestLayer_isSuppliedThere() throws Exception {
        Explanation e = stack.explain("a/../o1/new");
        assertEquals("/o1/new", e.path());
        assertTrue(e.visible());
        assertEquals("lower 2", e.target().supplier().name());
        assertEquals("file", e.target().shown().object().type());
        assertEquals(1, e.target().shown().object().size());
    }

    @Test
    void explain_eachWhiteoutEncoding_namesLayerMarkerAndEncoding() throws Exception {
        assertHiddenBy("/a/kern", Cause.Kind.WHITEOUT, "lower 2", Encoding.CHAR_DEVICE, "a/kern");
        assertHiddenBy("/a/oci", Cause.Kind.WHITEOUT, "lower 2", Encoding.OCI_WHITEOUT, "a/.wh.oci");
        assertHiddenBy("/x/trusted", Cause.Kind.WHITEOUT, "lower 2", Encoding.TRUSTED_XATTR_WHITEOUT, "x/trusted");
        assertHiddenBy("/u/user", Cause.Kind.WHITEOUT, "lower 2", Encoding.USER_XATTR_WHITEOUT, "u/user");
        assertHiddenBy("/m/base", Cause.Kind.WHITEOUT, "upper", Encoding.CHAR_DEVICE, "m/base");
    }

    @Test
    void explain_whiteout_listsTheVersionItHides() throws Exception {
        Step s = stack.lookup("/a/kern");
        assertEquals(2, s.versions().size());
        Version marker = s.versions().get(0);
        assertEquals(Status.HIDES, marker.status());
        assertEquals("lower 2", marker.layer().name());
        Version hidden = s.versions().get(1);
        assertEquals(Status.HIDDEN, hidden.status());
        assertEquals("lower 3", hidden.layer().name());
        assertEquals("file", hidden.object().type());
    }

    @Test
    void explain_eachOpaqueEncoding_hidesTheLowerContents() throws Exception {
        assertHiddenBy("/o1/old", Cause.Kind.OPAQUE, "lower 2", Encoding.TRUSTED_OPAQUE, "o1");
        assertHiddenBy("/o2/old", Cause.Kind.OPAQUE, "lower 2", Encoding.USER_OPAQUE, "o2");
        assertHiddenBy("/o3/old", Cause.Kind.OPAQUE, "lower 2", Encoding.FUSE_OVERLAY_OPAQUE, "o3");
        assertHiddenBy("/o4/old", Cause.Kind.OPAQUE, "lower 2", Encoding.OCI_OPAQUE, "o4/.wh..wh..opq");
    }

    @Test
    void explain_insideOpaqueDirectory_theAncestorMatters() throws Exception {
        Explanation e = stack.explain("/o1/old");
        Step o1 = e.ancestors().get(0);
        assertTrue(o1.visible());
        assertEquals("lower 2", names(o1.merged()));
        assertEquals(Cause.Kind.OPAQUE, o1.stop().kind());
        assertEquals(List.of(o1), e.ancestorsThatMatter());
        assertEquals("/o1", e.target().hiddenBy().at());
    }

    @Test
    void explain_underAFileOfAHigherLayer_isShadowedAtTheAncestor() throws Exception {
        Explanation e = stack.explain("/f/inner");
        assertFalse(e.visible());
        Cause c = e.target().hiddenBy();
        assertEquals(Cause.Kind.SHADOWED, c.kind());
        assertEquals("/f", c.at());
        assertEquals("lower 1", c.layer().name());
        assertEquals("lower 3", e.target().versions().get(0).layer().name());
        assertTrue(e.ancestorsThatMatter().get(0).visible());
        assertFalse(e.ancestorsThatMatter().get(0).isDirectory());
    }

    @Test
    void explain_mergedDirectory_listsEveryLayerTopDown() throws Exception {
        Step m = stack.lookup("/m");
        assertEquals("upper", m.supplier().name(), "the upper has m/ for its whiteout");
        assertEquals("upper,lower 1,lower 2,lower 3", names(m.merged()));
        assertNull(m.stop());
        Step shared = stack.lookup("/m/shared");
        assertEquals("lower 2", shared.supplier().name());
        Version base = shared.versions().get(1);
        assertEquals(Status.HIDDEN, base.status());
        assertEquals(Cause.Kind.SHADOWED, base.cause().kind());
        assertEquals("lower 2", base.cause().layer().name());
    }

    @Test
    void explain_ociWhiteoutBesideItsNameInTheSameLayer_isIgnored() throws Exception {
        Step same = stack.lookup("/same");
        assertEquals("lower 1,lower 3", names(same.merged()));
        Marker ignored = same.shown().ignored().get(0);
        assertEquals(Encoding.OCI_WHITEOUT, ignored.encoding());
        assertEquals(".wh.same", ignored.markerPath());
        assertTrue(stack.lookup("/same/keep").visible());
    }

    @Test
    void explain_reservedName_isNeverShownByLayerfs_butTheKernelShowsIt() throws Exception {
        Step s = stack.lookup("/a/.wh.oci");
        assertFalse(s.visible());
        assertEquals(Cause.Kind.RESERVED_NAME, s.hiddenBy().kind());
        assertTrue(fx.stack(Rules.KERNEL).lookup("/a/.wh.oci").visible());
    }

    @Test
    void explain_nothingAnywhere_hasNoCause() throws Exception {
        Step s = stack.lookup("/nowhere/at/all");
        assertFalse(s.visible());
        assertTrue(s.versions().isEmpty());
        assertNull(s.hiddenBy());
    }

    @Test
    void kernelRules_ignoreWhatTheKernelDoesNotRead() throws Exception {
        LayerStack kernel = fx.stack(Rules.KERNEL);
        assertTrue(kernel.lookup("/a/oci").visible(), "the kernel knows no .wh. files");
        assertFalse(kernel.lookup("/x/trusted").visible());
        assertEquals("lower 2", kernel.lookup("/u/user").supplier().name(), "user.overlay.whiteout is an empty file");
        assertTrue(kernel.lookup("/o2/old").visible());
        assertTrue(kernel.lookup("/o3/old").visible());
        assertTrue(kernel.lookup("/o4/old").visible());
        Step oci = kernel.lookup("/a/oci");
        assertEquals(Encoding.OCI_WHITEOUT, oci.ignored().get(0).marker().encoding());

        LayerStack user = fx.stack(Rules.KERNEL_USERXATTR);
        assertFalse(user.lookup("/u/user").visible());
        assertTrue(user.lookup("/x/trusted").visible());
        assertFalse(user.lookup("/o2/old").visible());
        assertTrue(user.lookup("/o1/old").visible());
    }

    @Test
    void below_isTheStackUnderALayer() throws Exception {
        LayerStack below = stack.below(stack.layers().get(0));
        assertEquals("lower 1", below.layers().get(0).name());
        assertTrue(below.lookup("/m/base").visible());
        assertNull(stack.below(stack.layers().get(3)));
    }

    @Test
    void of_missingLayer_isNoSuchFile() {
        assertThrows(NoSuchFileException.class, () -> LayerStack.of(List.of(tmp.resolve("nope")), null, Rules.LAYERFS));
    }

    @Test
    void normalize_makesAbsoluteLexicalPaths() {
        assertEquals("/", LayerStack.normalize(""));
        assertEquals("/", LayerStack.normalize("/.."));
        assertEquals("/a/b", LayerStack.normalize("a//b/"));
        assertEquals("/b", LayerStack.normalize("/a/../b/."));
    }
}
