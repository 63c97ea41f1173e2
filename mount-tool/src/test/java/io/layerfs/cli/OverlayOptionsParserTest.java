package io.layerfs.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;

import org.junit.jupiter.api.Test;

/** The -o forms podman, buildah and people pass to a fuse-overlayfs compatible mount program. */
class OverlayOptionsParserTest {
    private static final Path CWD = Path.of("/var/lib/containers/storage/overlay");

    private static OverlayOptions parse(String... optionArgs) throws CliException {
        return OverlayOptionsParser.parse(List.of(optionArgs), CWD);
    }

    @Test
    void podmanForm_relativeLowers_resolvedAgainstCwd() throws CliException {
        OverlayOptions o = parse("lowerdir=l/AAAA:l/BBBB,upperdir=/abs/diff,workdir=c1/work");

        assertEquals(List.of(CWD.resolve("l/AAAA"), CWD.resolve("l/BBBB")), o.lowers());
        assertEquals(Path.of("/abs/diff"), o.upper());
        assertEquals(CWD.resolve("c1/work"), o.work());
        assertEquals(List.of(), o.fuseOptions());
        assertEquals(List.of(), o.warnings());
    }

    @Test
    void lowerdir_orderIsKept_leftmostIsHighest() throws CliException {
        OverlayOptions o = parse("lowerdir=/top:/middle:/bottom");

        assertEquals(List.of(Path.of("/top"), Path.of("/middle"), Path.of("/bottom")), o.lowers());
        assertNull(o.upper());
        assertNull(o.work());
    }

    @Test
    void emptyItems_areSkipped() throws CliException {
        OverlayOptions o = parse(",lowerdir=/a,,upperdir=/u,,,workdir=/w,");

        assertEquals(List.of(Path.of("/a")), o.lowers());
        assertEquals(Path.of("/u"), o.upper());
        assertEquals(Path.of("/w"), o.work());
        assertEquals(List.of(), o.warnings());
    }

    @Test
    void emptyOptionArgument_namesNothing() throws CliException {
        OverlayOptions o = parse("");

        assertTrue(!o.namesLayers());
        assertEquals(List.of(), o.warnings());
    }

    @Test
    void severalDashO_combine_laterValueWins() throws CliException {
        OverlayOptions o = parse("lowerdir=/a", "upperdir=/u1,workdir=/w", "upperdir=/u2", "ro");

        assertEquals(List.of(Path.of("/a")), o.lowers());
        assertEquals(Path.of("/u2"), o.upper());
        assertEquals(List.of("ro"), o.fuseOptions());
    }

    @Test
    void symlinkedLower_isNotResolvedByParsing() throws CliException {
        // podman's l/SHORTID entries are symlinks; Preflight resolves them, the parser only makes paths absolute.
        OverlayOptions o = parse("lowerdir=l/SHORTID/../x");

        assertEquals(CWD.resolve("l/SHORTID/../x"), o.lowers().get(0));
    }

    @Test
    void noOpOptions_areAcceptedSilently() throws CliException {
        OverlayOptions o = parse("lowerdir=/a,volatile,fsync=0,noacl,noxattrs=1,fast_ino=1,threaded=1,"
                + "writeback=1,static_nlink,redirect_dir=off,index=off,metacopy=on,xino=auto,userxattr");

        assertEquals(List.of(), o.warnings());
        assertEquals(List.of(), o.fuseOptions());
    }

    @Test
    void writebackZero_turnsTheKernelsWriteCacheOff() throws CliException {
        assertEquals(List.of("no_writeback_cache"), parse("lowerdir=/a,writeback=0").fuseOptions());
        assertEquals(List.of(), parse("lowerdir=/a,writeback=1").fuseOptions());
        assertEquals(List.of("ignoring unknown option writeback=maybe"), parse("lowerdir=/a,writeback=maybe").warnings());
    }

    @Test
    void unknownOption_isAWarningNotAnError() throws CliException {
        OverlayOptions o = parse("lowerdir=/a,frobnicate,speed=11");

        assertEquals(List.of("ignoring unknown option frobnicate", "ignoring unknown option speed=11"),
                o.warnings());
        assertEquals(List.of(Path.of("/a")), o.lowers());
    }

    @Test
    void noOpFlag_withAValue_isUnknown() throws CliException {
        OverlayOptions o = parse("lowerdir=/a,volatile=yes");

        assertEquals(List.of("ignoring unknown option volatile=yes"), o.warnings());
    }

    @Test
    void idMappingAndLabels_areAcceptedWithAWarning() throws CliException {
        OverlayOptions o = parse("lowerdir=/a,squash_to_root,uidmapping=0:100000:65536,gidmapping=0:100000:65536");

        assertEquals(List.of("ignoring unsupported option squash_to_root",
                "ignoring unsupported option uidmapping=0:100000:65536",
                "ignoring unsupported option gidmapping=0:100000:65536"), o.warnings());
        assertEquals(List.of(), o.fuseOptions());
    }

    @Test
    void quotedContext_commaInsideQuotes_doesNotSplit() throws CliException {
        OverlayOptions o = parse("lowerdir=/a,context=\"system_u:object_r:container_file_t:s0:c1,c2\",upperdir=/u,workdir=/w");

        assertEquals(List.of("ignoring unsupported option context=\"system_u:object_r:container_file_t:s0:c1,c2\""),
                o.warnings());
        assertEquals(Path.of("/u"), o.upper());
        assertEquals(Path.of("/w"), o.work());
    }

    @Test
    void fuseOptions_arePassedThroughInOrder() throws CliException {
        OverlayOptions o = parse("lowerdir=/a,ro,allow_other,default_permissions,fsname=img,nodev,max_read=65536");

        assertEquals(List.of("ro", "allow_other", "default_permissions", "fsname=img", "nodev", "max_read=65536"),
                o.fuseOptions());
        assertEquals(List.of(), o.warnings());
    }

    @Test
    void escapedComma_staysEscapedInFuseOptions_andIsRemovedFromPaths() throws CliException {
        OverlayOptions o = parse("lowerdir=/a,fsname=x\\,y,upperdir=/up\\,per,workdir=/w");

        assertEquals(List.of("fsname=x\\,y"), o.fuseOptions());
        assertEquals(Path.of("/up,per"), o.upper());
    }

    @Test
    void emptyLowerEntry_isAUsageError() {
        for (String bad : List.of("lowerdir=/a::/b", "lowerdir=/a:", "lowerdir=:/a", "lowerdir=", "lowerdir")) {
            CliException e = assertThrows(CliException.class, () -> parse(bad), bad);
            assertEquals(ExitCode.USAGE, e.exitCode, bad);
        }
    }

    @Test
    void upperdirWithoutValue_isAUsageError() {
        CliException e = assertThrows(CliException.class, () -> parse("lowerdir=/a,upperdir=,workdir=/w"));

        assertEquals(ExitCode.USAGE, e.exitCode);
        assertTrue(e.getMessage().contains("upperdir"), e.getMessage());
    }

    @Test
    void split_keepsQuotesAndEscapes_dropsEmptyItems() {
        assertEquals(List.of("a", "b=\"1,2\"", "c\\,d"), OverlayOptionsParser.split(",a,,b=\"1,2\",c\\,d,"));
    }
}
