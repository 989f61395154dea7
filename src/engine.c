/* Engine registry: a built-in resize by name, otherwise a TorchScript file. */
#include "engine.h"

#include <stdlib.h>
#include <string.h>

static const vsr_engine_ops *engine_ops_for(const char *model)
{
    if (!strcmp(model, "bicubic") || !strcmp(model, "lanczos"))
        return &vsr_engine_resize_ops;
#ifdef VSR_HAVE_TORCH
    return &vsr_engine_torch_ops;
#else
    return NULL;
#endif
}

int vsr_engine_open(vsr_engine **engine, const vsr_engine_options *options, vsr_err *err)
{
    const vsr_engine_ops *ops = engine_ops_for(options->model);
    if (!ops) {
        vsr_err_set(err,
                    "%s: this vsrup was built without libtorch, so only the built-in "
                    "models bicubic and lanczos are available",
                    options->model);
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
