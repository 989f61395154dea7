/* Names from the user (files, models) printed safely. */
#ifndef VSR_ESCAPE_H
#define VSR_ESCAPE_H

#include <stdio.h>

/*
 * Writes s to f with control characters escaped as \n, \r, \t or \xHH: a file name can
 * neither break a message into lines nor send escape sequences to the terminal.
 */
void vsr_write_escaped(FILE *f, const char *s);

#endif
