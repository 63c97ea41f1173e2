package io.layerfs.fuse;

import java.util.logging.Level;
import java.util.logging.Logger;

import io.layerfs.sys.Errno;
import io.layerfs.sys.SysException;

/** The one place where a failure of the engine becomes the negative errno FUSE answers with. */
final class Errors {
    private static final Logger LOG = Logger.getLogger("io.layerfs.fuse");
    /** -Dlayerfs.traceErrors=true: one line on stderr for every failed operation (debugging). */
    private static final boolean TRACE = Boolean.getBoolean("layerfs.traceErrors");

    private Errors() {
    }

    /** Whether failed operations are traced (then a caller names the path it failed on). */
    static boolean tracing() {
        return TRACE;
    }

    static int toErrno(Throwable t, String op, String path) {
        if (t instanceof SysException) {
            if (TRACE) {
                System.err.println("layerfs: " + op + " " + path + ": " + t.getMessage());
            }
            return -((SysException) t).errno();
        }
        // A bug or an unexpected condition: answer EIO (never wrong data) and leave a trace.
        LOG.log(Level.SEVERE, op + " " + path + " failed", t);
        if (t instanceof OutOfMemoryError) {
            return -Errno.ENOMEM;
        }
        return -Errno.EIO;
    }
}
