#include "escape.h"

void vsr_write_escaped(FILE *f, const char *s)
{
    for (; *s; s++) {
        const unsigned char c = (unsigned char)*s;
        if (c >= 0x20 && c != 0x7f)
            fputc(c, f);
        else if (c == '\n')
            fputs("\\n", f);
        else if (c == '\r')
            fputs("\\r", f);
        else if (c == '\t')
            fputs("\\t", f);
        else
            fprintf(f, "\\x%02x", c);
    }
}
