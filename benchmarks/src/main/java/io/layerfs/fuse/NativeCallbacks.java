package io.layerfs.fuse;

import java.lang.reflect.Field;
import java.nio.charset.StandardCharsets;

import com.kenai.jffi.CallContext;
import com.kenai.jffi.CallingConvention;
import com.kenai.jffi.Invoker;
import com.kenai.jffi.Library;
import com.kenai.jffi.Type;

import jnr.ffi.Memory;
import jnr.ffi.Pointer;
import jnr.ffi.Runtime;
import jnr.ffi.Struct;
import ru.serce.jnrfuse.AbstractFuseFS;
import ru.serce.jnrfuse.struct.FuseOperations;

/**
 * Calls a {@link FuseAdapter}'s callbacks the way libfuse does, without a mount: through the native
 * function pointers jnr-fuse puts in its {@code struct fuse_operations}, with C strings and native
 * buffers as arguments. So a call pays what a mounted call pays in the binding (the native-to-Java
 * upcall, decoding the path, wrapping the stat and file-info structs, the adapter, errno mapping,
 * and for readdir one Java-to-native call per name) and nothing of libfuse or the kernel.
 *
 * <p>The readdir filler is libc's {@code ffs(int)}, called with a NULL buffer: it returns 0 (go
 * on) and does nothing, where libfuse's fill_dir would copy the name into the reply. It stands in
 * for the cost of the call itself.
 */
final class NativeCallbacks {
    private static final Invoker INVOKER = Invoker.getInstance();
    private static final CallContext TWO_POINTERS = context(2);
    private static final CallContext FIVE_ARGS = context(5);

    private final long getattr;
    private final long read;
    private final long write;
    private final long readdir;
    /** A native no-op standing in for libfuse's fill_dir (see class comment). */
    final long filler;

    NativeCallbacks(FuseAdapter adapter) {
        FuseOperations ops = operations(adapter);
        Pointer table = Struct.getMemory(ops);
        getattr = table.getAddress(ops.getattr.offset());
        read = table.getAddress(ops.read.offset());
        write = table.getAddress(ops.write.offset());
        readdir = table.getAddress(ops.readdir.offset());
        filler = Library.getDefault().getSymbolAddress("ffs");
        if (getattr == 0 || read == 0 || write == 0 || readdir == 0 || filler == 0) {
            throw new IllegalStateException("a callback or the filler has no native address");
        }
    }

    private static CallContext context(int args) {
        Type[] params = new Type[args];
        java.util.Arrays.fill(params, Type.POINTER);
        return CallContext.getCallContext(Type.SINT, params, CallingConvention.DEFAULT, false);
    }

    private static FuseOperations operations(FuseAdapter adapter) {
        try {
            // protected in jnr-fuse's AbstractFuseFS; this class is not a subclass
            Field f = AbstractFuseFS.class.getDeclaredField("fuseOperations");
            f.setAccessible(true);
            return (FuseOperations) f.get(adapter);
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException("jnr-fuse has no AbstractFuseFS.fuseOperations field", e);
        }
    }

    /** A NUL-terminated copy of s in native memory; keep the Pointer reachable while its address is used. */
    static Pointer cString(String s) {
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        Pointer p = Memory.allocateDirect(Runtime.getSystemRuntime(), b.length + 1, true);
        p.put(0, b, 0, b.length);
        p.putByte(b.length, (byte) 0);
        return p;
    }

    int getattr(long path, long stat) {
        return (int) INVOKER.invokeN2(TWO_POINTERS, getattr, path, stat);
    }

    int read(long path, long buf, long size, long offset, long fileInfo) {
        return (int) INVOKER.invokeN5(FIVE_ARGS, read, path, buf, size, offset, fileInfo);
    }

    int write(long path, long buf, long size, long offset, long fileInfo) {
        return (int) INVOKER.invokeN5(FIVE_ARGS, write, path, buf, size, offset, fileInfo);
    }

    int readdir(long path, long buf, long fillerFunction, long offset, long fileInfo) {
        return (int) INVOKER.invokeN5(FIVE_ARGS, readdir, path, buf, fillerFunction, offset, fileInfo);
    }
}
