/*
 * The chunk plan (DESIGN.md): pure functions, no I/O.
 * A chunk runs frames [context_begin, context_end) and keeps [keep_begin, keep_end).
 * Chunks never cross scene borders; inside a scene they start at the scene's first
 * frame and step by `chunk` frames, with `overlap` context frames on each side.
 */
#ifndef VSR_PLAN_H
#define VSR_PLAN_H

#include <stddef.h>
#include <stdint.h>

typedef struct vsr_chunk {
    int64_t context_begin, keep_begin, keep_end, context_end;
} vsr_chunk;

#define VSR_SCENE_END_UNKNOWN INT64_MAX

/* Defaults for --chunk and --overlap; the reasoning is in docs/CHUNKS.md. */
#define VSR_PLAN_DEFAULT_CHUNK 100
#define VSR_PLAN_DEFAULT_OVERLAP 10

/*
 * The chunk that keeps frames from keep_begin on, inside the scene
 * [scene_begin, scene_end). scene_end may be VSR_SCENE_END_UNKNOWN while streaming:
 * the result is then valid as long as the scene really extends to context_end.
 * Bad arguments (chunk < 1, overlap < 0, keep_begin outside the scene) give an empty
 * chunk: all four fields equal keep_begin.
 */
vsr_chunk vsr_plan_chunk(int64_t scene_begin, int64_t scene_end, int64_t keep_begin, int chunk,
                         int overlap);

/*
 * The same chunk when frames from range_end on are context only (after a --frames range,
 * with their own scene borders): kept frames stop at range_end and the context after
 * them is still up to `overlap` frames inside the scene. With a range of whole chunks it
 * is the chunk that a run over all frames would run, so segments join seamlessly.
 */
vsr_chunk vsr_plan_chunk_in_range(int64_t scene_begin, int64_t scene_end, int64_t range_end,
                                  int64_t keep_begin, int chunk, int overlap);

/*
 * The whole plan for `frames` frames with scene cuts `cuts` (frame numbers that start a
 * new scene, ascending; 0 and out-of-range entries are ignored). Writes at most `cap`
 * chunks to `out` (which may be NULL) and returns how many chunks the plan has:
 * 0 when frames < 1, chunk < 1 or overlap < 0.
 */
size_t vsr_plan_build(int64_t frames, const int64_t *cuts, size_t ncuts, int chunk, int overlap,
                      vsr_chunk *out, size_t cap);

#endif
