package io.layerfs.union;

import java.io.BufferedWriter;
import java.io.Closeable;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;

/**
 * A {@link Trace} that appends one JSON object per line to a file, e.g.
 * {@code {"time":"...","op":"copy-up","path":"/etc/motd","from":"lower 0 /img/top","type":"file","bytes":4,"method":"copy_file_range"}}.
 * Changes are flushed at once (they are rare and a crash should not lose them); lookups are
 * buffered.
 */
public final class JsonLinesTrace implements Trace, Closeable {
    private final BufferedWriter out;
    private final boolean lookups;
    private final Path file;
    /** Set at the first failed write: the trace stops, said once on stderr (guarded by this). */
    private boolean failed;

    public JsonLinesTrace(Path file, boolean lookups) throws IOException {
        this.file = file;
        this.out = Files.newBufferedWriter(file, StandardCharsets.UTF_8, StandardOpenOption.CREATE,
                StandardOpenOption.APPEND);
        this.lookups = lookups;
    }

    @Override
    public boolean lookups() {
        return lookups;
    }

    @Override
    public void copyUp(String path, String fromLayer, String type, long bytes, String method) {
        write("copy-up", path, true, "from", fromLayer, "type", type, "bytes", bytes, "method", method);
    }

    @Override
    public void whiteout(String path) {
        write("whiteout", path, true, "encoding", "char device 0/0");
    }

    @Override
    public void opaque(String path, String why) {
        write("opaque", path, true, "xattr", "trusted.overlay.opaque=y", "why", why);
    }

    @Override
    public void lookup(String path, String layer) {
        write("lookup", path, false, "layer", layer);
    }

    private synchronized void write(String op, String path, boolean flush, Object... fields) {
        if (failed) {
            return;
        }
        StringBuilder sb = new StringBuilder(128);
        sb.append("{\"time\":\"").append(Instant.now()).append("\",\"op\":\"").append(op).append("\",\"path\":");
        quote(sb, path);
        for (int i = 0; i < fields.length; i += 2) {
            sb.append(",\"").append(fields[i]).append("\":");
            Object v = fields[i + 1];
            if (v == null) {
                sb.append("null");
            } else if (v instanceof Number) {
                sb.append(v);
            } else {
                quote(sb, v.toString());
            }
        }
        sb.append("}\n");
        try {
            out.write(sb.toString());
            if (flush) {
                out.flush();
            }
        } catch (IOException e) {
            // tracing must never fail the operation it describes: stop tracing and say so once
            failed = true;
            System.err.println("layerfs: trace to " + file + " stopped: " + e.getMessage());
        }
    }

    static void quote(StringBuilder sb, String s) {
        sb.append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> sb.append("\\\"");
                case '\\' -> sb.append("\\\\");
                case '\n' -> sb.append("\\n");
                case '\r' -> sb.append("\\r");
                case '\t' -> sb.append("\\t");
                default -> {
                    if (c < 0x20) {
                        sb.append(String.format("\\u%04x", (int) c));
                    } else {
                        sb.append(c);
                    }
                }
            }
        }
        sb.append('"');
    }

    @Override
    public synchronized void close() throws IOException {
        out.close();
    }
}
