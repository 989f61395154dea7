#include "report.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <json-c/json.h>

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

static json_object *string_or_empty(const char *s)
{
    return json_object_new_string(s ? s : "");
}

json_object *vsr_report_json_fixed3(double v)
{
    char text[64];
    snprintf(text, sizeof(text), "%.3f", v);
    return json_object_new_double_s(v, text);
}

static json_object *pair(int a, int b)
{
    json_object *array = json_object_new_array_ext(2);
    json_object_array_add(array, json_object_new_int(a));
    json_object_array_add(array, json_object_new_int(b));
    return array;
}

static void add(json_object *obj, const char *key, json_object *value)
{
    json_object_object_add(obj, key, value);
}

int vsr_report_json_save(json_object *doc, const char *path, vsr_err *err)
{
    const char *text = json_object_to_json_string_ext(
        doc, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED | JSON_C_TO_STRING_NOSLASHESCAPE);
    FILE *f = text ? fopen(path, "w") : NULL;
    int ok = f && fputs(text, f) >= 0 && fputc('\n', f) != EOF;
    if (f && fclose(f) != 0)
        ok = 0;
    if (!ok)
        vsr_err_set(err, "%s: cannot write the JSON report: %s", path,
                    text ? strerror(errno) : "out of memory");
    json_object_put(doc);
    return ok ? VSR_OK : VSR_ERROR;
}

static json_object *chunk_fit_json(const vsr_chunk_fit *fit)
{
    json_object *o = json_object_new_object();
    add(o, "memory", json_object_new_string(fit->device ? "device" : "host"));
    add(o, "per_frame", json_object_new_int64(fit->per_frame));
    add(o, "per_computed", json_object_new_int64(fit->per_computed));
    add(o, "per_kept", json_object_new_int64(fit->per_kept));
    add(o, "fixed", json_object_new_int64(fit->fixed));
    add(o, "budget", json_object_new_int64(fit->budget));
    add(o, "fits", json_object_new_boolean(fit->fits));
    add(o, "peers", json_object_new_int(fit->peers));
    add(o, "pending", json_object_new_int64(fit->pending));
    return o;
}

int vsr_report_write_json(const vsr_report *r, const char *path, vsr_err *err)
{
    json_object *o = json_object_new_object();
    add(o, "input", string_or_empty(r->input));
    add(o, "output", string_or_empty(r->output));
    add(o, "model", string_or_empty(r->engine.name));
    add(o, "model_file", string_or_empty(r->model_file));
    add(o, "arch", string_or_empty(r->engine.arch));
    add(o, "device", string_or_empty(r->engine.device));
    add(o, "precision", string_or_empty(r->engine.precision));
    add(o, "codec", string_or_empty(r->codec));
    add(o, "profile", string_or_empty(r->profile));
    add(o, "pix_fmt", string_or_empty(r->pix_fmt));
    add(o, "error", string_or_empty(r->error));
    add(o, "scale", json_object_new_int(r->engine.scale));
    add(o, "input_size", pair(r->in_w, r->in_h));
    add(o, "output_size", pair(r->out_w, r->out_h));
    add(o, "chunk", json_object_new_int(r->chunk));
    add(o, "overlap", json_object_new_int(r->overlap));
    add(o, "chunks", json_object_new_int64(r->chunks));
    add(o, "oom_retries", json_object_new_int64(r->oom_retries));
    /* Kept over computed frames of a chunk with full context: what the overlap costs. */
    add(o, "efficiency", vsr_report_json_fixed3(vsr_chunk_efficiency(r->chunk, r->overlap)));
    if (r->fit.chunk)
        add(o, "chunk_from_memory", chunk_fit_json(&r->fit));
    add(o, "frames_in", json_object_new_int64(r->frames_in));
    add(o, "frames_out", json_object_new_int64(r->frames_out));
    add(o, "damaged_frames", json_object_new_int64(r->damaged_frames));
    add(o, "decode_errors", json_object_new_int64(r->decode_errors));
    add(o, "streams_copied", json_object_new_int(r->streams_copied));
    add(o, "streams_skipped", json_object_new_int(r->streams_skipped));
    int64_t listed = r->scene_cuts < VSR_REPORT_MAX_CUTS ? r->scene_cuts : VSR_REPORT_MAX_CUTS;
    json_object *cuts = json_object_new_array_ext((int)listed);
    for (int64_t i = 0; i < listed; i++)
        json_object_array_add(cuts, json_object_new_int64(r->cut_frames[i]));
    add(o, "scene_cuts", cuts);
    add(o, "scene_cut_count", json_object_new_int64(r->scene_cuts));
    json_object *seconds = json_object_new_object();
    add(seconds, "total", vsr_report_json_fixed3(r->seconds_total));
    add(seconds, "decode", vsr_report_json_fixed3(r->seconds_decode));
    add(seconds, "engine", vsr_report_json_fixed3(r->seconds_engine));
    add(seconds, "encode", vsr_report_json_fixed3(r->seconds_encode));
    add(seconds, "mux", vsr_report_json_fixed3(r->seconds_mux));
    add(o, "seconds", seconds);
    double busy[VSR_STAGES];
    int bottleneck = vsr_report_busy(r, busy);
    json_object *stages = json_object_new_object();
    for (int i = 0; i < VSR_STAGES; i++)
        add(stages, vsr_stage_names[i], vsr_report_json_fixed3(busy[i]));
    add(o, "busy", stages);
    add(o, "bottleneck", json_object_new_string(vsr_stage_names[bottleneck]));
    add(o, "fps", vsr_report_json_fixed3(fps(r->frames_out, r->seconds_total)));
    add(o, "interrupted", json_object_new_boolean(r->interrupted));
    add(o, "output_damaged", json_object_new_boolean(r->output_damaged));
    add(o, "exit_code", json_object_new_int(r->exit_code));
    return vsr_report_json_save(o, path, err);
}

int vsr_report_write_join_json(const vsr_join_report *r, const char *path, vsr_err *err)
{
    json_object *o = json_object_new_object();
    add(o, "output", string_or_empty(r->output));
    add(o, "error", string_or_empty(r->error));
    json_object *parts = json_object_new_array_ext(r->stats.parts);
    for (int i = 0; i < r->stats.parts; i++)
        json_object_array_add(parts, string_or_empty(r->parts[i]));
    add(o, "parts", parts);
    add(o, "video_frames", json_object_new_int64(r->stats.video_frames));
    add(o, "streams", json_object_new_int(r->stats.streams));
    add(o, "gaps", json_object_new_int(r->stats.gaps));
    add(o, "exit_code", json_object_new_int(r->exit_code));
    return vsr_report_json_save(o, path, err);
}
