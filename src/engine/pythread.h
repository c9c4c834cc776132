/* pythread.h - the name a Python program gave a thread (threading.Thread.name), read out of the
 * target: CPython before 3.14 never tells the operating system, so /proc only knows "python3.x".
 *
 * A thread started by the threading module runs Thread._bootstrap(self) as its outermost frame;
 * self is that frame's first local, and the name is self's `_name` attribute: a str in the
 * instance's attributes, kept per version in a dict (3.8-3.10), a managed dict or its values
 * (3.11, 3.12: tagged pointers before the object) or values stored inline after the object
 * (3.13), with the keys shared in the class (ht_cached_keys). Every read is bounded and checked:
 * anything unexpected is "no name", never a wrong one.
 */
#ifndef LS_PYTHREAD_H
#define LS_PYTHREAD_H

#include <stddef.h>
#include <stdint.h>

#include "layout.h"
#include "proc.h"

#define LS_PY_THREAD_NAME_MAX 64 /* bytes of UTF-8 kept, NUL included (longer names are cut) */

/* 1 if loopscope knows how this version keeps instance attributes, else 0 (3.14 and later name
 * their OS threads themselves; free-threaded builds lay objects out differently). */
int ls_pythread_supported(const struct ls_layout *layout);

/* The `_name` of the object in the first local of the frame at frame_addr (a Thread._bootstrap
 * frame), as UTF-8 in buf (cap >= 8; cut at a character boundary to fit). 0; LS_ERR_UNSUPPORTED_VERSION;
 * LS_ERR_READ / LS_ERR_BAD_STRING when the memory is not what it should be; LS_ERR_NOT_STARTED
 * when the object has no `_name` str. */
int ls_pythread_name(struct ls_proc *proc, const struct ls_layout *layout, uint64_t frame_addr, char *buf,
		     size_t cap);

#endif
