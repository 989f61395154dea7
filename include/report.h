/* What a run did: printed on stderr at the end and written as JSON with --json. */
#ifndef VSR_REPORT_H
#define VSR_REPORT_H

#include <stdint.h>

#include "chunk_fit.h"
#include "engine.h"
#include "join.h"

#define VSR_REPORT_MAX_CUTS 4096

typedef struct vsr_report {
    const char *input;
    const char *model_file; /* -m, or the default model's path */
    char output[4096];      /* where the file is now: the partial name if stopped, empty if none */
    const char *codec, *profile, *pix_fmt;
    vsr_engine_info engine;
    int in_w, in_h, out_w, out_h;
    int chunk, overlap;
    vsr_chunk_fit fit; /* how the chunk was chosen from memory; chunk 0 if it was not */
    int64_t frames_in, frames_out, damaged_frames, decode_errors;
    int64_t chunks, oom_retries;
    int64_t scene_cuts; /* count; the first VSR_REPORT_MAX_CUTS are listed */
    int64_t cut_frames[VSR_REPORT_MAX_CUTS];
    int streams_copied, streams_skipped;
    double seconds_total, seconds_decode, seconds_engine, seconds_encode, seconds_mux;
    int encoders; /* encoder threads; seconds_encode is summed over them */
    int interrupted;
    int output_damaged; /* its end could not be written (disk full, write error) */
    int exit_code;
    char error[VSR_ERR_SIZE];
} vsr_report;

/* What a --join did. */
typedef struct vsr_join_report {
    const char *output;
    const char *const *parts; /* stats.parts of them */
    vsr_join_stats stats;
    int exit_code;
    const char *error; /* empty when it worked */
} vsr_join_report;

/* The stages whose busy fractions the report gives, in pipeline order. */
enum { VSR_STAGE_READ, VSR_STAGE_ENGINE, VSR_STAGE_ENCODE, VSR_STAGE_MUX, VSR_STAGES };
extern const char *const vsr_stage_names[VSR_STAGES];
/* Fraction of the run's wall time each stage was working, in [0, 1]; encode is the average
 * over the encoder threads. Returns the busiest stage: the bottleneck. */
int vsr_report_busy(const vsr_report *report, double busy[VSR_STAGES]);
/* The same from each stage's busy seconds so far, `total` seconds into the run. */
int vsr_stages_busy(const double seconds[VSR_STAGES], int encoders, double total,
                    double busy[VSR_STAGES]);

void vsr_report_print(const vsr_report *report);
/* Returns VSR_OK, or VSR_ERROR with a message naming the file. */
int vsr_report_write_json(const vsr_report *report, const char *path, vsr_err *err);
int vsr_report_write_join_json(const vsr_join_report *report, const char *path, vsr_err *err);

/* Writes doc (json-c) to path, pretty-printed, and releases it. Returns VSR_OK, or VSR_ERROR
 * with a message naming the file. */
struct json_object;
int vsr_report_json_save(struct json_object *doc, const char *path, vsr_err *err);
/* v as a JSON number with three decimals: the reports' seconds, fps and fractions. */
struct json_object *vsr_report_json_fixed3(double v);

#endif
