/* The unit tests' fixtures (fixture.h): shell commands, their output, temporary folders. */
#define _GNU_SOURCE /* popen, mkdtemp */
#include "fixture.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

const char *fixture_media(const char *name)
{
    static char path[1024];
    const char *shared = getenv("VSR_SHARED");
    snprintf(path, sizeof(path), "%s/media/%s", shared ? shared : "../shared", name);
    return path;
}

/* The command fmt makes, or NULL when it does not fit. */
static const char *command(char *cmd, size_t size, const char *fmt, va_list args)
{
    int n = vsnprintf(cmd, size, fmt, args);
    if (n < 0 || (size_t)n >= size) {
        fprintf(stderr, "fixture: command too long: %s...\n", cmd);
        return NULL;
    }
    return cmd;
}

int fixture_run(const char *fmt, ...)
{
    char cmd[8192];
    va_list args;
    va_start(args, fmt);
    const char *c = command(cmd, sizeof(cmd), fmt, args);
    va_end(args);
    int ok = c && system(c) == 0;
    if (c && !ok)
        fprintf(stderr, "fixture: failed: %s\n", c);
    return ok;
}

static FILE *vpipe(char *cmd, size_t size, const char *fmt, va_list args)
{
    const char *c = command(cmd, size, fmt, args);
    FILE *p = c ? popen(c, "r") : NULL;
    if (c && !p)
        fprintf(stderr, "fixture: cannot start: %s\n", c);
    return p;
}

FILE *fixture_pipe(const char *fmt, ...)
{
    char cmd[8192];
    va_list args;
    va_start(args, fmt);
    FILE *p = vpipe(cmd, sizeof(cmd), fmt, args);
    va_end(args);
    return p;
}

static char *read_all(FILE *p, size_t *size)
{
    size_t cap = 1 << 16, len = 0, n;
    char *buf = malloc(cap + 1);
    while (buf && (n = fread(buf + len, 1, cap - len, p)) > 0) {
        len += n;
        if (len == cap) {
            char *bigger = realloc(buf, 2 * cap + 1);
            if (!bigger)
                free(buf);
            buf = bigger;
            cap *= 2;
        }
    }
    if (buf)
        buf[len] = '\0';
    if (size)
        *size = len;
    return buf;
}

static char *voutput(size_t *size, const char *fmt, va_list args)
{
    char cmd[8192];
    FILE *p = vpipe(cmd, sizeof(cmd), fmt, args);
    if (!p)
        return NULL;
    char *buf = read_all(p, size);
    pclose(p);
    return buf;
}

char *fixture_output(size_t *size, const char *fmt, ...)
{
    va_list args;
    va_start(args, fmt);
    char *buf = voutput(size, fmt, args);
    va_end(args);
    return buf;
}

int fixture_values(int64_t *values, int max, int64_t na, const char *fmt, ...)
{
    va_list args;
    va_start(args, fmt);
    char *text = voutput(NULL, fmt, args);
    va_end(args);
    int n = 0;
    for (char *line = text; line && *line && n < max; n++) {
        values[n] = strncmp(line, "N/A", 3) ? strtoll(line, NULL, 10) : na;
        char *next = strchr(line, '\n');
        line = next ? next + 1 : line + strlen(line);
    }
    free(text);
    return n;
}

int fixture_temp_dir(char *dir, size_t size, const char *name)
{
    int n = snprintf(dir, size, "%s/vsr_%s_XXXXXX", P_tmpdir, name);
    if (n < 0 || (size_t)n >= size || !mkdtemp(dir)) {
        perror("fixture: mkdtemp");
        return 0;
    }
    return 1;
}

int fixture_remove_dir(const char *dir)
{
    return fixture_run("chmod -R u+w '%s' && rm -rf '%s'", dir, dir);
}
