package io.layerfs.fuse;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/**
 * The node table of the /dev/fuse binding, without a mount. Tree used below (st_ino in brackets):
 * <pre>
 * / [100]
 * ├── d [200]
 * │   └── a [300]   (hard link: b)
 * └── b [300]
 * </pre>
 */
class DevFuseNodesTest {
    private final DevFuseNodes nodes = new DevFuseNodes(100);

    @Test
    void looked_twoNamesOfOneInode_shareOneNode() {
        long d = nodes.looked(1, "d", 200);
        long a = nodes.looked(d, "a", 300);
        long b = nodes.looked(1, "b", 300);
        assertEquals(a, b);
        assertNotEquals(d, a);
        assertEquals("/b", nodes.path(a)); // the most recent name
        assertEquals("/d/a", nodes.childPath(d, "a"));
    }

    @Test
    void removed_currentNameOfHardLink_pathFallsBackToOtherName() {
        long d = nodes.looked(1, "d", 200);
        long a = nodes.looked(d, "a", 300);
        nodes.looked(1, "b", 300);
        nodes.removed(1, "b", false);
        assertEquals("/d/a", nodes.path(a));
        // the number still means this object: a lookup of another name finds the same node
        assertEquals(a, nodes.looked(1, "c", 300));
    }

    @Test
    void removed_lastName_nodeKeepsHandlesAndNumberMayComeBack() {
        long f = nodes.looked(1, "f", 400);
        nodes.opened(f, 7);
        nodes.removed(1, "f", true);
        assertNull(nodes.path(f));
        assertFalse(nodes.hasName(f));
        assertEquals(7, nodes.anyHandle(f));
        long again = nodes.looked(1, "f", 400);
        assertNotEquals(f, again);
    }

    @Test
    void renamed_directory_childPathsFollow() {
        long d = nodes.looked(1, "d", 200);
        long a = nodes.looked(d, "a", 300);
        nodes.renamed(1, "d", 1, "e");
        assertEquals("/e/a", nodes.path(a));
        assertEquals(d, nodes.at(1, "e"));
        assertEquals(0, nodes.at(1, "d"));
    }

    @Test
    void forget_allLookups_dropsNodeAndItsNames() {
        long d = nodes.looked(1, "d", 200);
        nodes.looked(1, "d", 200);
        nodes.forget(d, 1);
        assertEquals("/d", nodes.path(d));
        nodes.forget(d, 1);
        assertNull(nodes.path(d));
        assertEquals(0, nodes.at(1, "d"));
        assertEquals(1, nodes.size());
        assertNotEquals(d, nodes.looked(1, "d", 200)); // ids are never reused
    }

    @Test
    void ownNameRemovedThenBack_renamed_forgetDropsEveryName() {
        long a = nodes.looked(1, "a", 300); // a new node is its own first name
        nodes.looked(1, "b", 300); // a hard link
        nodes.removed(1, "a", false); // the name the node was created with goes
        assertEquals(0, nodes.at(1, "a"));
        assertEquals("/b", nodes.path(a));
        assertEquals(a, nodes.looked(1, "a", 300)); // linked again under that name
        assertEquals("/a", nodes.path(a));
        nodes.renamed(1, "a", 1, "c");
        assertEquals("/c", nodes.path(a));
        assertEquals(a, nodes.at(1, "b"));
        nodes.forget(a, 3);
        assertNull(nodes.path(a));
        assertEquals(0, nodes.at(1, "a"));
        assertEquals(0, nodes.at(1, "b"));
        assertEquals(0, nodes.at(1, "c"));
        assertEquals(1, nodes.size());
        long again = nodes.looked(1, "b", 300);
        assertNotEquals(a, again);
        assertEquals("/b", nodes.path(again));
    }

    @Test
    void forget_root_isKept() {
        nodes.forget(DevFuseNodes.ROOT_ID, 5);
        assertEquals("/", nodes.path(DevFuseNodes.ROOT_ID));
        assertTrue(nodes.hasName(DevFuseNodes.ROOT_ID));
    }

    @Test
    void looked_nameNowOfAnotherObject_movesTheName() {
        long f = nodes.looked(1, "f", 400);
        long g = nodes.looked(1, "f", 500); // f was replaced behind a cached entry
        assertNotEquals(f, g);
        assertNull(nodes.path(f));
        assertEquals("/f", nodes.path(g));
    }

    @Test
    void absent_thenXattrChanged_forgotten() {
        long f = nodes.looked(1, "f", 400);
        nodes.absent(f, "security.capability", nodes.xattrStamp(f));
        assertTrue(nodes.knownAbsent(f, "security.capability"));
        assertTrue(nodes.knownAbsent(nodes.looked(1, "g", 400), "security.capability")); // a hard link: one node
        nodes.xattrsChanged(f);
        assertFalse(nodes.knownAbsent(f, "security.capability"));
    }

    @Test
    void absent_answerComputedAcrossAChange_notRemembered() {
        long f = nodes.looked(1, "f", 400);
        long stamp = nodes.xattrStamp(f);
        nodes.xattrsChanged(f); // a SETXATTR finished while the engine was asked
        nodes.absent(f, "user.x", stamp);
        assertFalse(nodes.knownAbsent(f, "user.x"));
    }
}
