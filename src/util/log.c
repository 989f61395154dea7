#include "log.h"

#include <stdarg.h>
#include <stdio.h>

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
    va_list ap;
    va_start(ap, fmt);
    fputs(level == VSR_LOG_WARN ? "vsrup: warning: " : "vsrup: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
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
