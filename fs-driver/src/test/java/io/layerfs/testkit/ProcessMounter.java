package io.layerfs.testkit;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import io.layerfs.fuse.FuseMount;
import io.layerfs.union.UnionConfig;
import io.layerfs.union.UnionFs;

/**
 * layerfs as a {@link UnionMounter} served by a child JVM, as the real daemon is. Tests that touch
 * the mount through mmap need this: a page fault of a test thread waits on a FUSE read, and if the
 * server ran in the same JVM, a safepoint (GC) could stop the server threads while the faulting
 * thread cannot reach the safepoint — a deadlock. Closing unmounts and waits for the child to end.
 */
public final class ProcessMounter implements UnionMounter {
    private static final String READY = "layerfs-test-server ready";

    @Override
    public AutoCloseable mount(List<Path> lowers, Path upper, Path work, Path mnt) throws IOException {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", System.getProperty("java.class.path"), Server.class.getName(),
                upper.toString(), work.toString(), mnt.toString()));
        lowers.forEach(l -> cmd.add(l.toString()));
        Process p = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.INHERIT).start();
        BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
        CompletableFuture<String> line = CompletableFuture.supplyAsync(() -> {
            try {
                return out.readLine();
            } catch (IOException e) {
                return null;
            }
        });
        String first;
        try {
            first = line.get(60, TimeUnit.SECONDS);
        } catch (Exception e) {
            p.destroyForcibly();
            throw new IOException("test mount server did not start: " + e);
        }
        if (!READY.equals(first)) {
            p.destroyForcibly();
            throw new IOException("test mount server failed to mount " + mnt + " (said: " + first + ")");
        }
        return () -> {
            // a MappedByteBuffer of the test keeps the mount busy until the GC unmaps it
            for (int i = 0; i < 20; i++) {
                System.gc();
                Process u = new ProcessBuilder("umount", mnt.toString()).redirectErrorStream(true).start();
                u.getInputStream().readAllBytes();
                if (u.waitFor() == 0) {
                    break;
                }
                Thread.sleep(250);
            }
            if (!p.waitFor(60, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                new ProcessBuilder("umount", "-l", mnt.toString()).inheritIO().start().waitFor();
                throw new IOException("test mount server of " + mnt + " did not end after umount");
            }
        };
    }

    @Override
    public String toString() {
        return "layerfs (FUSE, child JVM)";
    }

    /** The child: UPPER WORK MNT LOWER...; prints the ready line once mounted, ends at unmount. */
    public static final class Server {
        private Server() {
        }

        public static void main(String[] args) throws Exception {
            List<Path> lowers = new ArrayList<>();
            for (int i = 3; i < args.length; i++) {
                lowers.add(Path.of(args[i]));
            }
            try (UnionFs fs = UnionFs.open(new UnionConfig(lowers, Path.of(args[0]), Path.of(args[1])));
                 FuseMount fuse = FuseMount.mount(fs, Path.of(args[2]), List.of(), false)) {
                System.out.println(READY);
                System.out.flush();
                fuse.awaitUnmount();
            }
        }
    }
}
