/* image_format.h - the recorded memory image file, shared by its writer (proc.c) and reader
 * (proc_image.c). All integers little endian.
 *
 *   magic        8 bytes "LSIMAGE1"
 *   facts        u32 pid, u32 hexversion, u64 runtime_addr, u64 code_type_addr, u64 frame_type_addr,
 *                str version, str binary               (str = u32 length + bytes, no NUL)
 *   tids         u32 count, count x u32               (the kernel thread ids listed)
 *   threads      u32 count, count x {u32 tid, u8 state, u8 has_cpu_time, u64 cpu_ns, 16 bytes name}
 *   regions      u32 count, count x {u64 addr, u32 len, len bytes}   sorted, non-overlapping
 */
#ifndef LS_IMAGE_FORMAT_H
#define LS_IMAGE_FORMAT_H

#include <stdint.h>

#include "proc.h"

#define LS_IMAGE_MAGIC "LSIMAGE1"
#define LS_IMAGE_MAGIC_LEN 8
#define LS_IMAGE_MAX_THREADS 65536
#define LS_IMAGE_MAX_REGIONS (1u << 20)
#define LS_IMAGE_MAX_STRING 4096

struct image_thread {
	int32_t tid;
	struct ls_os_thread info;
};

#endif
