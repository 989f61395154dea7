/*
 * One run of a job, with --resume: a partial output left by an earlier run of the same
 * command (NAME.partial.EXT and its journal) is continued from its last complete chunk
 * border, and the rest joined to it without re-encoding, so the result equals an
 * uninterrupted run. Every run keeps the journal beside its partial output.
 */
#ifndef VSR_RESUME_H
#define VSR_RESUME_H

#include "cli.h"
#include "pipeline.h"
#include "report.h"

/*
 * Runs job (whose journal field it sets). Returns an exit code: VSR_EXIT_USAGE when the
 * partial file was written by another input or other options (report->error says which).
 */
int vsr_resume_run(vsr_job *job, vsr_run_signal *stop, vsr_report *report);

#endif
