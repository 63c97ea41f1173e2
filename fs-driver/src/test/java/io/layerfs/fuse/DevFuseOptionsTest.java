package io.layerfs.fuse;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;

import org.junit.jupiter.api.Test;

class DevFuseOptionsTest {
    @Test
    void parse_noOptions_oneDayTimeouts() {
        DevFuseOptions o = DevFuseOptions.parse(List.of(), false);
        assertEquals(86_400_000_000_000L, o.entryTimeoutNanos());
        assertEquals(86_400_000_000_000L, o.attrTimeoutNanos());
        assertEquals(86_400_000_000_000L, o.negativeTimeoutNanos());
    }

    @Test
    void parse_timeoutsAndRo_taken_libfuseOptionsIgnored() {
        DevFuseOptions o = DevFuseOptions.parse(
                List.of("entry_timeout=1.5,attr_timeout=0", "kernel_cache", "negative_timeout=2", "ro"), false);
        assertEquals(1_500_000_000L, o.entryTimeoutNanos());
        assertEquals(0, o.attrTimeoutNanos());
        assertEquals(2_000_000_000L, o.negativeTimeoutNanos());
        assertTrue(o.readOnly());
        assertEquals(1 | 2 | 4, o.mountFlags()); // MS_RDONLY | MS_NOSUID | MS_NODEV
    }

    @Test
    void parse_devAndSuid_dropNodevAndNosuid() {
        assertEquals(0, DevFuseOptions.parse(List.of("dev,suid"), false).mountFlags());
        assertEquals(2 | 4 | 8 | 1024, DevFuseOptions.parse(List.of("noexec,noatime"), false).mountFlags());
    }

    @Test
    void parse_badTimeout_saysWhich() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> DevFuseOptions.parse(List.of("attr_timeout=soon"), false));
        assertEquals("option attr_timeout=soon: not a number of seconds", e.getMessage());
    }

    @Test
    void parse_ignoredNumericOptionWithoutNumber_refused() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> DevFuseOptions.parse(List.of("max_read=bogus"), false));
        assertEquals("option max_read=bogus: not a number", e.getMessage());
        assertEquals(2 | 4, DevFuseOptions.parse(List.of("max_read=131072,umask=0022"), false).mountFlags());
    }

    @Test
    void parse_writeCache_onUnlessTurnedOff() {
        assertTrue(DevFuseOptions.parse(List.of(), false).writebackCache());
        assertFalse(DevFuseOptions.parse(List.of("no_writeback_cache"), false).writebackCache());
        assertFalse(DevFuseOptions.parse(List.of("writeback=0"), false).writebackCache());
        assertTrue(DevFuseOptions.parse(List.of("writeback=0,writeback_cache"), false).writebackCache());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> DevFuseOptions.parse(List.of("writeback=yes"), false));
        assertEquals("option writeback=yes: not 0 or 1", e.getMessage());
    }

    @Test
    void parse_noOpen_onUnlessTurnedOff_openFilesBounded() {
        DevFuseOptions o = DevFuseOptions.parse(List.of(), false);
        assertTrue(o.noOpen());
        assertEquals(1024, o.openFiles());
        assertFalse(DevFuseOptions.parse(List.of("no_open=0"), false).noOpen());
        assertTrue(DevFuseOptions.parse(List.of("no_open=0,no_open"), false).noOpen());
        assertEquals(16, DevFuseOptions.parse(List.of("open_files=16"), false).openFiles());
        assertEquals("option open_files=0: not a number of files (1 or more)", assertThrows(IllegalArgumentException.class,
                () -> DevFuseOptions.parse(List.of("open_files=0"), false)).getMessage());
        assertEquals("option no_open=yes: not 0 or 1", assertThrows(IllegalArgumentException.class,
                () -> DevFuseOptions.parse(List.of("no_open=yes"), false)).getMessage());
        assertTrue(DevFuseOptions.devFuseOnlyOption("no_open=0"));
        assertTrue(DevFuseOptions.devFuseOnlyOption("open_files=16"));
    }

    @Test
    void devFuseOnlyOption_namesWhatTheLibfuseBindingDrops() {
        assertTrue(DevFuseOptions.devFuseOnlyOption("writeback=0"));
        assertTrue(DevFuseOptions.devFuseOnlyOption("writeback_cache"));
        assertTrue(DevFuseOptions.devFuseOnlyOption("no_writeback_cache"));
        assertFalse(DevFuseOptions.devFuseOnlyOption("writeback_cachex"));
        assertFalse(DevFuseOptions.devFuseOnlyOption("max_write=131072"));
    }
}
