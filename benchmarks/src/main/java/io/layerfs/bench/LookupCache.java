package io.layerfs.bench;

import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.reflect.Field;
import java.lang.reflect.Method;

import io.layerfs.union.UnionFs;

/**
 * Forgets the engine's cached lookup of one path, so a benchmark can time the lookup through the
 * layers that a FUSE LOOKUP of a name not seen before costs. The engine has no public hook for
 * this (proposed: {@code UnionFs.forgetLookup(String)}), so it reaches the private resolver by
 * reflection; if the engine's internals change, benchmarks with {@code cache=cold} fail in their
 * setup with this class named, and the {@code cache=warm} ones keep working.
 */
public final class LookupCache {
    private final Object resolver;
    private final MethodHandle invalidate;

    private LookupCache(Object resolver, MethodHandle invalidate) {
        this.resolver = resolver;
        this.invalidate = invalidate;
    }

    public static LookupCache of(UnionFs fs) {
        try {
            Field f = UnionFs.class.getDeclaredField("resolver");
            f.setAccessible(true);
            Object resolver = f.get(fs);
            Method m = resolver.getClass().getDeclaredMethod("invalidate", String.class);
            m.setAccessible(true);
            return new LookupCache(resolver, MethodHandles.lookup().unreflect(m));
        } catch (ReflectiveOperationException | RuntimeException e) {
            throw new IllegalStateException("LookupCache: UnionFs has no private resolver.invalidate(String) any"
                    + " more; give the engine a public hook to forget a cached lookup", e);
        }
    }

    public void forget(String path) {
        try {
            invalidate.invoke(resolver, path);
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }
}
