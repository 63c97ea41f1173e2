package io.layerfs.fuse;

import java.nio.charset.StandardCharsets;
import java.util.List;

import io.layerfs.sys.Errno;
import io.layerfs.sys.Stat;
import io.layerfs.sys.SysException;
import io.layerfs.union.Caller;
import io.layerfs.union.DirItem;
import io.layerfs.union.UnionFs;
import jnr.ffi.Memory;
import jnr.ffi.Pointer;
import jnr.ffi.Runtime;
import jnr.ffi.types.dev_t;
import jnr.ffi.types.gid_t;
import jnr.ffi.types.mode_t;
import jnr.ffi.types.off_t;
import jnr.ffi.types.size_t;
import jnr.ffi.types.uid_t;
import ru.serce.jnrfuse.FuseFillDir;
import ru.serce.jnrfuse.FuseStubFS;
import ru.serce.jnrfuse.struct.FileStat;
import ru.serce.jnrfuse.struct.FuseFileInfo;
import ru.serce.jnrfuse.struct.Statvfs;
import ru.serce.jnrfuse.struct.Timespec;

/**
 * The jnr-fuse binding of {@link UnionFs}: translates libfuse 2's high-level callbacks into engine
 * calls and nothing else. Every callback is guarded; failures become errno numbers in
 * {@link Errors#toErrno}. Data moves between the FUSE buffer and the layer file with pread/pwrite on
 * the buffer's address, without a Java copy.
 */
final class FuseAdapter extends FuseStubFS {
    private final UnionFs fs;
    private final Runnable onInit;
    private final ThreadLocal<FileStat> dirStat;

    FuseAdapter(UnionFs fs, Runnable onInit) {
        this.fs = fs;
        this.onInit = onInit;
        Runtime rt = Runtime.getSystemRuntime();
        this.dirStat = ThreadLocal.withInitial(() -> FileStat.of(Memory.allocateDirect(rt, 256)));
    }

    /** Runs libfuse's main loop on the calling thread until unmounted; returns its exit status. */
    int runLoop(String[] args) {
        setFlags();
        return libFuse.fuse_main_real(args.length, args, fuseOperations, jnr.ffi.Struct.size(fuseOperations), null);
    }

    /**
     * libfuse 2 reads these bits of fuse_operations (right after bmap): nullpath_ok lets operations
     * on open-but-unlinked files arrive without a path (we use the handle); utime_omit_ok passes
     * UTIME_NOW / UTIME_OMIT through unchanged.
     */
    private void setFlags() {
        Pointer ops = jnr.ffi.Struct.getMemory(fuseOperations);
        long flagsAt = fuseOperations.bmap.offset() + 8;
        ops.putInt(flagsAt, ops.getInt(flagsAt) | 1 | 4);
    }

    /**
     * Mounts with fuse_setup and serves with {@code threads} Java threads, each receiving and
     * processing requests itself (see {@link LibFuseLoop}). Returns when unmounted; 1 if the mount
     * could not be made.
     */
    int runJavaLoop(String[] args, int threads) throws InterruptedException {
        setFlags();
        LibFuseLoop lib = jnr.ffi.LibraryLoader.create(LibFuseLoop.class).failImmediately().load("libfuse.so.2");
        Runtime rt = Runtime.getRuntime(lib);
        jnr.ffi.byref.PointerByReference mountpoint = new jnr.ffi.byref.PointerByReference();
        jnr.ffi.byref.IntByReference multithreaded = new jnr.ffi.byref.IntByReference();
        Pointer fuse = lib.fuse_setup(args.length, args, jnr.ffi.Struct.getMemory(fuseOperations),
                jnr.ffi.Struct.size(fuseOperations), mountpoint, multithreaded, null);
        if (fuse == null) {
            return 1;
        }
        Pointer session = lib.fuse_get_session(fuse);
        Pointer chan = lib.fuse_session_next_chan(session, null);
        long bufsize = lib.fuse_chan_bufsize(chan);
        Thread[] workers = new Thread[threads];
        for (int i = 0; i < threads; i++) {
            workers[i] = new Thread(() -> serve(lib, rt, session, chan, bufsize), "layerfs-fuse-" + i);
            workers[i].setDaemon(true);
            workers[i].start();
        }
        for (Thread t : workers) {
            t.join();
        }
        lib.fuse_teardown(fuse, mountpoint.getValue());
        return 0;
    }

    /** One worker: receive a request, process it (our callbacks run on this thread), until the session ends. */
    private static void serve(LibFuseLoop lib, Runtime rt, Pointer session, Pointer chan, long bufsize) {
        // struct fuse_buf { size_t size; int flags; void *mem; int fd; off_t pos; } (x86_64: 40 bytes)
        Pointer buf = Memory.allocateDirect(rt, 40);
        Pointer data = Memory.allocateDirect(rt, bufsize);
        Pointer ch = Memory.allocateDirect(rt, 8);
        while (lib.fuse_session_exited(session) == 0) {
            buf.putLong(0, bufsize);
            buf.putInt(8, 0);
            buf.putPointer(16, data);
            buf.putInt(24, -1);
            buf.putLong(32, 0);
            ch.putPointer(0, chan);
            int res = lib.fuse_session_receive_buf(session, buf, ch);
            if (res == -4 /* EINTR */ || res == -11 /* EAGAIN */) {
                continue;
            }
            if (res <= 0) {
                break; // unmounted (ENODEV) or the connection ended
            }
            lib.fuse_session_process_buf(session, buf, ch.getPointer(0));
        }
    }

    private Caller caller() {
        var ctx = getContext();
        return new Caller((int) ctx.uid.get(), (int) ctx.gid.get());
    }

    private static void fill(FileStat s, Stat st) {
        s.st_ino.set(st.ino);
        s.st_mode.set(st.mode);
        s.st_nlink.set(st.nlink);
        s.st_uid.set(st.uid);
        s.st_gid.set(st.gid);
        s.st_rdev.set(st.rdev);
        s.st_size.set(st.size);
        s.st_blksize.set(st.blksize);
        s.st_blocks.set(st.blocks);
        s.st_atim.tv_sec.set(st.atimeSec);
        s.st_atim.tv_nsec.set(st.atimeNsec);
        s.st_mtim.tv_sec.set(st.mtimeSec);
        s.st_mtim.tv_nsec.set(st.mtimeNsec);
        s.st_ctim.tv_sec.set(st.ctimeSec);
        s.st_ctim.tv_nsec.set(st.ctimeNsec);
    }

    @Override
    public jnr.ffi.Pointer init(Pointer conn) {
        onInit.run();
        return null;
    }

    @Override
    public int getattr(String path, FileStat stat) {
        try {
            fill(stat, fs.getattr(path));
            return 0;
        } catch (Throwable t) {
            return Errors.toErrno(t, "getattr", path);
        }
    }

    @Override
    public int fgetattr(String path, FileStat stat, FuseFileInfo fi) {
        try {
            fill(stat, fs.fgetattr(fi.fh.get()));
            return 0;
        } catch (Throwable t) {
            return Errors.toErrno(t, "fgetattr", path);
        }
    }

    @Override
    public int readlink(String path, Pointer buf, @size_t long size) {
        try {
            byte[] target = fs.readlink(path).getBytes(StandardCharsets.UTF_8);
            int n = (int) Math.min(target.length, size - 1);
            buf.put(0, target, 0, n);
            buf.putByte(n, (byte) 0);
            return 0;
        } catch (Throwable t) {
            return Errors.toErrno(t, "readlink", path);
        }
    }

    @Override
    public int mknod(String path, @mode_t long mode, @dev_t long rdev) {
        try {
            fs.mknod(path, (int) mode, rdev, caller());
            return 0;
        } catch (Throwable t) {
            return Errors.toErrno(t, "mknod", path);
        }
    }

    @Override
    public int mkdir(String path, @mode_t long mode) {
        try {
            fs.mkdir(path, (int) mode, caller());
            return 0;
        } catch (Throwable t) {
            return Errors.toErrno(t, "mkdir", path);
        }
    }

    @Override
    public int unlink(String path) {
        try {
            fs.unlink(path);
            return 0;
        } catch (Throwable t) {
            return Errors.toErrno(t, "unlink", path);
        }
    }

    @Override
    public int rmdir(String path) {
        try {
            fs.rmdir(path);
            return 0;
        } catch (Throwable t) {
            return Errors.toErrno(t, "rmdir", path);
        }
    }

    @Override
    public int symlink(String oldpath, String newpath) {
        try {
            fs.symlink(oldpath, newpath, caller());
            return 0;
        } catch (Throwable t) {
            return Errors.toErrno(t, "symlink", newpath);
        }
    }

    @Override
    public int rename(String oldpath, String newpath) {
        try {
            fs.rename(oldpath, newpath);
            return 0;
        } catch (Throwable t) {
            return Errors.toErrno(t, "rename", oldpath);
        }
    }

    @Override
    public int link(String oldpath, String newpath) {
        try {
            fs.link(oldpath, newpath);
            return 0;
        } catch (Throwable t) {
            return Errors.toErrno(t, "link", newpath);
        }
    }

    @Override
    public int chmod(String path, @mode_t long mode) {
        try {
            fs.chmod(path, (int) mode);
            return 0;
        } catch (Throwable t) {
            return Errors.toErrno(t, "chmod", path);
        }
    }

    @Override
    public int chown(String path, @uid_t long uid, @gid_t long gid) {
        try {
            fs.chown(path, (int) uid, (int) gid);
            return 0;
        } catch (Throwable t) {
            return Errors.toErrno(t, "chown", path);
        }
    }

    @Override
    public int truncate(String path, @off_t long size) {
        try {
            fs.truncate(path, size);
            return 0;
        } catch (Throwable t) {
            return Errors.toErrno(t, "truncate", path);
        }
    }

    @Override
    public int ftruncate(String path, @off_t long size, FuseFileInfo fi) {
        try {
            fs.ftruncate(fi.fh.get(), size);
            return 0;
        } catch (Throwable t) {
            return Errors.toErrno(t, "ftruncate", path);
        }
    }

    /**
     * libfuse 2's high-level API gives each name of a hard-linked file its own kernel inode, each
     * with its own page cache and cached size; direct I/O keeps the data of such a file the same
     * through every name. (fuse_file_info: the direct_io bit is bit 0 of the word at offset 20.)
     */
    private void setDirectIo(FuseFileInfo fi, long fh) throws SysException {
        if (fs.sharedInode(fh)) {
            Pointer p = jnr.ffi.Struct.getMemory(fi);
            p.putInt(20, p.getInt(20) | 1);
        }
    }

    @Override
    public int open(String path, FuseFileInfo fi) {
        try {
            long fh = fs.open(path, fi.flags.get());
            fi.fh.set(fh);
            setDirectIo(fi, fh);
            return 0;
        } catch (Throwable t) {
            return Errors.toErrno(t, "open", path);
        }
    }

    @Override
    public int create(String path, @mode_t long mode, FuseFileInfo fi) {
        try {
            fi.fh.set(fs.create(path, (int) mode, fi.flags.get(), caller()));
            return 0;
        } catch (Throwable t) {
            return Errors.toErrno(t, "create", path);
        }
    }

    @Override
    public int read(String path, Pointer buf, @size_t long size, @off_t long offset, FuseFileInfo fi) {
        try {
            long fh = fi.fh.get();
            long address = buf.address();
            int done = 0;
            // pread may return short before end of file (signals, some filesystems); FUSE wants all
            while (done < size) {
                int n = fs.read(fh, address + done, (int) (size - done), offset + done);
                if (n == 0) {
                    break;
                }
                done += n;
            }
            return done;
        } catch (Throwable t) {
            return Errors.toErrno(t, "read", path);
        }
    }

    @Override
    public int write(String path, Pointer buf, @size_t long size, @off_t long offset, FuseFileInfo fi) {
        try {
            long fh = fi.fh.get();
            long address = buf.address();
            int done = 0;
            while (done < size) {
                done += fs.write(fh, address + done, (int) (size - done), offset + done);
            }
            return done;
        } catch (Throwable t) {
            return Errors.toErrno(t, "write", path);
        }
    }

    @Override
    public int statfs(String path, Statvfs st) {
        try {
            long[] v = fs.statfs();
            st.f_bsize.set(v[0]);
            st.f_frsize.set(v[1]);
            st.f_blocks.set(v[2]);
            st.f_bfree.set(v[3]);
            st.f_bavail.set(v[4]);
            st.f_files.set(v[5]);
            st.f_ffree.set(v[6]);
            st.f_favail.set(v[7]);
            st.f_namemax.set(v[10]);
            return 0;
        } catch (Throwable t) {
            return Errors.toErrno(t, "statfs", path);
        }
    }

    // No flush: layerfs has nothing to do at close(2) (writes reach the layer file at once, errors
    // are returned by write). Without the callback libfuse answers the first FLUSH with ENOSYS and
    // the kernel sends no more: `: > f` (open, dup2, two closes) went from six requests to four.

    @Override
    public int release(String path, FuseFileInfo fi) {
        try {
            fs.release(fi.fh.get());
            return 0;
        } catch (Throwable t) {
            return Errors.toErrno(t, "release", path);
        }
    }

    @Override
    public int fsync(String path, int isdatasync, FuseFileInfo fi) {
        try {
            fs.fsync(fi.fh.get(), isdatasync != 0);
            return 0;
        } catch (Throwable t) {
            return Errors.toErrno(t, "fsync", path);
        }
    }

    @Override
    public int fallocate(String path, int mode, @off_t long off, @off_t long length, FuseFileInfo fi) {
        try {
            fs.fallocate(fi.fh.get(), mode, off, length);
            return 0;
        } catch (Throwable t) {
            return Errors.toErrno(t, "fallocate", path);
        }
    }

    @Override
    public int setxattr(String path, String name, Pointer value, @size_t long size, int flags) {
        try {
            byte[] v = new byte[(int) size];
            value.get(0, v, 0, v.length);
            fs.setxattr(path, name, v, flags);
            return 0;
        } catch (Throwable t) {
            return Errors.toErrno(t, "setxattr", path);
        }
    }

    @Override
    public int getxattr(String path, String name, Pointer value, @size_t long size) {
        try {
            byte[] v = fs.getxattr(path, name);
            if (size == 0) {
                return v.length;
            }
            if (size < v.length) {
                return -Errno.ERANGE;
            }
            value.put(0, v, 0, v.length);
            return v.length;
        } catch (Throwable t) {
            return Errors.toErrno(t, "getxattr", path);
        }
    }

    @Override
    public int listxattr(String path, Pointer list, @size_t long size) {
        try {
            List<String> names = fs.listxattr(path);
            int total = 0;
            for (String n : names) {
                total += n.getBytes(StandardCharsets.UTF_8).length + 1;
            }
            if (size == 0) {
                return total;
            }
            if (size < total) {
                return -Errno.ERANGE;
            }
            long at = 0;
            for (String n : names) {
                byte[] b = n.getBytes(StandardCharsets.UTF_8);
                list.put(at, b, 0, b.length);
                list.putByte(at + b.length, (byte) 0);
                at += b.length + 1;
            }
            return total;
        } catch (Throwable t) {
            return Errors.toErrno(t, "listxattr", path);
        }
    }

    @Override
    public int removexattr(String path, String name) {
        try {
            fs.removexattr(path, name);
            return 0;
        } catch (Throwable t) {
            return Errors.toErrno(t, "removexattr", path);
        }
    }

    @Override
    public int opendir(String path, FuseFileInfo fi) {
        try {
            fi.fh.set(fs.opendir(path));
            return 0;
        } catch (Throwable t) {
            return Errors.toErrno(t, "opendir", path);
        }
    }

    /**
     * Offsets: "." is 1, ".." is 2, the i-th merged name is i + 3. The listing is the snapshot
     * taken at the first readdir, so offsets stay valid across calls.
     */
    @Override
    public int readdir(String path, Pointer buf, FuseFillDir filter, @off_t long offset, FuseFileInfo fi) {
        try {
            List<DirItem> items = fs.readdir(fi.fh.get(), path);
            FileStat st = dirStat.get();
            long next = offset;
            while (next < items.size() + 2) {
                String name;
                int type;
                long ino;
                if (next < 2) {
                    name = next == 0 ? "." : "..";
                    type = Stat.S_IFDIR;
                    ino = 1; // libfuse and the kernel ignore it; glibc hides entries with d_ino 0
                } else {
                    DirItem item = items.get((int) (next - 2));
                    name = item.name;
                    type = item.type;
                    ino = item.ino;
                }
                st.st_mode.set(type);
                st.st_ino.set(ino);
                byte[] raw = name.getBytes(StandardCharsets.UTF_8);
                byte[] cName = java.util.Arrays.copyOf(raw, raw.length + 1); // NUL-terminated for libfuse
                if (filter.apply(buf, java.nio.ByteBuffer.wrap(cName), jnr.ffi.Struct.getMemory(st),
                        next + 1) != 0) {
                    break;
                }
                next++;
            }
            return 0;
        } catch (Throwable t) {
            return Errors.toErrno(t, "readdir", path);
        }
    }

    @Override
    public int releasedir(String path, FuseFileInfo fi) {
        fs.releasedir(fi.fh.get());
        return 0;
    }

    @Override
    public int fsyncdir(String path, FuseFileInfo fi) {
        return 0;
    }

    @Override
    public int access(String path, int mask) {
        try {
            fs.access(path, mask);
            return 0;
        } catch (Throwable t) {
            return Errors.toErrno(t, "access", path);
        }
    }

    @Override
    public int utimens(String path, Timespec[] timespec) {
        try {
            fs.utimens(path, timespec[0].tv_sec.get(), timespec[0].tv_nsec.longValue(),
                    timespec[1].tv_sec.get(), timespec[1].tv_nsec.longValue());
            return 0;
        } catch (Throwable t) {
            return Errors.toErrno(t, "utimens", path);
        }
    }
}
