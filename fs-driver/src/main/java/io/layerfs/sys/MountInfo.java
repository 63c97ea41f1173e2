package io.layerfs.sys;

import java.util.ArrayList;
import java.util.List;

/** Fields of /proc/self/mountinfo (proc(5)). */
public final class MountInfo {
    private MountInfo() {
    }

    /**
     * The lines of mountinfo text whose mount point (field 5) is mountpoint, split into their
     * fields, in the kernel's order (later ones mounted over earlier ones). The other lines are
     * only compared, not split: a host running hundreds of containers lists thousands of mounts,
     * and splitting every line cost a mount's start 20-40 ms at 3,000 of them.
     */
    public static List<String[]> linesAt(String text, String mountpoint) {
        String field = escape(mountpoint);
        List<String[]> found = new ArrayList<>(1);
        int n = text.length();
        for (int start = 0; start < n; ) {
            int end = text.indexOf('\n', start);
            if (end < 0) {
                end = n;
            }
            int at = start; // to the fifth field: past four spaces
            for (int k = 0; k < 4 && at >= 0; k++) {
                int space = text.indexOf(' ', at);
                at = space < 0 || space >= end ? -1 : space + 1;
            }
            if (at >= 0 && at + field.length() < end && text.charAt(at + field.length()) == ' '
                    && text.startsWith(field, at)) {
                found.add(text.substring(start, end).split(" "));
            }
            start = end + 1;
        }
        return found;
    }

    /** A path as mountinfo writes it: space, tab, newline and backslash as three-digit octal. */
    static String escape(String path) {
        StringBuilder out = null;
        for (int i = 0; i < path.length(); i++) {
            char c = path.charAt(i);
            if (c == ' ' || c == '\t' || c == '\n' || c == '\\') {
                if (out == null) {
                    out = new StringBuilder(path.length() + 8).append(path, 0, i);
                }
                out.append('\\').append((char) ('0' + (c >> 6))).append((char) ('0' + ((c >> 3) & 7)))
                        .append((char) ('0' + (c & 7)));
            } else if (out != null) {
                out.append(c);
            }
        }
        return out == null ? path : out.toString();
    }

    /** The kernel writes space, tab, newline and backslash in paths as three-digit octal escapes. */
    public static String unescape(String field) {
        if (field.indexOf('\\') < 0) {
            return field;
        }
        StringBuilder out = new StringBuilder(field.length());
        for (int i = 0; i < field.length(); i++) {
            char c = field.charAt(i);
            if (c == '\\' && isOctal(field, i + 1)) {
                out.append((char) Integer.parseInt(field.substring(i + 1, i + 4), 8));
                i += 3;
            } else {
                out.append(c);
            }
        }
        return out.toString();
    }

    private static boolean isOctal(String s, int from) {
        if (from + 3 > s.length()) {
            return false;
        }
        for (int i = from; i < from + 3; i++) {
            char c = s.charAt(i);
            if (c < '0' || c > '7') {
                return false;
            }
        }
        return true;
    }
}
