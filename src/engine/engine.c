/*
 * Engine registry (a built-in resize or the simulator by name, otherwise a TorchScript
 * file) and the asynchronous interface over every engine.
 */
#include "engine.h"

#include "clock.h"
#include "locate.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifdef VSR_HAVE_TORCH
#include <dlfcn.h>

/* Loaded once, never unloaded (libtorch does not support it). Called from one thread. */
static void *torch_module(vsr_err *err)
{
    static void *module;
    if (module)
        return module;
    char path[PATH_MAX];
    if (vsr_locate_torch_module(path, sizeof(path)) < 0) {
        vsr_err_set(err, "vsrup_torch.so not found next to vsrup or in ../lib/vsrup (or "
                         "VSRUP_TORCH_MODULE): the TorchScript engine is not installed");
        return NULL;
    }
    if (!(module = dlopen(path, RTLD_NOW | RTLD_LOCAL)))
        vsr_err_set(err, "%s: cannot load the TorchScript engine: %s", path, dlerror());
    return module;
}

static void *torch_symbol(const char *name, vsr_err *err)
{
    void *module = torch_module(err);
    void *symbol = module ? dlsym(module, name) : NULL;
    if (module && !symbol)
        vsr_err_set(err, "the TorchScript engine module has no %s: %s", name, dlerror());
    return symbol;
}

const vsr_engine_ops *vsr_engine_torch_load(vsr_err *err)
{
    return torch_symbol("vsr_engine_torch_ops", err);
}

int vsr_engine_torch_describe(char *text, size_t size, vsr_err *err)
{
    void (*build_info)(char *, size_t) = NULL;
    void *symbol = torch_symbol("vsr_engine_torch_build_info", err);
    if (!symbol)
        return VSR_ERROR;
    memcpy(&build_info, &symbol, sizeof(build_info)); /* object to function pointer */
    build_info(text, size);
    return VSR_OK;
}
#else
static const char no_torch[] = "this vsrup was built without libtorch, so only the built-in "
                               "models bicubic, lanczos and sim:MS are available";

const vsr_engine_ops *vsr_engine_torch_load(vsr_err *err)
{
    vsr_err_set(err, "%s", no_torch);
    return NULL;
}

int vsr_engine_torch_describe(char *text, size_t size, vsr_err *err)
{
    (void)text;
    (void)size;
    vsr_err_set(err, "%s", no_torch);
    return VSR_ERROR;
}
#endif

int vsr_engine_is_builtin(const char *model)
{
    return !strcmp(model, "bicubic") || !strcmp(model, "lanczos") ||
           vsr_engine_sim_parse(model, NULL, NULL, NULL, NULL) != 0;
}

int vsr_engine_open(vsr_engine **engine, const vsr_engine_options *options, vsr_err *err)
{
    const vsr_engine_ops *ops;
    int sim = vsr_engine_sim_parse(options->model, NULL, NULL, NULL, err);
    if (sim < 0) {
        return VSR_ERROR;
    } else if (sim) {
        ops = &vsr_engine_sim_ops;
    } else if (vsr_engine_is_builtin(options->model)) {
        ops = &vsr_engine_resize_ops;
    } else if (access(options->model, R_OK) < 0) {
        /* Said before the engine's libraries are loaded, which takes a while. */
        vsr_err_set(err, "%s: %s", options->model, strerror(errno));
        return VSR_ERROR;
    } else if (!(ops = vsr_engine_torch_load(err))) {
        char reason[sizeof(err->msg)];
        snprintf(reason, sizeof(reason), "%s", err->msg);
        vsr_err_set(err, "%s: %s", options->model, reason);
        return VSR_ERROR;
    }
    vsr_engine *e = calloc(1, sizeof(*e));
    if (!e) {
        vsr_err_set(err, "out of memory");
        return VSR_ERROR;
    }
    e->ops = ops;
    e->options = *options;
    if (ops->open(e, options, err) < 0) {
        free(e);
        return VSR_ERROR;
    }
    *engine = e;
    return VSR_OK;
}

void vsr_engine_close(vsr_engine **engine)
{
    if (!*engine)
        return;
    (*engine)->ops->close(*engine);
    free(*engine);
    *engine = NULL;
}

/* A run-only engine runs at submit; collect hands back what it already did. */
int vsr_engine_submit(vsr_engine *e, const vsr_engine_chunk *c, vsr_err *err)
{
    if (e->ops->submit)
        return e->ops->submit(e, c, err);
    if (e->run_pending == VSR_ENGINE_MAX_IN_FLIGHT) {
        vsr_err_set(err, "%s: more than %d chunks submitted", e->info.name,
                    VSR_ENGINE_MAX_IN_FLIGHT);
        return VSR_ERROR;
    }
    double t0 = vsr_seconds();
    int ret = e->ops->run(e, c->in, c->n_in, c->keep_begin, c->keep_count, c->out, err);
    e->run_seconds += vsr_seconds() - t0;
    if (ret == VSR_OK)
        e->run_pending++;
    return ret;
}

int vsr_engine_collect(vsr_engine *e, vsr_err *err)
{
    if (e->ops->collect)
        return e->ops->collect(e, err);
    if (!e->run_pending) {
        vsr_err_set(err, "%s: nothing submitted to collect", e->info.name);
        return VSR_ERROR;
    }
    e->run_pending--;
    return VSR_OK;
}

int vsr_engine_max_in_flight(const vsr_engine *e)
{
    return e->ops->submit && e->info.asynchronous ? VSR_ENGINE_MAX_IN_FLIGHT : 1;
}

int vsr_engine_run(vsr_engine *e, const vsr_engine_chunk *c, vsr_err *err)
{
    int ret = vsr_engine_submit(e, c, err);
    return ret < 0 ? ret : vsr_engine_collect(e, err);
}

double vsr_engine_busy_seconds(vsr_engine *e)
{
    return e->ops->busy_seconds ? e->ops->busy_seconds(e) : e->run_seconds;
}
