package io.layerfs.cli;

import java.io.IOException;

import io.layerfs.fuse.FuseMount;
import io.layerfs.sys.NativeHeap;
import io.layerfs.union.JsonLinesTrace;
import io.layerfs.union.Trace;
import io.layerfs.union.UnionConfig;
import io.layerfs.union.UnionFs;

/**
 * Mounts a checked {@link MountRequest} and serves it in this process until it is unmounted, by
 * {@code layerfs umount}, umount(8), or a SIGTERM/SIGINT to this process, which a shutdown hook
 * turns into a clean unmount.
 */
final class MountServer {
    /**
     * When the server gives free C-heap memory back (see {@link NativeHeap}): once the JVM has freed
     * its start-up compiler memory (it does every 5 s), then now and then, after the compiles and
     * copy-up threads of busy spells.
     */
    private static final long TRIM_FIRST_MILLIS = 6_000;
    private static final long TRIM_PERIOD_MILLIS = 30_000;

    private MountServer() {
    }

    /**
     * Returns OK once the file system has been unmounted and closed.
     *
     * @param onReady runs once, after the mount is usable and before serving
     */
    static int serve(MountRequest request, boolean debug, Runnable onReady)
            throws CliException, InterruptedException {
        UnionFs fs;
        Trace trace = Trace.OFF;
        try {
            MountRequest.Tuning t = request.tuning();
            if (t.trace() != null) {
                trace = new JsonLinesTrace(t.trace(), t.traceLookups());
            }
            fs = UnionFs.open(new UnionConfig(request.lowers(), request.upper(), request.work(), t.isVolatile()), trace);
        } catch (IllegalArgumentException e) {
            throw new CliException(ExitCode.USAGE, e.getMessage());
        } catch (IOException e) {
            closeTrace(trace);
            throw new CliException(ExitCode.FAILURE, "cannot open the layers: " + e.getMessage());
        }
        FuseMount mount;
        try {
            mount = FuseMount.mount(fs, request.mountpoint(), request.fuseOptions(), debug);
        } catch (IOException e) {
            fs.close();
            closeTrace(trace);
            // FuseMount's messages name the mount point already.
            throw new CliException(ExitCode.FAILURE, e.getMessage(),
                    "libfuse's own message, if any, is on the line above; --debug shows more");
        } catch (RuntimeException | Error e) {
            fs.close();
            throw e;
        }
        Shutdown shutdown = new Shutdown(mount, fs, trace);
        // Runs on SIGTERM, SIGINT and System.exit; the main thread runs it too once unmounted.
        Runtime.getRuntime().addShutdownHook(new Thread(shutdown::run, "layerfs-unmount"));
        onReady.run();
        HeapTouch.startIfAsked();
        NativeHeap.trimPeriodically(TRIM_FIRST_MILLIS, TRIM_PERIOD_MILLIS);
        try {
            mount.awaitUnmount();
        } finally {
            shutdown.run();
        }
        return ExitCode.OK.code;
    }

    private static void closeTrace(Trace trace) {
        if (trace instanceof java.io.Closeable) {
            try {
                ((java.io.Closeable) trace).close();
            } catch (IOException ignored) {
                // the trace is best effort; the mount's outcome does not depend on it
            }
        }
    }

    /** Unmounts, then closes the engine and the trace; once, whichever thread comes first. */
    private static final class Shutdown {
        private final FuseMount mount;
        private final UnionFs fs;
        private final Trace trace;
        /** Guarded by this. */
        private boolean done;

        Shutdown(FuseMount mount, UnionFs fs, Trace trace) {
            this.mount = mount;
            this.fs = fs;
            this.trace = trace;
        }

        synchronized void run() {
            if (done) {
                return;
            }
            done = true;
            try {
                mount.close();
            } finally {
                fs.close();
                closeTrace(trace);
            }
        }
    }
}
