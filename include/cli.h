/* Command-line options into one job description, validated with clear messages. */
#ifndef VSR_CLI_H
#define VSR_CLI_H

#include <stdint.h>

#include "codecs.h"
#include "engine.h"
#include "vsr_types.h"

enum vsr_scene_cut_mode { VSR_SCENE_CUTS_AUTO = 0, VSR_SCENE_CUTS_OFF, VSR_SCENE_CUTS_FILE };

#define VSR_CLI_MAX_INPUTS 4096

typedef struct vsr_job {
    const char *input, *output;
    /* batch: several -i (files or folders) into the folder -o; input is the first */
    const char *inputs[VSR_CLI_MAX_INPUTS];
    int nb_inputs, batch;
    /* engine */
    const char *model;        /* "bicubic", "lanczos" or a TorchScript path */
    char default_model[4096]; /* where model points when -m was not given */
    int scale;                /* built-in engines */
    const char *device;
    enum vsr_precision precision;
    int cuda_graphs;
    int compute_threads;
    int chunk, overlap;   /* 0 / -1 = choose */
    int64_t memory_limit; /* bytes a chunk may use; 0 = a share of what is free */
    enum vsr_scene_cut_mode scene_cuts;
    const char *scene_cuts_file;
    /* output */
    enum vsr_codec codec;
    const char *profile, *pix_fmt; /* NULL = default */
    vsr_output_format format;      /* resolved from the three above */
    int encoders;
    int overwrite;
    int copy_audio, copy_subtitles;
    /* range */
    int64_t start_frame, max_frames;
    int keep_timestamps;
    int resume; /* continue NAME.partial.EXT of an earlier run of the same command */
    /* chunk borders reached are written here (set by the caller of the pipeline), or NULL */
    struct vsr_journal *journal;
    /* --join: the parts to put together into output, in order (input is NULL) */
    const char *const *join_parts;
    int join_count;
    /* reporting */
    int quiet;
    int verbose;
    const char *json_path;
} vsr_job;

enum { VSR_CLI_RUN = 0, VSR_CLI_EXIT = 1 }; /* EXIT: --help or --version was printed */

/*
 * Parses argv into job. Returns VSR_CLI_RUN, VSR_CLI_EXIT, or VSR_ERROR with a message in
 * err (a usage error: exit code 2).
 */
int vsr_cli_parse(int argc, char **argv, vsr_job *job, vsr_err *err);
void vsr_cli_usage(void);

#endif
