/**
 * Why a path of a union is visible or hidden, read straight from the layer directories: the
 * analysis behind {@code layerfs explain}, {@code whiteouts}, {@code lint} and {@code convert}.
 * Nothing here mounts or serves anything; it reads layers as plain directories (or tar files),
 * so it works on a stopped container as well as beside a live mount.
 *
 * <p>Who owns what:
 * <ul>
 *   <li>{@link io.layerfs.inspect.LayerStack}: the lookup, step by step, the way overlayfs does it
 *       (overlayfs.rst, "Non-directories", "Directories", "whiteouts and opaque directories"),
 *       recording for every layer why its version is or is not the one shown
 *       ({@link io.layerfs.inspect.Explanation}, {@link io.layerfs.inspect.Step},
 *       {@link io.layerfs.inspect.Version}, {@link io.layerfs.inspect.Cause}).</li>
 *   <li>{@link io.layerfs.inspect.Rules}: which marker encodings a reader understands (layerfs,
 *       kernel overlayfs, kernel overlayfs with userxattr). The encodings themselves are named by
 *       {@link io.layerfs.union.Markers}, the same class the engine reads markers with.</li>
 *   <li>{@link io.layerfs.inspect.Whiteouts}: every marker of one layer directory or layer tar.</li>
 *   <li>{@link io.layerfs.inspect.Lint}: problems of a stack of layers.</li>
 *   <li>{@link io.layerfs.inspect.Converter}: rewrites a layer from one encoding to another.</li>
 *   <li>{@code LayerReader} ({@code LayerDir}, {@code TarLayer}), {@code Probe}, {@code DirMarkers}: reading
 *       one layer, a directory or a tar (package-private).</li>
 * </ul>
 * Errors are {@link java.io.IOException}s naming the path; the libc binding's exceptions stay inside.
 */
package io.layerfs.inspect;
