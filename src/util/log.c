#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "escape.h"
#include "vsr_types.h"

static int log_level = VSR_LOG_INFO;

void vsr_log_set_level(int level)
{
    log_level = level;
}

int vsr_log_get_level(void)
{
    return log_level;
}

void vsr_log(int level, const char *fmt, ...)
{
    if (level > log_level)
        return;
    va_list ap, again;
    va_start(ap, fmt);
    va_copy(again, ap);
    const int len = vsnprintf(NULL, 0, fmt, ap);
    char *message = len >= 0 ? malloc((size_t)len + 1) : NULL;
    if (message)
        vsnprintf(message, (size_t)len + 1, fmt, again);
    va_end(again);
    va_end(ap);
    /* One line whatever the names in it hold (every message is one line). */
    flockfile(stderr);
    fputs(level == VSR_LOG_WARN ? "vsrup: warning: " : "vsrup: ", stderr);
    vsr_write_escaped(stderr, message ? message : "(out of memory for a message)");
    fputc('\n', stderr);
    funlockfile(stderr);
    free(message);
}

void vsr_err_set(vsr_err *err, const char *fmt, ...)
{
    if (!err)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
    va_end(ap);
}
