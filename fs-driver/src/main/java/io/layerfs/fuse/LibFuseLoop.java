package io.layerfs.fuse;

import jnr.ffi.Pointer;
import jnr.ffi.byref.IntByReference;
import jnr.ffi.byref.PointerByReference;

/**
 * The parts of libfuse 2 (libfuse.so.2) that let Java threads run the request loop themselves,
 * instead of libfuse's own worker threads: a native thread calling into Java is attached to the
 * JVM and detached again for every request, which cost about a fifth of the daemon's CPU.
 * Public only because jnr-ffi implements it from another class loader.
 */
public interface LibFuseLoop {
    Pointer fuse_setup(int argc, String[] argv, Pointer op, long opSize, PointerByReference mountpoint,
                       IntByReference multithreaded, Pointer userData);

    Pointer fuse_get_session(Pointer fuse);

    Pointer fuse_session_next_chan(Pointer session, Pointer chan);

    long fuse_chan_bufsize(Pointer chan);

    /** chanp: a struct fuse_chan ** holding the channel; the receiving channel on return. */
    int fuse_session_receive_buf(Pointer session, Pointer buf, Pointer chanp);

    void fuse_session_process_buf(Pointer session, Pointer buf, Pointer chan);

    int fuse_session_exited(Pointer session);

    void fuse_teardown(Pointer fuse, Pointer mountpoint);
}
