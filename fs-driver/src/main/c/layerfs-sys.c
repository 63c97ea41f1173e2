/*
 * The system calls of io.layerfs.sys.Sys, as JNI functions of io.layerfs.sys.Native.
 *
 * Conventions, for every function here:
 * - a failure returns -errno (as the kernel does); success returns what the call returns;
 * - paths and names arrive as byte[] without a terminating NUL (Java encodes them, UTF-8); an
 *   embedded NUL is refused with -EINVAL rather than silently cutting the path short;
 * - nothing here throws a Java exception or keeps a JNI reference: arrays are copied in and out
 *   (GetByteArrayRegion / Set*ArrayRegion), never pinned across a system call that may block;
 * - native memory is passed as a plain address (a direct buffer's, see address()).
 *
 * Built by fs-driver's pom (exec-maven-plugin, cc) into the jar, next to Native.class.
 */
#define _GNU_SOURCE
#include <jni.h>

#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <dirent.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/xattr.h>

#define FN(name) Java_io_layerfs_sys_Native_##name

/* A call's result, or -errno where it failed (evaluates the call once). */
static inline long ret(long r) {
    return r < 0 ? -errno : r;
}

/* ---- C strings from byte[] ------------------------------------------------------------------ */

/* Paths up to this length are copied to the stack; longer ones (the kernel refuses them anyway,
 * except relative paths under a deep directory) go to the C heap. */
#define STACK_STR 1024

typedef struct {
    char *p;
    char stack[STACK_STR];
} cstr;

/* Copies a (non-null) byte[] to s->p with a NUL; 0, or -EINVAL (embedded NUL) / -ENOMEM. */
static int cstr_in(JNIEnv *env, jbyteArray a, cstr *s) {
    jsize n = (*env)->GetArrayLength(env, a);
    s->p = n < STACK_STR ? s->stack : malloc((size_t) n + 1);
    if (s->p == NULL) {
        return -ENOMEM;
    }
    (*env)->GetByteArrayRegion(env, a, 0, n, (jbyte *) s->p);
    s->p[n] = 0;
    if (memchr(s->p, 0, (size_t) n) != NULL) {
        if (s->p != s->stack) {
            free(s->p);
        }
        s->p = NULL;
        return -EINVAL;
    }
    return 0;
}

static void cstr_free(cstr *s) {
    if (s->p != NULL && s->p != s->stack) {
        free(s->p);
    }
}

/* Declares cstr NAME from byte[] ARR, or returns the error from the enclosing function. */
#define IN(name, arr)                        \
    cstr name;                               \
    do {                                     \
        int e_ = cstr_in(env, arr, &name);   \
        if (e_ != 0) {                       \
            return e_;                       \
        }                                    \
    } while (0)

/* Same, freeing an earlier cstr on failure. */
#define IN2(name, arr, earlier)              \
    cstr name;                               \
    do {                                     \
        int e_ = cstr_in(env, arr, &name);   \
        if (e_ != 0) {                       \
            cstr_free(&earlier);             \
            return e_;                       \
        }                                    \
    } while (0)

/* ---- stat --------------------------------------------------------------------------------- */

/* The 16 fields io.layerfs.sys.Stat is made of, in its constructor's order. */
static void stat_out(JNIEnv *env, const struct stat *st, jlongArray out) {
    jlong v[16] = {
        (jlong) st->st_dev, (jlong) st->st_ino, (jlong) st->st_nlink, (jlong) st->st_mode,
        (jlong) st->st_uid, (jlong) st->st_gid, (jlong) st->st_rdev, (jlong) st->st_size,
        (jlong) st->st_blksize, (jlong) st->st_blocks,
        (jlong) st->st_atim.tv_sec, (jlong) st->st_atim.tv_nsec,
        (jlong) st->st_mtim.tv_sec, (jlong) st->st_mtim.tv_nsec,
        (jlong) st->st_ctim.tv_sec, (jlong) st->st_ctim.tv_nsec,
    };
    (*env)->SetLongArrayRegion(env, out, 0, 16, v);
}

JNIEXPORT jint JNICALL FN(fstatat)(JNIEnv *env, jclass c, jint dirfd, jbyteArray path, jint flags, jlongArray out) {
    IN(p, path);
    struct stat st;
    int r = fstatat(dirfd, p.p, &st, flags);
    int e = errno;
    cstr_free(&p);
    if (r != 0) {
        return -e;
    }
    stat_out(env, &st, out);
    return 0;
}

JNIEXPORT jint JNICALL FN(fstat)(JNIEnv *env, jclass c, jint fd, jlongArray out) {
    struct stat st;
    if (fstat(fd, &st) != 0) {
        return -errno;
    }
    stat_out(env, &st, out);
    return 0;
}

JNIEXPORT jint JNICALL FN(fstatvfs)(JNIEnv *env, jclass c, jint fd, jlongArray out) {
    struct statvfs s;
    if (fstatvfs(fd, &s) != 0) {
        return -errno;
    }
    jlong v[11] = {
        (jlong) s.f_bsize, (jlong) s.f_frsize, (jlong) s.f_blocks, (jlong) s.f_bfree, (jlong) s.f_bavail,
        (jlong) s.f_files, (jlong) s.f_ffree, (jlong) s.f_favail, (jlong) s.f_fsid, (jlong) s.f_flag,
        (jlong) s.f_namemax,
    };
    (*env)->SetLongArrayRegion(env, out, 0, 11, v);
    return 0;
}

/* ---- files -------------------------------------------------------------------------------- */

JNIEXPORT jint JNICALL FN(openat)(JNIEnv *env, jclass c, jint dirfd, jbyteArray path, jint flags, jint mode) {
    IN(p, path);
    int r = openat(dirfd, p.p, flags, (mode_t) mode);
    r = ret(r);
    cstr_free(&p);
    return r;
}

JNIEXPORT jint JNICALL FN(close)(JNIEnv *env, jclass c, jint fd) {
    return ret(close(fd));
}

JNIEXPORT jlong JNICALL FN(pread)(JNIEnv *env, jclass c, jint fd, jlong address, jlong count, jlong offset) {
    ssize_t n = pread(fd, (void *) (intptr_t) address, (size_t) count, (off_t) offset);
    return ret(n);
}

JNIEXPORT jlong JNICALL FN(pwrite)(JNIEnv *env, jclass c, jint fd, jlong address, jlong count, jlong offset) {
    ssize_t n = pwrite(fd, (const void *) (intptr_t) address, (size_t) count, (off_t) offset);
    return ret(n);
}

JNIEXPORT jlong JNICALL FN(read)(JNIEnv *env, jclass c, jint fd, jlong address, jlong count) {
    ssize_t n = read(fd, (void *) (intptr_t) address, (size_t) count);
    return ret(n);
}

JNIEXPORT jlong JNICALL FN(write)(JNIEnv *env, jclass c, jint fd, jlong address, jlong count) {
    ssize_t n = write(fd, (const void *) (intptr_t) address, (size_t) count);
    return ret(n);
}

/* pread into buf[0, count) through a C buffer (the array is not pinned while the call blocks). */
JNIEXPORT jlong JNICALL FN(preadArray)(JNIEnv *env, jclass c, jint fd, jbyteArray buf, jint count, jlong offset) {
    void *tmp = malloc(count > 0 ? (size_t) count : 1);
    if (tmp == NULL) {
        return -ENOMEM;
    }
    ssize_t n = pread(fd, tmp, (size_t) count, (off_t) offset);
    int e = errno;
    if (n > 0) {
        (*env)->SetByteArrayRegion(env, buf, 0, (jsize) n, tmp);
    }
    free(tmp);
    return n < 0 ? -e : n;
}

JNIEXPORT jlong JNICALL FN(pwriteArray)(JNIEnv *env, jclass c, jint fd, jbyteArray buf, jint count, jlong offset) {
    void *tmp = malloc(count > 0 ? (size_t) count : 1);
    if (tmp == NULL) {
        return -ENOMEM;
    }
    (*env)->GetByteArrayRegion(env, buf, 0, count, tmp);
    ssize_t n = pwrite(fd, tmp, (size_t) count, (off_t) offset);
    int e = errno;
    free(tmp);
    return n < 0 ? -e : n;
}

JNIEXPORT jint JNICALL FN(ftruncate)(JNIEnv *env, jclass c, jint fd, jlong length) {
    return ret(ftruncate(fd, (off_t) length));
}

JNIEXPORT jint JNICALL FN(fsync)(JNIEnv *env, jclass c, jint fd) {
    return ret(fsync(fd));
}

JNIEXPORT jint JNICALL FN(fdatasync)(JNIEnv *env, jclass c, jint fd) {
    return ret(fdatasync(fd));
}

JNIEXPORT jint JNICALL FN(syncfs)(JNIEnv *env, jclass c, jint fd) {
    return ret(syncfs(fd));
}

JNIEXPORT jint JNICALL FN(fallocate)(JNIEnv *env, jclass c, jint fd, jint mode, jlong offset, jlong length) {
    return ret(fallocate(fd, mode, (off_t) offset, (off_t) length));
}

JNIEXPORT jlong JNICALL FN(lseek)(JNIEnv *env, jclass c, jint fd, jlong offset, jint whence) {
    off_t r = lseek(fd, (off_t) offset, whence);
    return ret(r);
}

JNIEXPORT jint JNICALL FN(ioctl)(JNIEnv *env, jclass c, jint fd, jlong request, jlong arg) {
    return ret(ioctl(fd, (unsigned long) request, (unsigned long) arg));
}

JNIEXPORT jlong JNICALL FN(copyFileRange)(JNIEnv *env, jclass c, jint fdIn, jlong offIn, jint fdOut, jlong offOut,
                                          jlong len) {
    loff_t in = (loff_t) offIn, out = (loff_t) offOut;
    ssize_t n = copy_file_range(fdIn, &in, fdOut, &out, (size_t) len, 0);
    return ret(n);
}

JNIEXPORT jint JNICALL FN(flock)(JNIEnv *env, jclass c, jint fd, jint operation) {
    return ret(flock(fd, operation));
}

JNIEXPORT jint JNICALL FN(dup2)(JNIEnv *env, jclass c, jint oldFd, jint newFd) {
    return ret(dup2(oldFd, newFd));
}

/* 1 for a terminal, else 0 (errno ignored). */
JNIEXPORT jint JNICALL FN(isatty)(JNIEnv *env, jclass c, jint fd) {
    return isatty(fd);
}

/* ---- namespace ---------------------------------------------------------------------------- */

JNIEXPORT jint JNICALL FN(mkdirat)(JNIEnv *env, jclass c, jint dirfd, jbyteArray path, jint mode) {
    IN(p, path);
    int r = mkdirat(dirfd, p.p, (mode_t) mode);
    r = ret(r);
    cstr_free(&p);
    return r;
}

JNIEXPORT jint JNICALL FN(unlinkat)(JNIEnv *env, jclass c, jint dirfd, jbyteArray path, jint flags) {
    IN(p, path);
    int r = unlinkat(dirfd, p.p, flags);
    r = ret(r);
    cstr_free(&p);
    return r;
}

JNIEXPORT jint JNICALL FN(renameat2)(JNIEnv *env, jclass c, jint olddirfd, jbyteArray oldpath, jint newdirfd,
                                     jbyteArray newpath, jint flags) {
    IN(o, oldpath);
    IN2(n, newpath, o);
    /* the system call rather than glibc's wrapper, which older glibc lacks */
    long r = syscall(SYS_renameat2, olddirfd, o.p, newdirfd, n.p, (unsigned int) flags);
    r = ret(r);
    cstr_free(&o);
    cstr_free(&n);
    return (jint) r;
}

JNIEXPORT jint JNICALL FN(symlinkat)(JNIEnv *env, jclass c, jbyteArray target, jint dirfd, jbyteArray path) {
    IN(t, target);
    IN2(p, path, t);
    int r = symlinkat(t.p, dirfd, p.p);
    r = ret(r);
    cstr_free(&t);
    cstr_free(&p);
    return r;
}

/* readlinkat into buf (the target's bytes, no NUL); returns its length. */
JNIEXPORT jlong JNICALL FN(readlinkat)(JNIEnv *env, jclass c, jint dirfd, jbyteArray path, jbyteArray buf) {
    IN(p, path);
    jsize size = (*env)->GetArrayLength(env, buf);
    char *tmp = malloc((size_t) size + 1);
    if (tmp == NULL) {
        cstr_free(&p);
        return -ENOMEM;
    }
    ssize_t n = readlinkat(dirfd, p.p, tmp, (size_t) size);
    int e = errno;
    if (n > 0) {
        (*env)->SetByteArrayRegion(env, buf, 0, (jsize) n, (jbyte *) tmp);
    }
    free(tmp);
    cstr_free(&p);
    return n < 0 ? -e : n;
}

JNIEXPORT jint JNICALL FN(linkat)(JNIEnv *env, jclass c, jint olddirfd, jbyteArray oldpath, jint newdirfd,
                                  jbyteArray newpath, jint flags) {
    IN(o, oldpath);
    IN2(n, newpath, o);
    int r = linkat(olddirfd, o.p, newdirfd, n.p, flags);
    r = ret(r);
    cstr_free(&o);
    cstr_free(&n);
    return r;
}

JNIEXPORT jint JNICALL FN(mknodat)(JNIEnv *env, jclass c, jint dirfd, jbyteArray path, jint mode, jlong dev) {
    IN(p, path);
    int r = mknodat(dirfd, p.p, (mode_t) mode, (dev_t) dev);
    r = ret(r);
    cstr_free(&p);
    return r;
}

JNIEXPORT jint JNICALL FN(fchmodat)(JNIEnv *env, jclass c, jint dirfd, jbyteArray path, jint mode, jint flags) {
    IN(p, path);
    int r = fchmodat(dirfd, p.p, (mode_t) mode, flags);
    r = ret(r);
    cstr_free(&p);
    return r;
}

JNIEXPORT jint JNICALL FN(fchmod)(JNIEnv *env, jclass c, jint fd, jint mode) {
    return ret(fchmod(fd, (mode_t) mode));
}

JNIEXPORT jint JNICALL FN(fchownat)(JNIEnv *env, jclass c, jint dirfd, jbyteArray path, jint uid, jint gid,
                                    jint flags) {
    IN(p, path);
    int r = fchownat(dirfd, p.p, (uid_t) uid, (gid_t) gid, flags);
    r = ret(r);
    cstr_free(&p);
    return r;
}

JNIEXPORT jint JNICALL FN(fchown)(JNIEnv *env, jclass c, jint fd, jint uid, jint gid) {
    return ret(fchown(fd, (uid_t) uid, (gid_t) gid));
}

JNIEXPORT jint JNICALL FN(utimensat)(JNIEnv *env, jclass c, jint dirfd, jbyteArray path, jlong aSec, jlong aNsec,
                                     jlong mSec, jlong mNsec, jint flags) {
    IN(p, path);
    struct timespec t[2] = {{(time_t) aSec, (long) aNsec}, {(time_t) mSec, (long) mNsec}};
    int r = utimensat(dirfd, p.p, t, flags);
    r = ret(r);
    cstr_free(&p);
    return r;
}

JNIEXPORT jint JNICALL FN(futimens)(JNIEnv *env, jclass c, jint fd, jlong aSec, jlong aNsec, jlong mSec,
                                    jlong mNsec) {
    struct timespec t[2] = {{(time_t) aSec, (long) aNsec}, {(time_t) mSec, (long) mNsec}};
    return ret(futimens(fd, t));
}

JNIEXPORT jint JNICALL FN(faccessat)(JNIEnv *env, jclass c, jint dirfd, jbyteArray path, jint mode, jint flags) {
    IN(p, path);
    int r = faccessat(dirfd, p.p, mode, flags);
    r = ret(r);
    cstr_free(&p);
    return r;
}

JNIEXPORT jlong JNICALL FN(getdents64)(JNIEnv *env, jclass c, jint fd, jlong address, jlong count) {
    long n = syscall(SYS_getdents64, fd, (void *) (intptr_t) address, (size_t) count);
    return ret(n);
}

/* ---- xattrs ------------------------------------------------------------------------------- */
/* value/list may be null: then the call only reports the size it needs. */

static jlong get_into(JNIEnv *env, jbyteArray out, ssize_t (*call)(void *, size_t, const void *), const void *ctx) {
    if (out == NULL) {
        ssize_t n = call(NULL, 0, ctx);
        return ret(n);
    }
    jsize size = (*env)->GetArrayLength(env, out);
    void *tmp = malloc(size > 0 ? (size_t) size : 1);
    if (tmp == NULL) {
        return -ENOMEM;
    }
    ssize_t n = call(tmp, (size_t) size, ctx);
    int e = errno;
    if (n > 0) {
        (*env)->SetByteArrayRegion(env, out, 0, (jsize) n, tmp);
    }
    free(tmp);
    return n < 0 ? -e : n;
}

struct xa {
    const char *path;
    int fd;
    const char *name;
};

static ssize_t do_lget(void *buf, size_t size, const void *ctx) {
    const struct xa *x = ctx;
    return lgetxattr(x->path, x->name, buf, size);
}

static ssize_t do_fget(void *buf, size_t size, const void *ctx) {
    const struct xa *x = ctx;
    return fgetxattr(x->fd, x->name, buf, size);
}

static ssize_t do_llist(void *buf, size_t size, const void *ctx) {
    const struct xa *x = ctx;
    return llistxattr(x->path, buf, size);
}

static ssize_t do_flist(void *buf, size_t size, const void *ctx) {
    const struct xa *x = ctx;
    return flistxattr(x->fd, buf, size);
}

JNIEXPORT jlong JNICALL FN(lgetxattr)(JNIEnv *env, jclass c, jbyteArray path, jbyteArray name, jbyteArray value) {
    IN(p, path);
    IN2(n, name, p);
    struct xa x = {p.p, -1, n.p};
    jlong r = get_into(env, value, do_lget, &x);
    cstr_free(&p);
    cstr_free(&n);
    return r;
}

JNIEXPORT jlong JNICALL FN(fgetxattr)(JNIEnv *env, jclass c, jint fd, jbyteArray name, jbyteArray value) {
    IN(n, name);
    struct xa x = {NULL, fd, n.p};
    jlong r = get_into(env, value, do_fget, &x);
    cstr_free(&n);
    return r;
}

JNIEXPORT jlong JNICALL FN(llistxattr)(JNIEnv *env, jclass c, jbyteArray path, jbyteArray list) {
    IN(p, path);
    struct xa x = {p.p, -1, NULL};
    jlong r = get_into(env, list, do_llist, &x);
    cstr_free(&p);
    return r;
}

JNIEXPORT jlong JNICALL FN(flistxattr)(JNIEnv *env, jclass c, jint fd, jbyteArray list) {
    struct xa x = {NULL, fd, NULL};
    return get_into(env, list, do_flist, &x);
}

/* The value's bytes, copied to the C heap (xattr values are at most 64 KiB). */
static void *value_in(JNIEnv *env, jbyteArray value, jsize *size) {
    *size = (*env)->GetArrayLength(env, value);
    void *tmp = malloc(*size > 0 ? (size_t) *size : 1);
    if (tmp != NULL) {
        (*env)->GetByteArrayRegion(env, value, 0, *size, tmp);
    }
    return tmp;
}

JNIEXPORT jint JNICALL FN(lsetxattr)(JNIEnv *env, jclass c, jbyteArray path, jbyteArray name, jbyteArray value,
                                     jint flags) {
    IN(p, path);
    IN2(n, name, p);
    jsize size;
    void *v = value_in(env, value, &size);
    int r = v == NULL ? -ENOMEM : ret(lsetxattr(p.p, n.p, v, (size_t) size, flags));
    free(v);
    cstr_free(&p);
    cstr_free(&n);
    return r;
}

JNIEXPORT jint JNICALL FN(fsetxattr)(JNIEnv *env, jclass c, jint fd, jbyteArray name, jbyteArray value, jint flags) {
    IN(n, name);
    jsize size;
    void *v = value_in(env, value, &size);
    int r = v == NULL ? -ENOMEM : ret(fsetxattr(fd, n.p, v, (size_t) size, flags));
    free(v);
    cstr_free(&n);
    return r;
}

JNIEXPORT jint JNICALL FN(lremovexattr)(JNIEnv *env, jclass c, jbyteArray path, jbyteArray name) {
    IN(p, path);
    IN2(n, name, p);
    int r = lremovexattr(p.p, n.p);
    r = ret(r);
    cstr_free(&p);
    cstr_free(&n);
    return r;
}

/* ---- mounts, identity, process ------------------------------------------------------------ */

JNIEXPORT jint JNICALL FN(mount)(JNIEnv *env, jclass c, jbyteArray source, jbyteArray target, jbyteArray fstype,
                                 jlong flags, jbyteArray data) {
    IN(s, source);
    IN2(t, target, s);
    cstr f;
    int e = cstr_in(env, fstype, &f);
    if (e != 0) {
        cstr_free(&s);
        cstr_free(&t);
        return e;
    }
    cstr d = {NULL};
    if (data != NULL && (e = cstr_in(env, data, &d)) != 0) {
        cstr_free(&s);
        cstr_free(&t);
        cstr_free(&f);
        return e;
    }
    int r = mount(s.p, t.p, f.p, (unsigned long) flags, d.p);
    r = ret(r);
    cstr_free(&s);
    cstr_free(&t);
    cstr_free(&f);
    cstr_free(&d);
    return r;
}

JNIEXPORT jint JNICALL FN(umount2)(JNIEnv *env, jclass c, jbyteArray target, jint flags) {
    IN(t, target);
    int r = umount2(t.p, flags);
    r = ret(r);
    cstr_free(&t);
    return r;
}

JNIEXPORT jint JNICALL FN(geteuid)(JNIEnv *env, jclass c) {
    return (jint) geteuid();
}

JNIEXPORT jint JNICALL FN(getegid)(JNIEnv *env, jclass c) {
    return (jint) getegid();
}

JNIEXPORT jint JNICALL FN(umask)(JNIEnv *env, jclass c, jint mask) {
    return (jint) umask((mode_t) mask);
}

/* The address of a direct buffer's memory (0 for a heap buffer). */
JNIEXPORT jlong JNICALL FN(address)(JNIEnv *env, jclass c, jobject buffer) {
    return (jlong) (intptr_t) (*env)->GetDirectBufferAddress(env, buffer);
}

/* glibc's malloc_trim(0): 1 if memory went back to the system, 0 if not; -ENOSYS without glibc. */
JNIEXPORT jint JNICALL FN(mallocTrim)(JNIEnv *env, jclass c) {
#ifdef __GLIBC__
    return malloc_trim(0);
#else
    return -ENOSYS;
#endif
}
