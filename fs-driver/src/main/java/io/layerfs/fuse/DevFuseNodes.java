package io.layerfs.fuse;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;

/**
 * The node table of the /dev/fuse binding: which kernel node id stands for which union object, and
 * the names through which the path-based engine reaches it.
 *
 * <p>Nodes are keyed by the st_ino the engine shows, so every name of a hard-linked file is ONE
 * kernel inode (one nlink, one size, one page cache): what libfuse 2's path API could not give.
 * Node ids come from a counter and are never reused while the kernel holds them, so generation 0
 * suffices. The kernel holds a node for every LOOKUP, CREATE, MKNOD, MKDIR, SYMLINK, LINK and
 * READDIRPLUS entry it was given and gives them back with FORGET; a node goes at count 0.
 *
 * <p>Each node remembers its known names (parent node, name), the most recently looked up first;
 * its path for the engine is built from the first one, up to the root. A name goes when it is
 * unlinked or renamed over. When the last name of an object goes (nlink 1, or a directory), its
 * st_ino is unmapped too: the node lives on for open files, but a new object that gets the same
 * number later gets a new node.
 *
 * <p>Limit: st_ino is unique in the mount as long as {@code io.layerfs.union.InodeNumbers} keeps it
 * so; a file hard-linked ACROSS lower layers shows one number for what becomes two objects once one
 * name is copied up, and this table then serves both names from one node.
 *
 * <p>Thread-safety: every method is synchronized on the table; callers never hold it while they
 * call the engine.
 */
final class DevFuseNodes {
    static final long ROOT_ID = 1;

    /** One name of a node: a name in the directory with node id {@code parent}. */
    record Name(long parent, String name) {
        // written out: a record's generated equals/hashCode go through method handles, which the
        // daemon's C1-only JIT (-XX:TieredStopAtLevel=1) does not inline; these run per lookup
        @Override
        public boolean equals(Object o) {
            return o instanceof Name n && n.parent == parent && n.name.equals(name);
        }

        @Override
        public int hashCode() {
            return 31 * Long.hashCode(parent) + name.hashCode();
        }
    }

    private static final class Node {
        final long id;
        final long ino;
        long lookups;
        /** Known names, the most recent first; empty when every known name was unlinked. */
        final List<Name> names = new ArrayList<>(1);
        /** Open file handles of the node: they reach it when no name does (unlinked while open). */
        List<Long> handles;
        /** xattr names the object is known not to have (null: none known). */
        List<String> absentXattrs;
        /** Counts SETXATTR/REMOVEXATTR, so an answer computed across one is not remembered. */
        long xattrChanges;
        /** The object's last name in the union was removed: only open handles reach it. */
        boolean gone;

        Node(long id, long ino) {
            this.id = id;
            this.ino = ino;
        }
    }

    // guarded by this
    private final HashMap<Long, Node> byId = new HashMap<>();
    private final HashMap<Long, Node> byIno = new HashMap<>();
    private final HashMap<Name, Node> byName = new HashMap<>();
    private long nextId = ROOT_ID + 1;

    DevFuseNodes(long rootIno) {
        Node root = new Node(ROOT_ID, rootIno);
        root.lookups = 1;
        byId.put(ROOT_ID, root);
        byIno.put(rootIno, root);
    }

    /** The engine path of a node ("/" for the root); null if unknown or a name on the way is gone. */
    synchronized String path(long id) {
        if (id == ROOT_ID) {
            return "/";
        }
        StringBuilder sb = new StringBuilder(64);
        if (!appendPath(id, sb, 0)) {
            return null;
        }
        return sb.toString();
    }

    /** The engine path of {@code name} in directory {@code parent}; null if the directory's path is unknown. */
    synchronized String childPath(long parent, String name) {
        StringBuilder sb = new StringBuilder(64);
        if (parent != ROOT_ID && !appendPath(parent, sb, 0)) {
            return null;
        }
        return sb.append('/').append(name).toString();
    }

    private boolean appendPath(long id, StringBuilder sb, int depth) {
        if (id == ROOT_ID) {
            return true;
        }
        Node n = byId.get(id);
        if (n == null || n.names.isEmpty() || depth > 4096) {
            return false;
        }
        Name first = n.names.get(0);
        if (!appendPath(first.parent, sb, depth + 1)) {
            return false;
        }
        sb.append('/').append(first.name);
        return true;
    }

    /** The st_ino a node stands for; -1 if the id is unknown. */
    synchronized long ino(long id) {
        Node n = byId.get(id);
        return n == null ? -1 : n.ino;
    }

    /** Whether node id still has a known name (else only its open handles reach it). */
    synchronized boolean hasName(long id) {
        Node n = byId.get(id);
        return n != null && (id == ROOT_ID || !n.names.isEmpty());
    }

    /**
     * The kernel is told that {@code name} in {@code parent} is the object with st_ino {@code ino}:
     * returns its node id (an existing node for that number, or a new one) with one more lookup.
     */
    synchronized long looked(long parent, String name, long ino) {
        Node n = byIno.get(ino);
        if (n == null) {
            n = new Node(nextId++, ino);
            byId.put(n.id, n);
            byIno.put(ino, n);
        }
        Name key = new Name(parent, name);
        Node previous = byName.put(key, n);
        if (previous != null && previous != n) {
            previous.names.remove(key);
        }
        if (n.id != ROOT_ID) {
            n.names.remove(key);
            n.names.add(0, key);
            n.gone = false;
        }
        n.lookups++;
        return n.id;
    }

    /** Whether the last name of node id's object was removed (its link count in the union is 0). */
    synchronized boolean gone(long id) {
        Node n = byId.get(id);
        return n != null && n.gone;
    }

    /** A file handle of node id was opened. */
    synchronized void opened(long id, long fh) {
        Node n = byId.get(id);
        if (n != null) {
            if (n.handles == null) {
                n.handles = new ArrayList<>(1);
            }
            n.handles.add(fh);
        }
    }

    /** A file handle of node id was released. */
    synchronized void released(long id, long fh) {
        Node n = byId.get(id);
        if (n != null && n.handles != null) {
            n.handles.remove(fh);
        }
    }

    /** An open file handle of node id, or -1. */
    synchronized long anyHandle(long id) {
        Node n = byId.get(id);
        return n == null || n.handles == null || n.handles.isEmpty() ? -1 : n.handles.get(0);
    }

    private static final int MAX_ABSENT_XATTRS = 8;

    /**
     * Whether node id is known to have no xattr {@code name}. The kernel asks for the same few
     * names again and again (security.capability before every write and chown, the POSIX ACL names
     * for every {@code ls -l}) and does not cache the answers. An xattr the object lacks can only
     * appear through a SETXATTR on this node (copy-up copies what was seen, and a write or chown
     * only ever removes security.capability), so the absence is remembered until then.
     */
    synchronized boolean knownAbsent(long id, String name) {
        Node n = byId.get(id);
        return n != null && n.absentXattrs != null && n.absentXattrs.contains(name);
    }

    /** What {@link #xattrStampUnlessAbsent} answers for an xattr known to be absent. */
    static final long KNOWN_ABSENT = Long.MIN_VALUE;

    /**
     * {@link #KNOWN_ABSENT} if node id is known to have no xattr {@code name}, else the stamp to pass
     * to {@link #absent} ({@link #knownAbsent} and {@link #xattrStamp} under one lock).
     */
    synchronized long xattrStampUnlessAbsent(long id, String name) {
        Node n = byId.get(id);
        if (n == null) {
            return -1;
        }
        return n.absentXattrs != null && n.absentXattrs.contains(name) ? KNOWN_ABSENT : n.xattrChanges;
    }

    /** A stamp to pass to {@link #absent}: taken before asking the engine. */
    synchronized long xattrStamp(long id) {
        Node n = byId.get(id);
        return n == null ? -1 : n.xattrChanges;
    }

    /** Node id has no xattr {@code name}, as the engine said after {@code stamp} was taken. */
    synchronized void absent(long id, String name, long stamp) {
        Node n = byId.get(id);
        if (n == null || n.xattrChanges != stamp) {
            return;
        }
        if (n.absentXattrs == null) {
            n.absentXattrs = new ArrayList<>(2);
        }
        if (!n.absentXattrs.contains(name)) {
            if (n.absentXattrs.size() == MAX_ABSENT_XATTRS) {
                n.absentXattrs.remove(0);
            }
            n.absentXattrs.add(name);
        }
    }

    /** An xattr of node id was set or removed. */
    synchronized void xattrsChanged(long id) {
        Node n = byId.get(id);
        if (n != null) {
            n.absentXattrs = null;
            n.xattrChanges++;
        }
    }

    /** The kernel drops {@code count} lookups of node id; the node goes at 0 (the root never). */
    synchronized void forget(long id, long count) {
        Node n = byId.get(id);
        if (n == null || id == ROOT_ID) {
            return;
        }
        n.lookups -= count;
        if (n.lookups > 0) {
            return;
        }
        byId.remove(id);
        if (byIno.get(n.ino) == n) {
            byIno.remove(n.ino);
        }
        for (Name key : n.names) {
            if (byName.get(key) == n) {
                byName.remove(key);
            }
        }
    }

    /**
     * {@code name} in {@code parent} is gone (unlinked, or renamed over). {@code lastName}: the
     * object had no other name, so its number may come back for another object.
     */
    synchronized void removed(long parent, String name, boolean lastName) {
        Node n = byName.remove(new Name(parent, name));
        if (n == null) {
            return;
        }
        n.names.remove(new Name(parent, name));
        if (lastName) {
            n.gone = n.names.isEmpty();
            if (byIno.get(n.ino) == n) {
                byIno.remove(n.ino);
            }
        }
    }

    /** The object named {@code from} in its directory is now named {@code to}. */
    synchronized void renamed(long fromParent, String fromName, long toParent, String toName) {
        Name from = new Name(fromParent, fromName);
        Name to = new Name(toParent, toName);
        Node n = byName.remove(from);
        if (n == null) {
            return;
        }
        int at = n.names.indexOf(from);
        if (at >= 0) {
            n.names.remove(at);
        }
        n.names.add(0, to);
        Node previous = byName.put(to, n);
        if (previous != null && previous != n) {
            previous.names.remove(to);
        }
    }

    /** The node id known for {@code name} in {@code parent}, or 0. */
    synchronized long at(long parent, String name) {
        Node n = byName.get(new Name(parent, name));
        return n == null ? 0 : n.id;
    }

    /** Number of nodes the kernel holds (the root included), for tests. */
    synchronized int size() {
        return byId.size();
    }
}
