/* buf.c - the growable byte buffer (see buf.h). */
#include "buf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ls_error.h"

int ls_buf_reserve(struct ls_buf *buf, size_t extra)
{
	if (buf->data && buf->cap - buf->len > extra)
		return 0;
	if (extra > SIZE_MAX / 2 - buf->len)
		return LS_ERR_NOMEM;
	size_t cap = buf->cap ? buf->cap : 256;
	while (cap - buf->len <= extra)
		cap *= 2;
	char *data = realloc(buf->data, cap);
	if (!data)
		return LS_ERR_NOMEM;
	buf->data = data;
	buf->cap = cap;
	buf->data[buf->len] = 0;
	return 0;
}

int ls_buf_add(struct ls_buf *buf, const void *data, size_t len)
{
	int rc = ls_buf_reserve(buf, len);
	if (rc)
		return rc;
	if (len)
		memcpy(buf->data + buf->len, data, len);
	buf->len += len;
	buf->data[buf->len] = 0;
	return 0;
}

int ls_buf_add_str(struct ls_buf *buf, const char *s)
{
	return ls_buf_add(buf, s, strlen(s));
}

int ls_buf_add_byte(struct ls_buf *buf, uint8_t byte)
{
	return ls_buf_add(buf, &byte, 1);
}

int ls_buf_printf(struct ls_buf *buf, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return LS_ERR_INVALID_ARG;
	int rc = ls_buf_reserve(buf, (size_t)n);
	if (rc)
		return rc;
	va_start(ap, fmt);
	vsnprintf(buf->data + buf->len, buf->cap - buf->len, fmt, ap);
	va_end(ap);
	buf->len += (size_t)n;
	return 0;
}

void ls_buf_release(struct ls_buf *buf)
{
	free(buf->data);
	buf->data = NULL;
	buf->len = buf->cap = 0;
}
