#include "report.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "log.h"

static double fps(int64_t frames, double seconds)
{
    return seconds > 0 ? frames / seconds : 0;
}

const char *const vsr_stage_names[VSR_STAGES] = {"read", "engine", "encode", "mux"};

static double fraction(double seconds, double total)
{
    double f = total > 0 ? seconds / total : 0;
    return f < 0 ? 0 : f > 1 ? 1 : f;
}

int vsr_stages_busy(const double seconds[VSR_STAGES], int encoders, double total,
                    double busy[VSR_STAGES])
{
    int busiest = 0;
    for (int i = 0; i < VSR_STAGES; i++) {
        double stage_total = total * (i == VSR_STAGE_ENCODE && encoders > 0 ? encoders : 1);
        busy[i] = fraction(seconds[i], stage_total);
        if (busy[i] > busy[busiest])
            busiest = i;
    }
    return busiest;
}

int vsr_report_busy(const vsr_report *r, double busy[VSR_STAGES])
{
    const double seconds[VSR_STAGES] = {r->seconds_decode, r->seconds_engine, r->seconds_encode,
                                        r->seconds_mux};
    return vsr_stages_busy(seconds, r->encoders, r->seconds_total, busy);
}

void vsr_report_print(const vsr_report *r)
{
    /* A run that failed before any frame has nothing to report beyond its error. */
    int started = r->frames_in > 0 || r->frames_out > 0 || r->exit_code != VSR_EXIT_FAILURE;
    if (vsr_log_get_level() < VSR_LOG_INFO || !r->engine.name[0] || !started)
        return;
    vsr_log(VSR_LOG_INFO,
            "frames in %lld, out %lld, damaged %lld, decode errors %lld, scene cuts %lld",
            (long long)r->frames_in, (long long)r->frames_out, (long long)r->damaged_frames,
            (long long)r->decode_errors, (long long)r->scene_cuts);
    vsr_log(
        VSR_LOG_INFO,
        "time %.2f s (%.2f fps): decode+convert %.2f s, %s %.2f s, encode %.2f s (all encoders)",
        r->seconds_total, fps(r->frames_out, r->seconds_total), r->seconds_decode, r->engine.name,
        r->seconds_engine, r->seconds_encode);
    double busy[VSR_STAGES];
    int bottleneck = vsr_report_busy(r, busy);
    vsr_log(VSR_LOG_INFO,
            "busy: read %.0f%%, engine %.0f%%, encode %.0f%% (of %d encoders), mux %.0f%%; "
            "bottleneck: %s",
            100 * busy[VSR_STAGE_READ], 100 * busy[VSR_STAGE_ENGINE], 100 * busy[VSR_STAGE_ENCODE],
            r->encoders, 100 * busy[VSR_STAGE_MUX], vsr_stage_names[bottleneck]);
    if (!r->output[0])
        return;
    if (r->exit_code == VSR_EXIT_OK)
        vsr_log(VSR_LOG_INFO, "wrote %s", r->output);
    else if (r->output_damaged)
        vsr_log(VSR_LOG_INFO, "partial output kept in %s, damaged: its end could not be written",
                r->output);
    else
        vsr_log(VSR_LOG_INFO, "partial output kept in %s: %lld frames, playable", r->output,
                (long long)r->frames_out);
}

void vsr_report_json_string(FILE *f, const char *s)
{
    fputc('"', f);
    for (; s && *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            fprintf(f, "\\%c", c);
        else if (c < 0x20)
            fprintf(f, "\\u%04x", c);
        else
            fputc(c, f);
    }
    fputc('"', f);
}

static void json_field_string(FILE *f, const char *key, const char *value)
{
    fprintf(f, "  \"%s\": ", key);
    vsr_report_json_string(f, value);
    fputs(",\n", f);
}

static FILE *json_open(const char *path, vsr_err *err)
{
    FILE *f = fopen(path, "w");
    if (!f)
        vsr_err_set(err, "%s: cannot write the JSON report: %s", path, strerror(errno));
    else
        fputs("{\n", f);
    return f;
}

static int json_close(FILE *f, const char *path, vsr_err *err)
{
    if (fclose(f) != 0) {
        vsr_err_set(err, "%s: cannot write the JSON report: %s", path, strerror(errno));
        return VSR_ERROR;
    }
    return VSR_OK;
}

int vsr_report_write_json(const vsr_report *r, const char *path, vsr_err *err)
{
    FILE *f = json_open(path, err);
    if (!f)
        return VSR_ERROR;
    json_field_string(f, "input", r->input);
    json_field_string(f, "output", r->output);
    json_field_string(f, "model", r->engine.name);
    json_field_string(f, "model_file", r->model_file);
    json_field_string(f, "arch", r->engine.arch);
    json_field_string(f, "device", r->engine.device);
    json_field_string(f, "precision", r->engine.precision);
    json_field_string(f, "codec", r->codec);
    json_field_string(f, "profile", r->profile);
    json_field_string(f, "pix_fmt", r->pix_fmt);
    json_field_string(f, "error", r->error);
    fprintf(f, "  \"scale\": %d,\n  \"input_size\": [%d, %d],\n  \"output_size\": [%d, %d],\n",
            r->engine.scale, r->in_w, r->in_h, r->out_w, r->out_h);
    fprintf(f,
            "  \"chunk\": %d,\n  \"overlap\": %d,\n  \"chunks\": %lld,\n  \"oom_retries\": %lld,\n",
            r->chunk, r->overlap, (long long)r->chunks, (long long)r->oom_retries);
    /* Kept over computed frames of a chunk with full context: what the overlap costs. */
    fprintf(f, "  \"efficiency\": %.3f,\n", vsr_chunk_efficiency(r->chunk, r->overlap));
    if (r->fit.chunk)
        fprintf(f,
                "  \"chunk_from_memory\": {\"memory\": \"%s\", \"per_frame\": %lld, "
                "\"per_computed\": %lld, \"per_kept\": %lld, \"fixed\": %lld, \"budget\": %lld, "
                "\"fits\": %s, \"peers\": %d, \"pending\": %lld},\n",
                r->fit.device ? "device" : "host", (long long)r->fit.per_frame,
                (long long)r->fit.per_computed, (long long)r->fit.per_kept, (long long)r->fit.fixed,
                (long long)r->fit.budget, r->fit.fits ? "true" : "false", r->fit.peers,
                (long long)r->fit.pending);
    fprintf(f, "  \"frames_in\": %lld,\n  \"frames_out\": %lld,\n", (long long)r->frames_in,
            (long long)r->frames_out);
    fprintf(f, "  \"damaged_frames\": %lld,\n  \"decode_errors\": %lld,\n",
            (long long)r->damaged_frames, (long long)r->decode_errors);
    fprintf(f, "  \"streams_copied\": %d,\n  \"streams_skipped\": %d,\n", r->streams_copied,
            r->streams_skipped);
    fprintf(f, "  \"scene_cuts\": [");
    int64_t listed = r->scene_cuts < VSR_REPORT_MAX_CUTS ? r->scene_cuts : VSR_REPORT_MAX_CUTS;
    for (int64_t i = 0; i < listed; i++)
        fprintf(f, "%s%lld", i ? ", " : "", (long long)r->cut_frames[i]);
    fprintf(f, "],\n  \"scene_cut_count\": %lld,\n", (long long)r->scene_cuts);
    fprintf(f,
            "  \"seconds\": {\"total\": %.3f, \"decode\": %.3f, \"engine\": %.3f, "
            "\"encode\": %.3f, \"mux\": %.3f},\n",
            r->seconds_total, r->seconds_decode, r->seconds_engine, r->seconds_encode,
            r->seconds_mux);
    double busy[VSR_STAGES];
    int bottleneck = vsr_report_busy(r, busy);
    fputs("  \"busy\": {", f);
    for (int i = 0; i < VSR_STAGES; i++)
        fprintf(f, "%s\"%s\": %.3f", i ? ", " : "", vsr_stage_names[i], busy[i]);
    fputs("},\n", f);
    json_field_string(f, "bottleneck", vsr_stage_names[bottleneck]);
    fprintf(f, "  \"fps\": %.3f,\n", fps(r->frames_out, r->seconds_total));
    fprintf(f, "  \"interrupted\": %s,\n  \"output_damaged\": %s,\n  \"exit_code\": %d\n}\n",
            r->interrupted ? "true" : "false", r->output_damaged ? "true" : "false", r->exit_code);
    return json_close(f, path, err);
}

int vsr_report_write_join_json(const vsr_join_report *r, const char *path, vsr_err *err)
{
    FILE *f = json_open(path, err);
    if (!f)
        return VSR_ERROR;
    json_field_string(f, "output", r->output);
    json_field_string(f, "error", r->error);
    fputs("  \"parts\": [", f);
    for (int i = 0; i < r->stats.parts; i++) {
        fputs(i ? ", " : "", f);
        vsr_report_json_string(f, r->parts[i]);
    }
    fprintf(f, "],\n  \"video_frames\": %lld,\n  \"streams\": %d,\n  \"gaps\": %d,\n",
            (long long)r->stats.video_frames, r->stats.streams, r->stats.gaps);
    fprintf(f, "  \"exit_code\": %d\n}\n", r->exit_code);
    return json_close(f, path, err);
}
