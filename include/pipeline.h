/*
 * The running program: reader thread -> frame queue -> chunk scheduler + engine (this
 * thread) -> writer (parallel encoders + muxer), with copied packets going straight from
 * the reader to the muxer. Cancellation, progress and the final report live here.
 */
#ifndef VSR_PIPELINE_H
#define VSR_PIPELINE_H

#include <signal.h>

#include "cli.h"
#include "report.h"

/* Between the run and its signal handler: the handler sets `stop`; the run says which
 * chunks a stop still waits for, so that a first Ctrl-C can tell the user. */
typedef struct vsr_run_signal {
    volatile sig_atomic_t stop;        /* the signal that asked to stop; 0 while none */
    volatile sig_atomic_t first, last; /* chunks in flight, numbered from 1; 0 when none */
    volatile sig_atomic_t frames;      /* the frames they keep */
} vsr_run_signal;

/* Runs the job; returns an exit code (VSR_EXIT_*). sig->stop becomes non-zero on
 * SIGINT/SIGTERM/SIGHUP: the chunks in flight are finished, the file is closed playable. */
int vsr_pipeline_run(const vsr_job *job, vsr_run_signal *sig, vsr_report *report);

#endif
