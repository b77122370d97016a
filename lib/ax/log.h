//@ 01
/*
 * Logging for demos and servers: one line per event on standard error.
 *
 * Lines read `echo-blocking  0.012 info  accepted 127.0.0.1:40212`: the program, the
 * seconds since it started, the level and the message. AX_LOG=debug|info|warn|error
 * sets the lowest level shown (default info). Standard output stays free for a
 * program's real output, such as the `listening on` line that tests read.
 */
#ifndef AX_LOG_H
#define AX_LOG_H

enum ax_log_level { AX_LOG_DEBUG, AX_LOG_INFO, AX_LOG_WARN, AX_LOG_ERROR };

void ax_log(enum ax_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define ax_debug(...) ax_log(AX_LOG_DEBUG, __VA_ARGS__)
#define ax_info(...)  ax_log(AX_LOG_INFO, __VA_ARGS__)
#define ax_warn(...)  ax_log(AX_LOG_WARN, __VA_ARGS__)
#define ax_error(...) ax_log(AX_LOG_ERROR, __VA_ARGS__)

#endif
