package io.layerfs.inspect;

import java.util.ArrayList;
import java.util.List;

/**
 * Why one path of a union is what it is: one {@link Step} per path component, the last one for the
 * path itself. An ancestor "matters" if it is not a visible directory, if what happens there
 * hides a version of the path in some layer, or if a layer has a marker there that the reader ignores
 * (where a reader shows what another hides, that is usually why).
 *
 * @param path  the normalized union path ("/a/b")
 * @param rules the reader whose rules were applied
 * @param steps one per component from the first below "/" (just "/" itself for the root)
 */
public record Explanation(String path, Rules rules, List<Step> steps) {
    public Explanation {
        steps = List.copyOf(steps);
    }

    public Step target() {
        return steps.get(steps.size() - 1);
    }

    public boolean visible() {
        return target().visible();
    }

    public List<Step> ancestors() {
        return steps.subList(0, steps.size() - 1);
    }

    /** The ancestors worth showing, top down. */
    public List<Step> ancestorsThatMatter() {
        List<Step> out = new ArrayList<>();
        for (Step a : ancestors()) {
            if (matters(a)) {
                out.add(a);
            }
        }
        return out;
    }

    public boolean matters(Step ancestor) {
        if (!ancestor.visible() || !ancestor.isDirectory() || !ancestor.ignored().isEmpty()) {
            return true;
        }
        for (Version v : ancestor.versions()) {
            if (!v.ignored().isEmpty()) {
                return true;
            }
        }
        for (Version v : target().versions()) {
            if (v.cause() != null && v.cause().at().equals(ancestor.path())) {
                return true;
            }
        }
        Cause h = target().hiddenBy();
        return h != null && h.at().equals(ancestor.path());
    }
}
