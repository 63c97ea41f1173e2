package io.layerfs.store;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.regex.Pattern;

/**
 * A content digest as the OCI image spec writes it ({@code sha256:<64 lowercase hex>}, image-spec
 * descriptor.md "Digests"). Only sha256 is accepted, and the encoded part is exactly 64 hex digits,
 * so a digest taken from a manifest can be used as a file name: {@code sha256:../../x} is refused here,
 * before any path is built from it.
 */
public final class Digest {
    private static final Pattern HEX64 = Pattern.compile("[0-9a-f]{64}");
    private final String hex;

    private Digest(String hex) {
        this.hex = hex;
    }

    /** Parses {@code sha256:HEX}; throws IllegalArgumentException for anything else. */
    public static Digest parse(String s) {
        if (s == null || !s.startsWith("sha256:") || !HEX64.matcher(s.substring(7)).matches()) {
            throw new IllegalArgumentException("not a sha256 digest: " + shorten(s));
        }
        return new Digest(s.substring(7));
    }

    /** The bare 64-digit hex form, as used for directory names. */
    public static Digest ofHex(String hex) {
        if (hex == null || !HEX64.matcher(hex).matches()) {
            throw new IllegalArgumentException("not a sha256 hex digest: " + shorten(hex));
        }
        return new Digest(hex);
    }

    public static boolean isHex(String s) {
        return s != null && HEX64.matcher(s).matches();
    }

    public static Digest of(byte[] sha256) {
        if (sha256.length != 32) {
            throw new IllegalArgumentException("a sha256 has 32 bytes, not " + sha256.length);
        }
        return new Digest(HexFormat.of().formatHex(sha256));
    }

    public static Digest sha256(byte[] data) {
        return of(newSha256().digest(data));
    }

    public static Digest sha256(String text) {
        return sha256(text.getBytes(StandardCharsets.UTF_8));
    }

    static MessageDigest newSha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new AssertionError("every JRE has SHA-256", e);
        }
    }

    public String hex() {
        return hex;
    }

    /** The first 12 hex digits, as listings show an ID. */
    public String shortHex() {
        return hex.substring(0, 12);
    }

    @Override
    public String toString() {
        return "sha256:" + hex;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Digest d && d.hex.equals(hex);
    }

    @Override
    public int hashCode() {
        return hex.hashCode();
    }

    private static String shorten(String s) {
        if (s == null) {
            return "null";
        }
        return s.length() > 80 ? s.substring(0, 80) + "..." : s;
    }
}
