package io.layerfs.fuse;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.List;

import io.layerfs.sys.Errno;
import io.layerfs.sys.Stat;
import io.layerfs.sys.Sys;
import io.layerfs.sys.SysException;
import io.layerfs.union.Caller;
import io.layerfs.union.DirItem;
import io.layerfs.union.UnionFs;

/**
 * The FUSE protocol (linux/fuse.h, 7.23 to 7.38) over the path-based engine, one request at a
 * time: each method reads its op's struct from the request buffer, asks {@link UnionFs}, and writes
 * the reply payload after the 16-byte out header. It returns the payload length, a negative errno,
 * or {@link #NO_REPLY}; {@link DevFuseSession} writes the header and sends the reply. An exception
 * becomes an errno in one place, {@link Errors#toErrno}, in {@link #handle}.
 *
 * <p>Node ids map to engine paths through {@link DevFuseNodes}. Attribute and entry timeouts are
 * long because every change reaches the layers through this daemon and the kernel drops what a
 * change makes stale (the parent's attributes after a create, the node's after a write or setattr);
 * hard links are one node, so no name shows a stale nlink or size.
 *
 * <p>Struct offsets are the x86_64 (and every 64-bit) layout of linux/fuse.h; requests start with
 * the 40-byte fuse_in_header.
 */
final class DevFuseOps {
    static final int NO_REPLY = Integer.MIN_VALUE;

    static final int IN_HEADER = 40;
    static final int OUT_HEADER = 16;
    /**
     * The largest READ (max_pages): sequential readers get 1 MiB per round trip (with the
     * readahead raised to match, see {@link Readahead}).
     */
    static final int MAX_READ = 1 << 20;
    /**
     * The largest WRITE. Smaller than reads: a WRITE's data is copied twice through the request
     * buffer (by the kernel into it, by pwrite out of it), and with 1 MiB buffers on 4 threads
     * those copies miss the CPU caches. Measured, 256 MiB written with dd bs=1M conv=fsync, daemon
     * CPU (median of 3): 1 MiB 390 ms, 256 KiB 150 ms, 128 KiB 180 ms.
     */
    static final int MAX_WRITE = 256 << 10;
    /** Request buffer: the largest WRITE (in header, fuse_write_in, MAX_WRITE bytes) and then some. */
    static final int IN_BUFFER = MAX_WRITE + 8192;
    static final int OUT_BUFFER = MAX_READ + 4096;

    // opcodes (enum fuse_opcode)
    static final int LOOKUP = 1;
    static final int FORGET = 2;
    static final int GETATTR = 3;
    static final int SETATTR = 4;
    static final int READLINK = 5;
    static final int SYMLINK = 6;
    static final int MKNOD = 8;
    static final int MKDIR = 9;
    static final int UNLINK = 10;
    static final int RMDIR = 11;
    static final int RENAME = 12;
    static final int LINK = 13;
    static final int OPEN = 14;
    static final int READ = 15;
    static final int WRITE = 16;
    static final int STATFS = 17;
    static final int RELEASE = 18;
    static final int FSYNC = 20;
    static final int SETXATTR = 21;
    static final int GETXATTR = 22;
    static final int LISTXATTR = 23;
    static final int REMOVEXATTR = 24;
    static final int FLUSH = 25;
    static final int INIT = 26;
    static final int OPENDIR = 27;
    static final int READDIR = 28;
    static final int RELEASEDIR = 29;
    static final int FSYNCDIR = 30;
    static final int ACCESS = 34;
    static final int CREATE = 35;
    static final int INTERRUPT = 36;
    static final int DESTROY = 38;
    static final int BATCH_FORGET = 42;
    static final int FALLOCATE = 43;
    static final int READDIRPLUS = 44;
    static final int RENAME2 = 45;
    static final int LSEEK = 46;

    // FUSE_INIT flags
    private static final int ASYNC_READ = 1;
    private static final int ATOMIC_O_TRUNC = 1 << 3;
    private static final int BIG_WRITES = 1 << 5;
    private static final int DO_READDIRPLUS = 1 << 13;
    private static final int READDIRPLUS_AUTO = 1 << 14;
    private static final int WRITEBACK_CACHE = 1 << 16;
    private static final int PARALLEL_DIROPS = 1 << 18;
    private static final int MAX_PAGES = 1 << 22;
    private static final int CACHE_SYMLINKS = 1 << 23;
    private static final int HANDLE_KILLPRIV_V2 = 1 << 28;
    /**
     * What we ask for. HANDLE_KILLPRIV_V2: the kernel marks the writes, truncates and truncating
     * opens of callers without CAP_FSETID, and we clear the set-ID bits of the file (this server
     * keeps them when it writes, as it has the capability); chown clears them in the layer's file
     * system as it would here (a chown of nothing, -1 and -1, comes as a change of ctime alone, see
     * {@link #setattr}). Without it, the kernel asks for fresh attributes before every chown (one
     * GETATTR per file of an untar: 20,000 of its 221,000 requests), and it drops the clearing of an
     * O_TRUNC open (where OPEN truncates, ATOMIC_O_TRUNC). With it the super block is SB_NOSEC, so a
     * file found free of security.capability is not asked again before its next write. Not asked:
     * DONT_MASK (the kernel applies the umask, as there are no POSIX ACLs to apply instead);
     * HANDLE_KILLPRIV (v1: the kernel would not say which writes must clear); EXPORT_SUPPORT and
     * POSIX_ACL (not offered); POSIX_LOCKS/FLOCK_LOCKS (the kernel keeps locks locally, as with
     * libfuse). WRITEBACK_CACHE is added unless the mount says writeback=0 (see {@link #writeback}).
     */
    private static final int WANTED = ASYNC_READ | ATOMIC_O_TRUNC | BIG_WRITES | DO_READDIRPLUS
            | READDIRPLUS_AUTO | PARALLEL_DIROPS | MAX_PAGES | CACHE_SYMLINKS | HANDLE_KILLPRIV_V2;
    /** In a WRITE's write_flags: the writer lacks CAP_FSETID (HANDLE_KILLPRIV_V2). */
    private static final int WRITE_KILL_SUIDGID = 1 << 2;
    /** In INIT's flags from the kernel: it takes ENOSYS to OPEN as "send no OPEN and RELEASE". */
    private static final int NO_OPEN_SUPPORT = 1 << 17;
    /** In an OPEN's or CREATE's open_flags: an O_TRUNC open by a caller without CAP_FSETID. */
    private static final int OPEN_KILL_SUIDGID = 1;
    private static final int MIN_MINOR = 23;
    private static final int OUR_MINOR = 38;
    private static final int MAX_PAGES_WANTED = MAX_READ / 4096;

    private static final int GETATTR_FH = 1;
    private static final int FATTR_MODE = 1;
    private static final int FATTR_UID = 1 << 1;
    private static final int FATTR_GID = 1 << 2;
    private static final int FATTR_SIZE = 1 << 3;
    private static final int FATTR_ATIME = 1 << 4;
    private static final int FATTR_MTIME = 1 << 5;
    private static final int FATTR_FH = 1 << 6;
    /** A truncate by a caller without CAP_FSETID (HANDLE_KILLPRIV_V2). */
    private static final int FATTR_KILL_SUIDGID = 1 << 11;
    private static final int FATTR_LOCKOWNER = 1 << 9;
    private static final int FATTR_CTIME = 1 << 10;
    private static final int FATTR_ATIME_NOW = 1 << 7;
    private static final int FATTR_MTIME_NOW = 1 << 8;
    private static final int FOPEN_KEEP_CACHE = 1 << 1;
    private static final int FOPEN_CACHE_DIR = 1 << 3;
    private static final int RENAME_NOREPLACE = 1;
    private static final int EPROTO = 71;

    private static final long NANOS = 1_000_000_000L;
    private static final int ENTRY_OUT = 128;
    private static final int ATTR_OUT = 104;

    private final UnionFs fs;
    private final DevFuseNodes nodes;
    /** Timeouts in nanoseconds. */
    private final long entryValid;
    private final long attrValid;
    private final long negativeValid;
    private final Runnable onInit;
    private final boolean writebackWanted;
    /**
     * Told the node whose attributes changed where the reply cannot say so (an OPEN or WRITE that
     * cleared set-ID bits): the session invalidates the kernel's cached attributes. Set before
     * requests are served.
     */
    java.util.function.LongConsumer attributesChanged = node -> { };
    /**
     * Whether the kernel caches writes (FUSE_WRITEBACK_CACHE, agreed in INIT): write(2) fills the
     * page cache, and the kernel sends the dirty pages in large WRITEs when it writes back, at the
     * latest when the file is closed (its flush) or synced. The kernel then owns a regular file's
     * size and mtime while it is cached, and may read pages of a file opened write-only to fill a
     * partly written page: so opens for writing become O_RDWR, and O_APPEND is left to the kernel,
     * which knows the size (see {@link #writeFlags}). Set once, before any other request.
     */
    private volatile boolean writeback;
    private final boolean noOpenWanted;
    private final int openFiles;
    /**
     * The layer files READ, WRITE and the like go through when the kernel sends no OPEN (see
     * {@link NodeFiles}); null while OPEN requests give file handles. Set in INIT.
     */
    private volatile NodeFiles nodeFiles;

    DevFuseOps(UnionFs fs, DevFuseNodes nodes, DevFuseOptions options, Runnable onInit) {
        this.fs = fs;
        this.nodes = nodes;
        this.writebackWanted = options.writebackCache() && !fs.readOnly();
        this.entryValid = options.entryTimeoutNanos();
        this.attrValid = options.attrTimeoutNanos();
        this.negativeValid = options.negativeTimeoutNanos();
        this.onInit = onInit;
        this.noOpenWanted = options.noOpen();
        this.openFiles = options.openFiles();
    }

    /** The per-worker request and reply buffers; {@code in} holds one request, {@code out} its reply. */
    static final class Buffers {
        final ByteBuffer in = ByteBuffer.allocateDirect(IN_BUFFER).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        final ByteBuffer out = ByteBuffer.allocateDirect(OUT_BUFFER).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        final long inAddress = Sys.addressOf(in);
        final long outAddress = Sys.addressOf(out);
        private final byte[] scratch = new byte[4096];
        /** Where the string read last by {@link #string} ended (after its NUL). */
        int end;

        /** The NUL-terminated string at offset {@code at} of the request. */
        String string(int at) {
            // one bulk copy, then the NUL is looked for in the heap array (cheaper than a
            // bounds-checked get per byte of the direct buffer)
            int available = Math.max(0, in.limit() - at);
            int n = Math.min(available, scratch.length);
            in.get(at, scratch, 0, n);
            int len = 0;
            while (len < n && scratch[len] != 0) {
                len++;
            }
            if (len == n && n < available) { // longer than the scratch array (not a name: a value)
                int i = at + n;
                while (i < in.limit() && in.get(i) != 0) {
                    i++;
                }
                len = i - at;
                byte[] b = new byte[len];
                in.get(at, b, 0, len);
                end = at + len + 1;
                return new String(b, 0, len, StandardCharsets.UTF_8);
            }
            end = at + len + 1;
            return new String(scratch, 0, len, StandardCharsets.UTF_8);
        }
    }

    /** Runs one request; returns its reply's payload length, a negative errno, or NO_REPLY. */
    /**
     * Whether the request in b may take long enough to hold up the requests behind it: a sync,
     * or a change that copies a lower file's data up first (see {@link UnionFs#wouldCopyData}).
     * {@link DevFuseSession} answers these on other threads, the rest on the thread that read them.
     */
    boolean mayTakeLong(Buffers b, int opcode, long node) {
        ByteBuffer in = b.in;
        switch (opcode) {
            case FSYNC:
            case FSYNCDIR:
            case FALLOCATE:
                return true;
            case WRITE: {
                NodeFiles files = nodeFiles;
                return files != null && !files.writable(node) && nodeCopiesData(node);
            }
            case OPEN: {
                int flags = in.getInt(IN_HEADER);
                return ((flags & Sys.O_ACCMODE) != Sys.O_RDONLY || (flags & Sys.O_TRUNC) != 0)
                        && copiesData(nodes.path(node));
            }
            case SETATTR:
                return nodeCopiesData(node);
            case SETXATTR:
            case REMOVEXATTR:
                return copiesData(nodes.path(node));
            case LINK:
                return copiesData(nodes.path(in.getLong(IN_HEADER)));
            case RENAME:
                return copiesData(nodes.childPath(node, b.string(IN_HEADER + 8)));
            case RENAME2:
                return copiesData(nodes.childPath(node, b.string(IN_HEADER + 16)));
            default:
                return false;
        }
    }

    private boolean copiesData(String path) {
        return path != null && fs.wouldCopyData(path);
    }

    /**
     * Whether a change of the node's data may copy it first: a copy-up through its path, or,
     * without OPEN, the unnamed copy of a lower file whose last name went (see
     * {@link NodeFiles#forWriting}), which may be as big as any copy-up.
     */
    private boolean nodeCopiesData(long node) {
        String path = nodes.path(node);
        return path == null ? nodeFiles != null : fs.wouldCopyData(path);
    }

    /** The node's path for --debug output, or "node N" if it has no name (left). */
    String describe(long node) {
        String p = nodes.path(node);
        return p == null ? "node " + node : p;
    }

    /** The name a request carries after its fixed part (LOOKUP, CREATE, MKDIR, ...), for --debug; else null. */
    String nameOf(Buffers b, int opcode) {
        switch (opcode) {
            case LOOKUP:
            case UNLINK:
            case RMDIR:
                return b.string(IN_HEADER);
            case MKDIR:
                return b.string(IN_HEADER + 8);
            case CREATE:
            case MKNOD:
                return b.string(IN_HEADER + 16);
            default:
                return null;
        }
    }

    int handle(Buffers b, int opcode, long node) {
        try {
            return dispatch(b, opcode, node);
        } catch (Throwable t) {
            return Errors.toErrno(t, opName(opcode), () -> describe(node));
        }
    }

    private int dispatch(Buffers b, int opcode, long node) throws SysException {
        ByteBuffer in = b.in;
        switch (opcode) {
            case LOOKUP: return lookup(b, node, b.string(IN_HEADER));
            case FORGET:
                forget(node, in.getLong(IN_HEADER));
                return NO_REPLY;
            case BATCH_FORGET: return batchForget(in);
            case GETATTR: return getattr(b, node);
            case SETATTR: return setattr(b, node);
            case READLINK: return readlink(b, node);
            case SYMLINK: return symlink(b, node);
            case MKNOD: return mknod(b, node);
            case MKDIR: return mkdir(b, node);
            case UNLINK: return remove(node, b.string(IN_HEADER), false);
            case RMDIR: return remove(node, b.string(IN_HEADER), true);
            case RENAME: return rename(b, node, in.getLong(IN_HEADER), 0, IN_HEADER + 8);
            case RENAME2: return rename(b, node, in.getLong(IN_HEADER), in.getInt(IN_HEADER + 8), IN_HEADER + 16);
            case LINK: return link(b, node);
            case OPEN: return open(b, node);
            case READ: return read(b, node);
            case WRITE: return write(b, node);
            case STATFS: return statfs(b);
            case RELEASE:
                if (nodeFiles == null) { // else a file CREATE made before the first OPEN: handle 0
                    nodes.released(node, in.getLong(IN_HEADER));
                    fs.release(in.getLong(IN_HEADER));
                }
                return 0;
            case FSYNC: return fsync(b, node);
            case FLUSH:
                // nothing to do at close(2): writes reach the layer file at once. ENOSYS tells
                // the kernel to send no more FLUSH (one request less per close, two for `: > f`)
                return -Errno.ENOSYS;
            case FSYNCDIR:
            case DESTROY:
                return 0;
            case SETXATTR: return setxattr(b, node);
            case GETXATTR: return getxattr(b, node);
            case LISTXATTR: return listxattr(b, node);
            case REMOVEXATTR:
                try {
                    fs.removexattr(path(node), b.string(IN_HEADER));
                } finally {
                    nodes.xattrsChanged(node);
                }
                return 0;
            case INIT: return init(b);
            case OPENDIR: return opendir(b, node);
            case READDIR: return readdir(b, node, false);
            case READDIRPLUS: return readdir(b, node, true);
            case RELEASEDIR:
                fs.releasedir(in.getLong(IN_HEADER));
                return 0;
            case ACCESS:
                fs.access(path(node), in.getInt(IN_HEADER));
                return 0;
            case CREATE: return create(b, node);
            case INTERRUPT: return NO_REPLY; // requests are not interruptible here; they finish
            case FALLOCATE: return fallocate(b, node);
            case LSEEK: return lseek(b, node);
            default:
                // GETLK/SETLK, IOCTL, POLL, BMAP, COPY_FILE_RANGE, SYNCFS, TMPFILE...: the
                // kernel falls back to its generic code or reports the lack
                return -Errno.ENOSYS;
        }
    }

    // ---- names ----------------------------------------------------------------------------------

    private String path(long node) throws SysException {
        String p = nodes.path(node);
        if (p == null) {
            throw new SysException(Errno.ENOENT, "node " + node + " has no name left");
        }
        return p;
    }

    private String childPath(long parent, String name) throws SysException {
        String p = nodes.childPath(parent, name);
        if (p == null) {
            throw new SysException(Errno.ENOENT, "node " + parent + " has no name left");
        }
        return p;
    }

    private int lookup(Buffers b, long parent, String name) throws SysException {
        String path = childPath(parent, name);
        Stat st;
        try {
            st = fs.getattr(path);
        } catch (SysException e) {
            if (e.errno() != Errno.ENOENT || negativeValid <= 0) {
                throw e;
            }
            // a negative entry: the kernel remembers that the name does not exist
            ByteBuffer out = b.out;
            for (int i = 0; i < ENTRY_OUT; i += 8) {
                out.putLong(OUT_HEADER + i, 0);
            }
            out.putLong(OUT_HEADER + 16, negativeValid / NANOS);
            out.putInt(OUT_HEADER + 32, (int) (negativeValid % NANOS));
            return ENTRY_OUT;
        }
        return entry(b.out, OUT_HEADER, nodes.looked(parent, name, st.ino), st);
    }

    /** The reply to an op that made a name: fuse_entry_out of the new object, one lookup more. */
    private int newEntry(Buffers b, long parent, String name, String path) throws SysException {
        Stat st = fs.getattr(path);
        return entry(b.out, OUT_HEADER, nodes.looked(parent, name, st.ino), st);
    }

    private int batchForget(ByteBuffer in) {
        int count = in.getInt(IN_HEADER);
        int at = IN_HEADER + 8;
        for (int i = 0; i < count && at + 16 <= in.limit(); i++, at += 16) {
            forget(in.getLong(at), in.getLong(at + 8));
        }
        return NO_REPLY;
    }

    private void forget(long node, long count) {
        if (nodes.forget(node, count)) {
            NodeFiles files = nodeFiles;
            if (files != null) {
                files.forget(node);
            }
        }
    }

    // ---- attributes -----------------------------------------------------------------------------

    /**
     * A node's attributes: through its path, as long as that still names the node's object;
     * otherwise (unlinked while open) through the open file, if the kernel named one.
     */
    private Stat attributes(long node, long fh) throws SysException {
        String path = nodes.path(node);
        if (path != null) {
            try {
                Stat st = fs.getattr(path);
                if (st.ino == nodes.ino(node) || node == DevFuseNodes.ROOT_ID) {
                    return st;
                }
            } catch (SysException e) {
                if (e.errno() != Errno.ENOENT || fh < 0) {
                    throw e;
                }
            }
        }
        if (fh < 0) {
            // fstat(2) of a file unlinked while open comes without a handle
            NodeFiles files = nodeFiles;
            fh = files != null ? files.any(node) : nodes.anyHandle(node);
            Stat gone = fh < 0 && files != null ? files.goneLowerStat(node) : null;
            if (gone != null) {
                return gone;
            }
            if (fh < 0) {
                throw new SysException(Errno.ENOENT, "node " + node + " has no name left");
            }
        }
        Stat st = fs.fgetattr(fh);
        // a lower file keeps its link in the lower layer; in the union its last name is gone
        return nodes.gone(node) && st.nlink > 0 ? st.withNlink(0) : st;
    }

    private int getattr(Buffers b, long node) throws SysException {
        ByteBuffer in = b.in;
        long fh = (in.getInt(IN_HEADER) & GETATTR_FH) != 0 && nodeFiles == null ? in.getLong(IN_HEADER + 8) : -1;
        return attrOut(b.out, attributes(node, fh));
    }

    private int attrOut(ByteBuffer out, Stat st) {
        out.putLong(OUT_HEADER, attrValid / NANOS);
        out.putInt(OUT_HEADER + 8, (int) (attrValid % NANOS));
        out.putInt(OUT_HEADER + 12, 0);
        attr(out, OUT_HEADER + 16, st);
        return ATTR_OUT;
    }

    /** fuse_setattr_in: each valid bit is one engine change, in the order chown, chmod, size, times. */
    private int setattr(Buffers b, long node) throws SysException {
        ByteBuffer in = b.in;
        int at = IN_HEADER;
        int valid = in.getInt(at);
        NodeFiles files = nodeFiles;
        if (files == null) {
            return setattr(b, node, valid, (valid & FATTR_FH) != 0 ? in.getLong(at + 8) : -1);
        }
        if (!nodes.gone(node)) {
            return setattr(b, node, valid, -1); // through the path, which names the same file
        }
        NodeFiles.File f = files.acquire(node); // no name left: through its descriptor
        try {
            long fh;
            if ((valid & (FATTR_SIZE | FATTR_KILL_SUIDGID | FATTR_FH)) != 0) {
                // a truncate, or a change the kernel makes for a file open for writing (FATTR_FH:
                // its handle is 0 here): the write cache's times after the unlink, which an error
                // would leave in the file for its next fsync to report
                fh = files.forWriting(f);
            } else {
                // times (a chmod or chown needs a name) with no writer: the write cache's own ctime,
                // written back right after an unlink (rm -rf). Through a descriptor that wrote the
                // file; else left as they are, since a lower file's descriptor would change the
                // lower layer, and the file has no name to show them under
                fh = files.writing(f);
                if (fh < 0) {
                    return attrOut(b.out, attributes(node, -1));
                }
            }
            return setattr(b, node, valid, fh);
        } finally {
            files.release(f);
        }
    }

    private int setattr(Buffers b, long node, int valid, long fh) throws SysException {
        ByteBuffer in = b.in;
        int at = IN_HEADER;
        if ((valid & (FATTR_UID | FATTR_GID)) != 0) {
            fs.chown(path(node), (valid & FATTR_UID) != 0 ? in.getInt(at + 76) : -1,
                    (valid & FATTR_GID) != 0 ? in.getInt(at + 80) : -1);
        }
        if ((valid & FATTR_MODE) != 0) {
            fs.chmod(path(node), in.getInt(at + 68));
        }
        if ((valid & FATTR_SIZE) != 0) {
            long size = in.getLong(at + 16);
            if (fh >= 0) {
                fs.ftruncate(fh, size);
            } else {
                fs.truncate(path(node), size);
            }
        }
        // The kernel marks a chown too, but the chown above cleared the bits already, in the
        // layer's file system, as it does for anyone. chown(f, -1, -1) arrives as a change of
        // ctime alone (under the write cache): the kernel strips the mode it would clear and, with
        // no uid or gid, marks nothing; no other change of a file's attributes is ctime alone
        // (the write cache's own times carry mtime too).
        boolean chowned = (valid & (FATTR_UID | FATTR_GID)) != 0;
        boolean chownOfNothing = (valid & ~(FATTR_FH | FATTR_LOCKOWNER)) == FATTR_CTIME;
        if (((valid & FATTR_KILL_SUIDGID) != 0 && !chowned) || chownOfNothing) {
            if (fh >= 0) {
                fs.killSetIdBits(fh);
            } else {
                fs.killSetIdBits(path(node));
            }
        }
        if ((valid & (FATTR_ATIME | FATTR_MTIME)) != 0) {
            long aSec = in.getLong(at + 32);
            long mSec = in.getLong(at + 40);
            long aNsec = (valid & FATTR_ATIME) == 0 ? Sys.UTIME_OMIT
                    : (valid & FATTR_ATIME_NOW) != 0 ? Sys.UTIME_NOW : in.getInt(at + 56) & 0xffffffffL;
            long mNsec = (valid & FATTR_MTIME) == 0 ? Sys.UTIME_OMIT
                    : (valid & FATTR_MTIME_NOW) != 0 ? Sys.UTIME_NOW : in.getInt(at + 60) & 0xffffffffL;
            if (fh >= 0) {
                // the write cache's own mtime, written back with the handle of a writer (an upper
                // file, maybe unlinked by now), or a truncate's
                fs.futimens(fh, aSec, aNsec, mSec, mNsec);
            } else {
                fs.utimens(path(node), aSec, aNsec, mSec, mNsec);
            }
        }
        return attrOut(b.out, attributes(node, fh));
    }

    private int readlink(Buffers b, long node) throws SysException {
        byte[] target = fs.readlink(path(node)).getBytes(StandardCharsets.UTF_8);
        b.out.put(OUT_HEADER, target);
        return target.length;
    }

    // ---- making and removing names --------------------------------------------------------------

    private Caller caller(ByteBuffer in) {
        return new Caller(in.getInt(24), in.getInt(28));
    }

    private int symlink(Buffers b, long parent) throws SysException {
        String name = b.string(IN_HEADER);
        String target = b.string(b.end);
        String path = childPath(parent, name);
        fs.symlink(target, path, caller(b.in));
        return newEntry(b, parent, name, path);
    }

    private int mknod(Buffers b, long parent) throws SysException {
        ByteBuffer in = b.in;
        String name = b.string(IN_HEADER + 16);
        String path = childPath(parent, name);
        fs.mknod(path, in.getInt(IN_HEADER), in.getInt(IN_HEADER + 4) & 0xffffffffL, caller(in));
        return newEntry(b, parent, name, path);
    }

    private int mkdir(Buffers b, long parent) throws SysException {
        ByteBuffer in = b.in;
        String name = b.string(IN_HEADER + 8);
        String path = childPath(parent, name);
        fs.mkdir(path, in.getInt(IN_HEADER), caller(in));
        return newEntry(b, parent, name, path);
    }

    private int create(Buffers b, long parent) throws SysException {
        ByteBuffer in = b.in;
        NodeFiles files = nodeFiles;
        int flags = writeFlags(in.getInt(IN_HEADER));
        if (files != null) { // the node's descriptor for any reads and writes to come
            flags = (flags & ~(Sys.O_ACCMODE | Sys.O_APPEND)) | Sys.O_RDWR;
        }
        int mode = in.getInt(IN_HEADER + 4);
        String name = b.string(IN_HEADER + 16);
        String path = childPath(parent, name);
        long fh = fs.create(path, mode, flags, caller(in));
        try {
            if ((in.getInt(IN_HEADER + 12) & OPEN_KILL_SUIDGID) != 0) {
                fs.killSetIdBits(fh); // the entry below carries the new mode
            }
            Stat st = fs.fgetattr(fh); // the new file's own descriptor: no second lookup of the path
            long id = nodes.looked(parent, name, st.ino);
            int n = entry(b.out, OUT_HEADER, id, st);
            if (files != null) {
                files.created(id, fh);
                openOut(b.out, OUT_HEADER + n, 0, FOPEN_KEEP_CACHE);
            } else {
                nodes.opened(id, fh);
                openOut(b.out, OUT_HEADER + n, fh, FOPEN_KEEP_CACHE);
            }
            return n + 16;
        } catch (SysException | RuntimeException e) {
            fs.release(fh);
            throw e;
        }
    }

    private int link(Buffers b, long parent) throws SysException {
        long source = b.in.getLong(IN_HEADER);
        String name = b.string(IN_HEADER + 8);
        String path = childPath(parent, name);
        fs.link(path(source), path);
        return newEntry(b, parent, name, path);
    }

    /** Whether removing a name of this object removes the object (its number may then come back). */
    private static boolean lastName(Stat st) {
        return st.nlink <= 1 || st.isDirectory();
    }

    private int remove(long parent, String name, boolean dir) throws SysException {
        String path = childPath(parent, name);
        Stat st = fs.getattr(path);
        NodeFiles.File kept = keepReachable(parent, name, path, st);
        try {
            if (dir) {
                fs.rmdir(path);
            } else {
                fs.unlink(path);
            }
        } catch (SysException | RuntimeException e) {
            if (kept != null) {
                nodeFiles.kept(kept);
            }
            throw e;
        }
        nodes.removed(parent, name, lastName(st));
        if (kept != null) {
            nodeFiles.removed(kept);
        }
        return 0;
    }

    /**
     * Before the last name of a regular file the kernel knows goes (unlink, or a rename over it),
     * and when the kernel sends no OPEN: gives its node a descriptor that outlives the name, since
     * the file may be open (see {@link NodeFiles}). Null when there is nothing to keep; else pass
     * it to {@link NodeFiles#removed} or {@link NodeFiles#kept}.
     */
    private NodeFiles.File keepReachable(long parent, String name, String path, Stat st) throws SysException {
        NodeFiles files = nodeFiles;
        if (files == null || !st.isRegular() || !lastName(st)) {
            return null;
        }
        long id = nodes.at(parent, name);
        return id == 0 ? null : files.keepReachable(id, path, st);
    }

    private int rename(Buffers b, long parent, long newParent, int flags, int namesAt) throws SysException {
        if ((flags & ~RENAME_NOREPLACE) != 0) {
            return -Errno.EINVAL; // RENAME_EXCHANGE, RENAME_WHITEOUT: the engine has neither
        }
        String name = b.string(namesAt);
        String newName = b.string(b.end);
        String from = childPath(parent, name);
        String to = childPath(newParent, newName);
        Stat target = statOrNull(to);
        if (target != null && (flags & RENAME_NOREPLACE) != 0) {
            return -Errno.EEXIST; // the kernel holds both directories locked: nothing comes between
        }
        if (target != null && fs.getattr(from).ino == target.ino && !target.isDirectory()) {
            return 0; // two names of one file: rename(2) does nothing
        }
        NodeFiles.File kept = target == null ? null : keepReachable(newParent, newName, to, target);
        try {
            fs.rename(from, to);
        } catch (SysException | RuntimeException e) {
            if (kept != null) {
                nodeFiles.kept(kept);
            }
            throw e;
        }
        if (target != null) {
            nodes.removed(newParent, newName, lastName(target));
            if (kept != null) {
                nodeFiles.removed(kept);
            }
        }
        nodes.renamed(parent, name, newParent, newName);
        return 0;
    }

    private Stat statOrNull(String path) throws SysException {
        try {
            return fs.getattr(path);
        } catch (SysException e) {
            if (e.errno() == Errno.ENOENT) {
                return null;
            }
            throw e;
        }
    }

    // ---- files ----------------------------------------------------------------------------------

    /**
     * FOPEN_KEEP_CACHE: the page cache of a file stays valid across opens, because its data changes
     * only through this node (hard links included), and copy-up copies the same bytes.
     */
    private int open(Buffers b, long node) throws SysException {
        if (nodeFiles != null) {
            return -Errno.ENOSYS; // the first OPEN, and the last: see NodeFiles
        }
        long fh = fs.open(path(node), writeFlags(b.in.getInt(IN_HEADER)));
        if ((b.in.getInt(IN_HEADER + 4) & OPEN_KILL_SUIDGID) != 0) {
            try {
                if (fs.killSetIdBits(fh)) {
                    // the kernel keeps the mode it had: an O_TRUNC open invalidates only the
                    // size and times, which it keeps itself under the write cache
                    attributesChanged.accept(node);
                }
            } catch (SysException e) {
                fs.release(fh);
                throw e;
            }
        }
        nodes.opened(node, fh);
        return openOut(b.out, OUT_HEADER, fh, FOPEN_KEEP_CACHE);
    }

    /**
     * The open flags for the layer file: as asked, except under the writeback cache, where a
     * write-only open becomes read-write (the kernel reads around partial pages through it) and
     * O_APPEND goes (the kernel writes at the end it knows; the layer file's own end can lag behind
     * while pages are cached, and pwrite(2) on an O_APPEND descriptor ignores its offset).
     */
    private int writeFlags(int flags) {
        if (!writeback) {
            return flags;
        }
        if ((flags & Sys.O_ACCMODE) == Sys.O_WRONLY) {
            flags = (flags & ~Sys.O_ACCMODE) | Sys.O_RDWR;
        }
        return flags & ~Sys.O_APPEND;
    }

    private static int openOut(ByteBuffer out, int at, long fh, int openFlags) {
        out.putLong(at, fh);
        out.putInt(at + 8, openFlags);
        out.putInt(at + 12, 0);
        return 16;
    }

    // Requests on an open file name it by the handle an OPEN or CREATE gave, or, without OPEN
    // (see NodeFiles), by the node alone: each such request pins the node's layer files.

    /** The node's layer files, pinned for this request; null when the kernel names files by handle. */
    private NodeFiles.File pin(long node) {
        NodeFiles files = nodeFiles;
        return files == null ? null : files.acquire(node);
    }

    private void unpin(NodeFiles.File f) {
        if (f != null) {
            nodeFiles.release(f);
        }
    }

    /** The file handle to read through: the request's (fh, the first field), or the pinned node's. */
    private long readHandle(Buffers b, NodeFiles.File f) throws SysException {
        return f == null ? b.in.getLong(IN_HEADER) : nodeFiles.forReading(f);
    }

    /** The file handle to write through: the request's, or the pinned node's (a copy-up first). */
    private long writeHandle(Buffers b, NodeFiles.File f) throws SysException {
        return f == null ? b.in.getLong(IN_HEADER) : nodeFiles.forWriting(f);
    }

    /** pread straight into the reply buffer; short only at end of file, as FUSE expects. */
    private int read(Buffers b, long node) throws SysException {
        NodeFiles.File f = pin(node);
        try {
            long fh = readHandle(b, f);
            ByteBuffer in = b.in;
            long offset = in.getLong(IN_HEADER + 8);
            int size = Math.min(in.getInt(IN_HEADER + 16), OUT_BUFFER - OUT_HEADER);
            long address = b.outAddress + OUT_HEADER;
            int done = 0;
            while (done < size) {
                int n = fs.read(fh, address + done, size - done, offset + done);
                if (n == 0) {
                    break;
                }
                done += n;
            }
            return done;
        } finally {
            unpin(f);
        }
    }

    /**
     * SEEK_DATA and SEEK_HOLE (the only whences the kernel sends) answered by lseek(2) of the open
     * layer file, so holes of sparse files show through the mount; ENXIO past the last data.
     */
    private int lseek(Buffers b, long node) throws SysException {
        ByteBuffer in = b.in;
        long pos;
        NodeFiles.File f = pin(node);
        try {
            pos = fs.lseek(readHandle(b, f), in.getLong(IN_HEADER + 8), in.getInt(IN_HEADER + 16));
        } finally {
            unpin(f);
        }
        if (pos < 0) {
            return -Errno.ENXIO;
        }
        b.out.putLong(OUT_HEADER, pos);
        return 8;
    }

    /** pwrite straight from the request buffer (the data follows the 40-byte fuse_write_in). */
    private int write(Buffers b, long node) throws SysException {
        NodeFiles.File f = pin(node);
        try {
            long fh = writeHandle(b, f);
            ByteBuffer in = b.in;
            long offset = in.getLong(IN_HEADER + 8);
            int size = in.getInt(IN_HEADER + 16);
            long address = b.inAddress + IN_HEADER + 40;
            if ((in.getInt(IN_HEADER + 20) & WRITE_KILL_SUIDGID) != 0 && fs.killSetIdBits(fh)) {
                // first, as the VFS does: a failed write has still cleared them
                attributesChanged.accept(node);
            }
            int done = 0;
            while (done < size) {
                done += fs.write(fh, address + done, size - done, offset + done);
            }
            b.out.putInt(OUT_HEADER, done);
            b.out.putInt(OUT_HEADER + 4, 0);
            return 8;
        } finally {
            unpin(f);
        }
    }

    /**
     * fsync(2) of the file's handle. Without OPEN, of any descriptor the node has, or of its file
     * opened again (its pages may have been written back through one since closed): fsync(2) of
     * any descriptor of a file writes its dirty pages.
     */
    private int fsync(Buffers b, long node) throws SysException {
        NodeFiles.File f = pin(node);
        try {
            fs.fsync(readHandle(b, f), (b.in.getInt(IN_HEADER + 8) & 1) != 0);
        } finally {
            unpin(f);
        }
        return 0;
    }

    private int fallocate(Buffers b, long node) throws SysException {
        ByteBuffer in = b.in;
        NodeFiles.File f = pin(node);
        try {
            fs.fallocate(writeHandle(b, f), in.getInt(IN_HEADER + 24), in.getLong(IN_HEADER + 8),
                    in.getLong(IN_HEADER + 16));
        } finally {
            unpin(f);
        }
        return 0;
    }

    private int statfs(Buffers b) throws SysException {
        long[] v = fs.statfs();
        ByteBuffer out = b.out;
        int at = OUT_HEADER;
        out.putLong(at, v[2]);
        out.putLong(at + 8, v[3]);
        out.putLong(at + 16, v[4]);
        out.putLong(at + 24, v[5]);
        out.putLong(at + 32, v[6]);
        out.putInt(at + 40, (int) v[0]);
        out.putInt(at + 44, (int) v[10]);
        out.putInt(at + 48, (int) v[1]);
        for (int i = 52; i < 80; i += 4) {
            out.putInt(at + i, 0);
        }
        return 80;
    }

    // ---- xattrs ---------------------------------------------------------------------------------

    /** fuse_setxattr_in is the 8-byte compat form: we do not ask for FUSE_SETXATTR_EXT. */
    private int setxattr(Buffers b, long node) throws SysException {
        ByteBuffer in = b.in;
        int size = in.getInt(IN_HEADER);
        int flags = in.getInt(IN_HEADER + 4);
        String name = b.string(IN_HEADER + 8);
        byte[] value = new byte[size];
        in.get(b.end, value, 0, size);
        try {
            fs.setxattr(path(node), name, value, flags);
        } finally {
            nodes.xattrsChanged(node);
        }
        return 0;
    }

    private int getxattr(Buffers b, long node) throws SysException {
        int size = b.in.getInt(IN_HEADER);
        String name = b.string(IN_HEADER + 8);
        long stamp = nodes.xattrStampUnlessAbsent(node, name);
        if (stamp == DevFuseNodes.KNOWN_ABSENT) {
            return -Errno.ENODATA;
        }
        byte[] value;
        try {
            value = fs.getxattr(path(node), name);
        } catch (SysException e) {
            if (e.errno() == Errno.ENODATA) {
                nodes.absent(node, name, stamp);
            }
            throw e;
        }
        return sized(b.out, value, size);
    }

    private int listxattr(Buffers b, long node) throws SysException {
        int size = b.in.getInt(IN_HEADER);
        List<String> names = fs.listxattr(path(node));
        java.io.ByteArrayOutputStream list = new java.io.ByteArrayOutputStream();
        for (String n : names) {
            list.writeBytes(n.getBytes(StandardCharsets.UTF_8));
            list.write(0);
        }
        return sized(b.out, list.toByteArray(), size);
    }

    /** The size-probe protocol of getxattr/listxattr: size 0 asks for the length (fuse_getxattr_out). */
    private static int sized(ByteBuffer out, byte[] value, int size) {
        if (size == 0) {
            out.putInt(OUT_HEADER, value.length);
            out.putInt(OUT_HEADER + 4, 0);
            return 8;
        }
        if (size < value.length) {
            return -Errno.ERANGE;
        }
        out.put(OUT_HEADER, value);
        return value.length;
    }

    // ---- directories ----------------------------------------------------------------------------

    /**
     * FOPEN_CACHE_DIR | FOPEN_KEEP_CACHE: the kernel keeps the listing in its page cache and serves
     * later opens from it; a change of the directory made through the kernel (every change is)
     * drops that cache, as for libfuse's passthrough_hp with a timeout.
     */
    private int opendir(Buffers b, long node) throws SysException {
        return openOut(b.out, OUT_HEADER, fs.opendir(path(node)), FOPEN_CACHE_DIR | FOPEN_KEEP_CACHE);
    }

    /**
     * READDIR and READDIRPLUS from the listing taken at the first of them: offset 0 is the start, "." is
     * followed by offset 1, ".." by 2, the i-th name by i + 3. READDIRPLUS gives each name its
     * node and attributes too (one lookup more each; none for "." and "..", which the kernel skips).
     */
    private int readdir(Buffers b, long node, boolean plus) throws SysException {
        ByteBuffer in = b.in;
        ByteBuffer out = b.out;
        long fh = in.getLong(IN_HEADER);
        long offset = in.getLong(IN_HEADER + 8);
        int limit = OUT_HEADER + Math.min(in.getInt(IN_HEADER + 16), OUT_BUFFER - OUT_HEADER);
        // the path only where needed: READDIRPLUS looks each name up, READDIR only takes the listing once
        String dirPath = plus ? path(node) : null;
        List<DirItem> items = plus ? fs.readdir(fh, dirPath) : fs.readdir(fh, () -> path(node));
        int at = OUT_HEADER;
        for (long i = Math.max(0, offset); i < items.size() + 2L; i++) {
            String name;
            int type;
            long ino;
            if (i < 2) {
                name = i == 0 ? "." : "..";
                type = Stat.S_IFDIR;
                ino = 1; // the kernel passes it on; glibc hides entries with d_ino 0
            } else {
                DirItem item = items.get((int) (i - 2));
                name = item.name;
                type = item.type;
                ino = item.ino;
            }
            byte[] raw = name.getBytes(StandardCharsets.UTF_8);
            int size = align8(24 + raw.length) + (plus ? ENTRY_OUT : 0);
            if (at + size > limit) {
                break;
            }
            if (plus) {
                Stat st = i < 2 ? null : childStat(dirPath, name);
                if (st == null) {
                    for (int z = 0; z < ENTRY_OUT; z += 8) {
                        out.putLong(at + z, 0); // node id 0: a name only, nothing to look up
                    }
                } else {
                    entry(out, at, nodes.looked(node, name, st.ino), st);
                    type = st.type();
                    ino = st.ino;
                }
                at += ENTRY_OUT;
            }
            out.putLong(at, ino);
            out.putLong(at + 8, i + 1);
            out.putInt(at + 16, raw.length);
            out.putInt(at + 20, type >>> 12);
            out.put(at + 24, raw);
            for (int p = at + 24 + raw.length; p < at + align8(24 + raw.length); p++) {
                out.put(p, (byte) 0);
            }
            at += align8(24 + raw.length);
        }
        return at - OUT_HEADER;
    }

    /** The attributes of a listed name, or null if it went since the listing was taken. */
    private Stat childStat(String dirPath, String name) throws SysException {
        return statOrNull("/".equals(dirPath) ? "/" + name : dirPath + "/" + name);
    }

    private static int align8(int n) {
        return (n + 7) & ~7;
    }

    // ---- INIT -----------------------------------------------------------------------------------

    /**
     * Protocol 7.x with x = min(kernel, 38) (we need 7.23+: the struct sizes below); asks for the
     * {@link #WANTED} flags the kernel offers, 1 MiB reads (max_pages 256), 256 KiB writes, 1 ns time granularity.
     */
    private int init(Buffers b) {
        ByteBuffer in = b.in;
        ByteBuffer out = b.out;
        int major = in.getInt(IN_HEADER);
        int minor = in.getInt(IN_HEADER + 4);
        int maxReadahead = in.getInt(IN_HEADER + 8);
        int offered = in.getInt(IN_HEADER + 12);
        if (major > 7) {
            // the kernel retries INIT with the major version we answer
            out.putInt(OUT_HEADER, 7);
            out.putInt(OUT_HEADER + 4, OUR_MINOR);
            return 8;
        }
        if (major < 7 || minor < MIN_MINOR) {
            return -EPROTO;
        }
        int at = OUT_HEADER;
        for (int i = 0; i < 64; i += 8) {
            out.putLong(at + i, 0);
        }
        out.putInt(at, 7);
        out.putInt(at + 4, Math.min(minor, OUR_MINOR));
        out.putInt(at + 8, maxReadahead);
        boolean noOpen = noOpenWanted && (offered & NO_OPEN_SUPPORT) != 0;
        // without OPEN, an O_TRUNC open must come as a SETATTR: an atomic one would be lost
        int flags = (WANTED | (writebackWanted ? WRITEBACK_CACHE : 0)) & offered & (noOpen ? ~ATOMIC_O_TRUNC : ~0);
        writeback = (flags & WRITEBACK_CACHE) != 0;
        if (noOpen) {
            nodeFiles = new NodeFiles(fs, openFiles, nodes::path);
        }
        out.putInt(at + 12, flags);
        out.putShort(at + 16, (short) 16); // max_background: readahead and async direct I/O in flight
        out.putShort(at + 18, (short) 12); // congestion_threshold
        out.putInt(at + 20, MAX_WRITE);
        out.putInt(at + 24, 1); // time_gran: nanoseconds
        out.putShort(at + 28, (short) MAX_PAGES_WANTED);
        return 64;
    }

    /** Called once the INIT reply is written: the mount is usable. */
    void initialized() {
        onInit.run();
    }

    // ---- structs --------------------------------------------------------------------------------

    private int entry(ByteBuffer out, int at, long nodeId, Stat st) {
        out.putLong(at, nodeId);
        out.putLong(at + 8, 0); // generation: node ids are never reused
        out.putLong(at + 16, entryValid / NANOS);
        out.putLong(at + 24, attrValid / NANOS);
        out.putInt(at + 32, (int) (entryValid % NANOS));
        out.putInt(at + 36, (int) (attrValid % NANOS));
        attr(out, at + 40, st);
        return ENTRY_OUT;
    }

    /** struct fuse_attr (88 bytes). */
    private static void attr(ByteBuffer out, int at, Stat st) {
        out.putLong(at, st.ino);
        out.putLong(at + 8, st.size);
        out.putLong(at + 16, st.blocks);
        out.putLong(at + 24, st.atimeSec);
        out.putLong(at + 32, st.mtimeSec);
        out.putLong(at + 40, st.ctimeSec);
        out.putInt(at + 48, (int) st.atimeNsec);
        out.putInt(at + 52, (int) st.mtimeNsec);
        out.putInt(at + 56, (int) st.ctimeNsec);
        out.putInt(at + 60, st.mode);
        out.putInt(at + 64, (int) st.nlink);
        out.putInt(at + 68, st.uid);
        out.putInt(at + 72, st.gid);
        out.putInt(at + 76, (int) st.rdev);
        out.putInt(at + 80, (int) st.blksize);
        out.putInt(at + 84, 0);
    }

    static String opName(int opcode) {
        switch (opcode) {
            case LOOKUP: return "lookup";
            case GETATTR: return "getattr";
            case SETATTR: return "setattr";
            case READLINK: return "readlink";
            case SYMLINK: return "symlink";
            case MKNOD: return "mknod";
            case MKDIR: return "mkdir";
            case UNLINK: return "unlink";
            case RMDIR: return "rmdir";
            case RENAME: return "rename";
            case RENAME2: return "rename2";
            case LINK: return "link";
            case OPEN: return "open";
            case READ: return "read";
            case WRITE: return "write";
            case STATFS: return "statfs";
            case RELEASE: return "release";
            case FSYNC: return "fsync";
            case SETXATTR: return "setxattr";
            case GETXATTR: return "getxattr";
            case LISTXATTR: return "listxattr";
            case REMOVEXATTR: return "removexattr";
            case INIT: return "init";
            case OPENDIR: return "opendir";
            case READDIR: return "readdir";
            case READDIRPLUS: return "readdirplus";
            case RELEASEDIR: return "releasedir";
            case ACCESS: return "access";
            case CREATE: return "create";
            case FALLOCATE: return "fallocate";
            case FORGET: return "forget";
            case BATCH_FORGET: return "batch_forget";
            case FLUSH: return "flush";
            case FSYNCDIR: return "fsyncdir";
            case INTERRUPT: return "interrupt";
            case DESTROY: return "destroy";
            case LSEEK: return "lseek";
            default: return "opcode " + opcode;
        }
    }
}
