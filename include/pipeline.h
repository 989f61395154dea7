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

/* Runs the job; returns an exit code (VSR_EXIT_*). `stop` becomes non-zero on SIGINT/SIGTERM. */
int vsr_pipeline_run(const vsr_job *job, volatile sig_atomic_t *stop, vsr_report *report);

#endif
