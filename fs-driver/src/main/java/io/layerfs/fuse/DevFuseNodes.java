package io.layerfs.fuse;

import java.util.ArrayList;
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

    /** One name of a node: a name in the directory with node id {@code parent}; an entry of byName. */
    static class Name extends NameTable.Key {
        /** The node so named; null when this name is the node itself (see {@link Node}). */
        private final Node other;

        Name(long parent, String name, Node node) {
            super(parent, name);
            this.other = node;
        }

        final Node node() {
            return other != null ? other : (Node) this;
        }
    }

    /**
     * A node the kernel holds. It is also the name it was first looked up by, so a node with one
     * name (nearly all of them) is one object, not two: 72 bytes instead of 96, which a kernel that
     * holds 200,000 nodes makes 5 MiB. What few nodes need is in {@link Extra}.
     */
    static final class Node extends Name {
        final long id;
        final long ino;
        long lookups;
        /** The most recently looked up known name (maybe this node itself); null when every known name was unlinked. */
        private Name name;
        /** Other names, handles, absent xattrs; null while the node has none of them. */
        private Extra extra;
        /** The object's last name in the union was removed: only open handles reach it. */
        boolean gone;

        /** A node first known by {@code name} in {@code parent} (0 and "" for the root, which has no name). */
        Node(long id, long ino, long parent, String name) {
            super(parent, name, null);
            this.id = id;
            this.ino = ino;
        }

        private Extra extra() {
            if (extra == null) {
                extra = new Extra();
            }
            return extra;
        }

        /** Its open file handles, or null. */
        private List<Long> handles() {
            return extra == null ? null : extra.handles;
        }

        /** Whether the object is known not to have xattr {@code xattr}. */
        private boolean knownAbsent(String xattr) {
            return extra != null && extra.absentXattrs != null && extra.absentXattrs.contains(xattr);
        }

        /** SETXATTR/REMOVEXATTR count so far (see {@link Extra#xattrChanges}). */
        private long xattrChanges() {
            return extra == null ? 0 : extra.xattrChanges;
        }

        /** Makes k the first name, dropping another name of the same key. */
        void addFirst(Name k) {
            removeName(k.parent, k.name);
            if (name != null) {
                Extra x = extra();
                if (x.moreNames == null) {
                    x.moreNames = new ArrayList<>(2);
                }
                x.moreNames.add(0, name);
            }
            name = k;
        }

        /** Drops the name (parent, name) if the node has it. */
        void removeName(long parent, String child) {
            List<Name> more = extra == null ? null : extra.moreNames;
            if (name != null && name.is(parent, child)) {
                name = more == null || more.isEmpty() ? null : more.remove(0);
            } else if (more != null) {
                more.removeIf(k -> k.is(parent, child));
            }
            if (more != null && more.isEmpty()) {
                extra.moreNames = null;
            }
        }

        boolean hasNames() {
            return name != null;
        }

        List<Name> names() {
            List<Name> all = new ArrayList<>();
            if (name != null) {
                all.add(name);
            }
            if (extra != null && extra.moreNames != null) {
                all.addAll(extra.moreNames);
            }
            return all;
        }
    }

    /** What a node rarely has. */
    private static final class Extra {
        /** Known names besides the first (hard links), the most recent first; null: none. */
        List<Name> moreNames;
        /** Open file handles of the node: they reach it when no name does (unlinked while open). */
        List<Long> handles;
        /** xattr names the object is known not to have (null: none known). */
        List<String> absentXattrs;
        /** Counts SETXATTR/REMOVEXATTR, so an answer computed across one is not remembered. */
        long xattrChanges;
    }

    // guarded by this; one entry per node the kernel holds in each (a few tens of bytes each: the
    // kernel may hold hundreds of thousands)
    private final LongMap<Node> byId = new LongMap<>(n -> n.id);
    private final LongMap<Node> byIno = new LongMap<>(n -> n.ino);
    private final NameTable<Name> byName = new NameTable<>();
    private long nextId = ROOT_ID + 1;

    DevFuseNodes(long rootIno) {
        Node root = new Node(ROOT_ID, rootIno, 0, "");
        root.lookups = 1;
        byId.put(root);
        byIno.put(root);
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
        if (n == null || n.name == null || depth > 4096) {
            return false;
        }
        Name first = n.name;
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
        return n != null && (id == ROOT_ID || n.hasNames());
    }

    /**
     * The kernel is told that {@code name} in {@code parent} is the object with st_ino {@code ino}:
     * returns its node id (an existing node for that number, or a new one) with one more lookup.
     */
    synchronized long looked(long parent, String name, long ino) {
        Node n = byIno.get(ino);
        Name known = byName.get(parent, name);
        boolean fresh = n == null;
        if (fresh) {
            n = new Node(nextId++, ino, parent, name);
            byId.put(n);
            byIno.put(n);
        }
        if (known == null || known.node() != n) {
            Name key = fresh ? n : new Name(parent, name, n);
            Name previous = byName.put(key);
            if (previous != null) {
                previous.node().removeName(parent, name);
            }
            known = key;
        }
        if (n.id != ROOT_ID) {
            n.addFirst(known);
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
            Extra x = n.extra();
            if (x.handles == null) {
                x.handles = new ArrayList<>(1);
            }
            x.handles.add(fh);
        }
    }

    /** A file handle of node id was released. */
    synchronized void released(long id, long fh) {
        Node n = byId.get(id);
        if (n != null && n.handles() != null) {
            n.handles().remove(fh);
        }
    }

    /** An open file handle of node id, or -1. */
    synchronized long anyHandle(long id) {
        Node n = byId.get(id);
        List<Long> handles = n == null ? null : n.handles();
        return handles == null || handles.isEmpty() ? -1 : handles.get(0);
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
        return n != null && n.knownAbsent(name);
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
        return n.knownAbsent(name) ? KNOWN_ABSENT : n.xattrChanges();
    }

    /** A stamp to pass to {@link #absent}: taken before asking the engine. */
    synchronized long xattrStamp(long id) {
        Node n = byId.get(id);
        return n == null ? -1 : n.xattrChanges();
    }

    /** Node id has no xattr {@code name}, as the engine said after {@code stamp} was taken. */
    synchronized void absent(long id, String name, long stamp) {
        Node n = byId.get(id);
        if (n == null || n.xattrChanges() != stamp) {
            return;
        }
        Extra x = n.extra();
        if (x.absentXattrs == null) {
            x.absentXattrs = new ArrayList<>(2);
        }
        if (!x.absentXattrs.contains(name)) {
            if (x.absentXattrs.size() == MAX_ABSENT_XATTRS) {
                x.absentXattrs.remove(0);
            }
            x.absentXattrs.add(name);
        }
    }

    /** An xattr of node id was set or removed. */
    synchronized void xattrsChanged(long id) {
        Node n = byId.get(id);
        if (n != null) {
            Extra x = n.extra();
            x.absentXattrs = null;
            x.xattrChanges++;
        }
    }

    /**
     * The kernel drops {@code count} lookups of node id; the node goes at 0 (the root never).
     * Returns whether it went.
     */
    synchronized boolean forget(long id, long count) {
        Node n = byId.get(id);
        if (n == null || id == ROOT_ID) {
            return false;
        }
        n.lookups -= count;
        if (n.lookups > 0) {
            return false;
        }
        byId.remove(id);
        if (byIno.get(n.ino) == n) {
            byIno.remove(n.ino);
        }
        for (Name key : n.names()) {
            byName.removeEntry(key);
        }
        return true;
    }

    /**
     * {@code name} in {@code parent} is gone (unlinked, or renamed over). {@code lastName}: the
     * object had no other name, so its number may come back for another object.
     */
    synchronized void removed(long parent, String name, boolean lastName) {
        Name k = byName.remove(parent, name);
        if (k == null) {
            return;
        }
        Node n = k.node();
        n.removeName(parent, name);
        if (lastName) {
            n.gone = !n.hasNames();
            if (byIno.get(n.ino) == n) {
                byIno.remove(n.ino);
            }
        }
    }

    /** The object named {@code from} in its directory is now named {@code to}. */
    synchronized void renamed(long fromParent, String fromName, long toParent, String toName) {
        Name from = byName.remove(fromParent, fromName);
        if (from == null) {
            return;
        }
        Node n = from.node();
        n.removeName(fromParent, fromName);
        Name to = new Name(toParent, toName, n);
        Name previous = byName.put(to);
        if (previous != null && previous.node() != n) {
            previous.node().removeName(toParent, toName);
        }
        n.addFirst(to);
    }

    /** The node id known for {@code name} in {@code parent}, or 0. */
    synchronized long at(long parent, String name) {
        Name k = byName.get(parent, name);
        return k == null ? 0 : k.node().id;
    }

    /** Number of nodes the kernel holds (the root included), for tests. */
    synchronized int size() {
        return byId.size();
    }
}
