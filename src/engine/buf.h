/* buf.h - a growable byte buffer, the only string builder of the engine (exporters write into it).
 *
 * Invariant: data is NULL or holds len bytes followed by a NUL (so text output is a C string);
 * cap > len when data is not NULL. Functions return 0 or LS_ERR_NOMEM; after an error the buffer
 * keeps what it had.
 */
#ifndef LS_BUF_H
#define LS_BUF_H

#include <stddef.h>
#include <stdint.h>

struct ls_buf {
	char *data;
	size_t len, cap;
};

int ls_buf_reserve(struct ls_buf *buf, size_t extra);
int ls_buf_add(struct ls_buf *buf, const void *data, size_t len);
int ls_buf_add_str(struct ls_buf *buf, const char *s);
int ls_buf_printf(struct ls_buf *buf, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int ls_buf_add_byte(struct ls_buf *buf, uint8_t byte);
void ls_buf_release(struct ls_buf *buf);

#endif
