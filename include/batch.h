/*
 * A batch: every video of the -i folders and files, in name order, into the folder -o as
 * STEM plus the codec's extension. Finished outputs are skipped without decoding, partial
 * ones resumed; a failed file does not stop the others. A table on stderr at the end, one
 * JSON record per file with --json.
 */
#ifndef VSR_BATCH_H
#define VSR_BATCH_H

#include "cli.h"
#include "pipeline.h"

/* The exit code: 0 when every video is done, 130 when stopped, else 1. */
int vsr_batch_run(const vsr_job *job, vsr_run_signal *stop);

#endif
