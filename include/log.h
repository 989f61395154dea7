/* Logging to stderr. The level is the program's only global state. */
#ifndef VSR_LOG_H
#define VSR_LOG_H

enum vsr_log_level { VSR_LOG_QUIET = 0, VSR_LOG_ERROR, VSR_LOG_WARN, VSR_LOG_INFO, VSR_LOG_DEBUG };

void vsr_log_set_level(int level);
int vsr_log_get_level(void);
/* Prints "vsrup: <message>\n" (warnings as "vsrup: warning: ...") when level is enabled. */
void vsr_log(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
