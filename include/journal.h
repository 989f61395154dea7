/*
 * The journal beside a partial output (NAME.partial.EXT.vsrup): what wrote the partial file
 * (the input's identity, the options that change the output, the chunk and overlap used) and
 * the chunk borders reached, one line each, synced to disk as they come. A partial file of a
 * killed run may lack its index; the journal says whether it may be continued and where.
 */
#ifndef VSR_JOURNAL_H
#define VSR_JOURNAL_H

#include <stdint.h>

#include "vsr_types.h"

struct vsr_job;
typedef struct vsr_journal vsr_journal;

/* "NAME.partial.EXT.vsrup" for output NAME.EXT (malloc'd), or NULL. */
char *vsr_journal_name(const char *output);

/*
 * A journal to be written at `path` for `job` once the run has its chunk (vsr_journal_start):
 * a new one, or, with `base` > 0, the one of a partial file continued after `base` frames
 * (borders are then counted from the partial file's first frame).
 */
vsr_journal *vsr_journal_alloc(const char *path, const struct vsr_job *job, int64_t base);
/* Writes the header (or opens for appending); the file is created only now. */
int vsr_journal_start(vsr_journal *j, int chunk, int overlap, vsr_err *err);
/* `frames` of the run are past a chunk border (counted from the run's first frame). */
int vsr_journal_border(vsr_journal *j, int64_t frames, vsr_err *err);
void vsr_journal_free(vsr_journal **j);

typedef struct vsr_journal_state {
    int chunk, overlap;
    int64_t *borders; /* ascending frame counts, malloc'd */
    int nb_borders;
} vsr_journal_state;

/*
 * Reads the journal at `path` and checks it against `job`: VSR_OK with the chunk used and the
 * borders reached, or VSR_ERROR with a message naming what differs (another input, another
 * option) or why it cannot be read.
 */
int vsr_journal_read(const char *path, const struct vsr_job *job, vsr_journal_state *state,
                     vsr_err *err);
void vsr_journal_state_free(vsr_journal_state *state);

#endif
