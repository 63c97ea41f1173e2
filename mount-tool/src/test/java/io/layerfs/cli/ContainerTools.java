package io.layerfs.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** What the podman/buildah tests share: running the tools, and listing a container's tree comparably. */
final class ContainerTools {
    /**
     * A shell script that lists the tree: path|type|mode|uid|gid|size|md5 or link target (no times,
     * no nlink), leaving out what the runtime adds (/proc, /sys, /dev, /run, hosts, passwd, mtab...).
     */
    static final String LIST = "cd / && find . -xdev \\( -path ./proc -o -path ./sys -o -path ./dev"
            + " -o -path ./run -o -path ./etc/hosts -o -path ./etc/hostname -o -path ./etc/resolv.conf"
            + " -o -path ./etc/passwd -o -path ./etc/group -o -path ./etc/mtab -o -path ./.containerenv \\)"
            + " -prune -o -print | sort | while read -r p; do s=$(stat -c '%n|%F|%a|%u|%g' \"$p\");"
            + " if [ -L \"$p\" ]; then echo \"$s|$(readlink \"$p\")\";"
            + " elif [ -f \"$p\" ]; then echo \"$s|$(stat -c %s \"$p\")|$(md5sum < \"$p\" | cut -c1-32)\";"
            + " else echo \"$s\"; fi; done";

    private ContainerTools() {
    }

    /** Runs cmd with CONTAINERS_CONF=conf; asserts exit 0 (with its output in the message); returns stdout's lines. */
    static List<String> run(List<String> cmd, Path conf) throws IOException, InterruptedException {
        ProcessBuilder pb = new ProcessBuilder(cmd);
        pb.environment().put("CONTAINERS_CONF", conf.toString());
        Process p = pb.start();
        p.getOutputStream().close();
        StringBuilder err = new StringBuilder();
        Thread errReader = new Thread(() -> {
            try {
                err.append(new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8));
            } catch (IOException ignored) {
                // the exit status tells
            }
        });
        errReader.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(5, TimeUnit.MINUTES), "timed out: " + cmd);
        errReader.join();
        assertEquals(0, p.exitValue(), String.join(" ", cmd) + " failed:\n" + err + out);
        return out.isEmpty() ? List.of() : List.of(out.split("\n"));
    }

    static String md5(String s) throws Exception {
        byte[] d = java.security.MessageDigest.getInstance("MD5").digest(s.getBytes(StandardCharsets.UTF_8));
        StringBuilder sb = new StringBuilder();
        for (byte b : d) {
            sb.append(String.format("%02x", b));
        }
        return sb.toString();
    }
}
