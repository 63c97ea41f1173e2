package io.layerfs.union;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import io.layerfs.contract.Stack;
import io.layerfs.sys.Sys;

/**
 * A file opened read-only before it is copied up reads the copy afterwards, as on kernel overlayfs:
 * its descriptor is pointed at the copy. Through FUSE that matters beyond the one reader: its reads
 * fill the page cache every open of the file shares (see DevFuseMountTest's test of the same).
 * <pre>
 *   lower 0/ low "OLD-DATA", pair "OLD-PAIR" with a second name pair2, other "OTHER"
 * </pre>
 */
class ReadersFollowCopyUpTest {
    @TempDir
    Path tmp;

    private static String read(UnionFs fs, long fh) throws Exception {
        byte[] buf = new byte[64];
        int n = fs.read(fh, buf, buf.length, 0);
        return new String(buf, 0, n, StandardCharsets.UTF_8);
    }

    private static void write(UnionFs fs, String path, String data) throws Exception {
        long fh = fs.open(path, Sys.O_RDWR);
        byte[] b = data.getBytes(StandardCharsets.UTF_8);
        fs.write(fh, b, b.length, 0);
        fs.release(fh);
    }

    private Stack stack() throws IOException {
        Stack s = new Stack(tmp, 1);
        s.file(s.lower(0), "low", "OLD-DATA").file(s.lower(0), "pair", "OLD-PAIR")
                .file(s.lower(0), "other", "OTHER");
        Files.createLink(s.lower(0).resolve("pair2"), s.lower(0).resolve("pair"));
        return s;
    }

    @Test
    void readerOpenedBeforeCopyUp_readsWhatWasWrittenAfter() throws Exception {
        try (UnionFs fs = UnionFs.open(stack().config())) {
            long a = fs.open("/low", Sys.O_RDONLY);
            long b = fs.open("/low", Sys.O_RDONLY);
            long other = fs.open("/other", Sys.O_RDONLY);
            assertEquals("OLD-DATA", read(fs, a));

            write(fs, "/low", "NEW");

            assertEquals("NEW-DATA", read(fs, a));
            assertEquals("NEW-DATA", read(fs, b));
            assertEquals("OTHER", read(fs, other), "a reader of another file is left alone");
            fs.release(a);
            assertEquals("NEW-DATA", read(fs, b), "releasing one reader leaves the other");
            fs.release(b);
            fs.release(other);
        }
    }

    @Test
    void readerOfAnotherName_ofAHardLinkedLowerFile_followsTheCopyToo() throws Exception {
        try (UnionFs fs = UnionFs.open(stack().config())) {
            long viaOtherName = fs.open("/pair2", Sys.O_RDONLY);

            write(fs, "/pair", "NEW");

            assertEquals("NEW-PAIR", read(fs, viaOtherName));
            fs.release(viaOtherName);
        }
    }

    @Test
    void readerReleasedBeforeCopyUp_leavesNoRegistration_andTruncatingCopyUpIsSeen() throws Exception {
        try (UnionFs fs = UnionFs.open(stack().config())) {
            long gone = fs.open("/low", Sys.O_RDONLY);
            fs.release(gone);
            long other = fs.open("/other", Sys.O_RDONLY);
            assertEquals(gone, other, "the premise: the released number is the next one handed out");
            long reader = fs.open("/low", Sys.O_RDONLY);

            long t = fs.open("/low", Sys.O_WRONLY | Sys.O_TRUNC); // a copy-up without data
            fs.release(t);

            assertEquals("", read(fs, reader));
            assertEquals("OTHER", read(fs, other), "a number released as a reader of /low is not pointed at its copy");
            fs.release(reader);
            fs.release(other);
        }
    }
}
