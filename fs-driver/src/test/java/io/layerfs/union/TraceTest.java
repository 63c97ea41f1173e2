package io.layerfs.union;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import io.layerfs.contract.Stack;
import io.layerfs.sys.Sys;

/** --trace: one JSON line per change the union makes to the layers, lookups only when asked. */
class TraceTest {
    @TempDir
    Path tmp;

    // lower: etc/motd="hello", d/x
    private Stack stack() throws Exception {
        Stack s = new Stack(Files.createDirectories(tmp.resolve("stack")), 1);
        s.file(s.lower(0), "etc/motd", "hello").file(s.lower(0), "d/x", "x");
        return s;
    }

    private static void append(UnionFs fs, String path, String text) throws Exception {
        long fh = fs.open(path, Sys.O_WRONLY | Sys.O_APPEND);
        try {
            byte[] b = text.getBytes(StandardCharsets.UTF_8);
            fs.write(fh, b, b.length, fs.fgetattr(fh).size);
        } finally {
            fs.release(fh);
        }
    }

    @Test
    void changes_eachWriteOneJsonLine() throws Exception {
        Stack s = stack();
        Path file = tmp.resolve("trace.jsonl");
        try (JsonLinesTrace trace = new JsonLinesTrace(file, false); UnionFs fs = UnionFs.open(s.config(), trace)) {
            fs.getattr("/etc/motd");
            append(fs, "/etc/motd", "!");
            fs.unlink("/d/x");
            fs.rmdir("/d");
            fs.mkdir("/d", 0755, Caller.ROOT);
        }
        List<String> lines = Files.readAllLines(file);
        assertEquals(6, lines.size(), String.join("\n", lines));
        assertTrue(lines.get(0).contains("\"op\":\"copy-up\",\"path\":\"/etc\"") && lines.get(0).contains("\"type\":\"directory\""),
                lines.get(0));
        assertTrue(lines.get(1).contains("\"op\":\"copy-up\",\"path\":\"/etc/motd\"") && lines.get(1).contains("\"bytes\":5"),
                lines.get(1));
        assertTrue(lines.get(2).contains("\"op\":\"copy-up\",\"path\":\"/d\""), lines.get(2));
        assertTrue(lines.get(3).contains("\"op\":\"whiteout\",\"path\":\"/d/x\""), lines.get(3));
        assertTrue(lines.get(4).contains("\"op\":\"whiteout\",\"path\":\"/d\""), lines.get(4));
        assertTrue(lines.get(5).contains("\"op\":\"opaque\",\"path\":\"/d\""), lines.get(5));
        assertTrue(lines.stream().noneMatch(l -> l.contains("\"op\":\"lookup\"")), "lookups only when asked");
    }

    @Test
    void lookups_whenAsked_nameTheLayerThatAnswered() throws Exception {
        Stack s = stack();
        Path file = tmp.resolve("trace.jsonl");
        try (JsonLinesTrace trace = new JsonLinesTrace(file, true); UnionFs fs = UnionFs.open(s.config(), trace)) {
            fs.getattr("/etc/motd");
            try {
                fs.getattr("/nothing");
            } catch (io.layerfs.sys.SysException expected) {
                // ENOENT, traced with no layer
            }
        }
        List<String> lines = Files.readAllLines(file);
        assertEquals(2, lines.size(), String.join("\n", lines));
        assertTrue(lines.get(0).contains("\"path\":\"/etc/motd\",\"layer\":\"lower 1 " + s.lower(0) + "\""), lines.get(0));
        assertTrue(lines.get(1).contains("\"path\":\"/nothing\",\"layer\":null"), lines.get(1));
    }
}
