package io.layerfs.fuse;

import java.util.function.Supplier;
import java.util.logging.Level;

import io.layerfs.sys.Errno;
import io.layerfs.sys.SysException;

/** The one place where a failure of the engine becomes the negative errno FUSE answers with. */
final class Errors {
    /** -Dlayerfs.traceErrors=true: one line on stderr for every failed operation (debugging). */
    private static final boolean TRACE = Boolean.getBoolean("layerfs.traceErrors");

    private Errors() {
    }

    /**
     * As {@link #toErrno(Throwable, String, String)}, for a caller whose path costs work to name:
     * {@code path} is asked only when the failure is traced or logged, not for the everyday
     * ENOENT of a lookup or ENODATA of a getxattr.
     */
    static int toErrno(Throwable t, String op, Supplier<String> path) {
        if (t instanceof SysException && !TRACE) {
            return -((SysException) t).errno();
        }
        return toErrno(t, op, path.get());
    }

    static int toErrno(Throwable t, String op, String path) {
        if (t instanceof SysException) {
            if (TRACE) {
                System.err.println("layerfs: " + op + " " + path + ": " + t.getMessage());
            }
            return -((SysException) t).errno();
        }
        // A bug or an unexpected condition: answer EIO (never wrong data) and leave a trace.
        Log.get().log(Level.SEVERE, op + " " + path + " failed", t);
        if (t instanceof OutOfMemoryError) {
            return -Errno.ENOMEM;
        }
        return -Errno.EIO;
    }
}
