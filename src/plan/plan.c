/*
 * The chunk plan: which frames each model run sees and which of its outputs are kept.
 * Pure functions over frame numbers; see include/plan.h and docs/CHUNKS.md.
 */
#include "plan.h"

/* a + b without overflow: the streaming scene end is INT64_MAX. */
static int64_t add_clamped(int64_t a, int64_t b, int64_t limit)
{
    return a >= limit - b ? limit : a + b;
}

vsr_chunk vsr_plan_chunk(int64_t scene_begin, int64_t scene_end, int64_t keep_begin, int chunk,
                         int overlap)
{
    vsr_chunk c = {keep_begin, keep_begin, keep_begin, keep_begin};

    /* Invalid arguments give an empty chunk (keep_end == keep_begin): nothing to run. */
    if (chunk < 1 || overlap < 0 || keep_begin < scene_begin || keep_begin >= scene_end)
        return c;
    c.keep_end = add_clamped(keep_begin, chunk, scene_end);
    c.context_begin = keep_begin - scene_begin > overlap ? keep_begin - overlap : scene_begin;
    c.context_end = add_clamped(c.keep_end, overlap, scene_end);
    return c;
}

vsr_chunk vsr_plan_chunk_in_range(int64_t scene_begin, int64_t scene_end, int64_t range_end,
                                  int64_t keep_begin, int chunk, int overlap)
{
    vsr_chunk c = vsr_plan_chunk(scene_begin, range_end < scene_end ? range_end : scene_end,
                                 keep_begin, chunk, overlap);
    if (c.keep_end > c.keep_begin)
        c.context_end = add_clamped(c.keep_end, overlap, scene_end);
    return c;
}

size_t vsr_plan_build(int64_t frames, const int64_t *cuts, size_t ncuts, int chunk, int overlap,
                      vsr_chunk *out, size_t cap)
{
    size_t n = 0;
    size_t next_cut = 0;
    int64_t scene_begin = 0;

    if (frames < 1 || chunk < 1 || overlap < 0)
        return 0;
    while (scene_begin < frames) {
        /* The next usable cut ends this scene; unsorted, repeated or out-of-range ones are
         * skipped so a sloppy cut list can never make a scene empty or run backwards. */
        int64_t scene_end = frames;
        while (cuts && next_cut < ncuts) {
            int64_t cut = cuts[next_cut++];
            if (cut > scene_begin && cut < frames) {
                scene_end = cut;
                break;
            }
        }
        for (int64_t s = scene_begin; s < scene_end; s = add_clamped(s, chunk, scene_end)) {
            if (out && n < cap)
                out[n] = vsr_plan_chunk(scene_begin, scene_end, s, chunk, overlap);
            n++;
        }
        scene_begin = scene_end;
    }
    return n;
}
