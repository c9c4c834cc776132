/* fuzz_image_walk.c - libFuzzer target: the whole walker over a hostile memory image.
 *
 * The input is a loopscope memory image (seeds: the .img files in tests/data/images, recorded from real
 * CPython 3.8-3.13 processes). It is opened as a session and sampled twice (the second sample
 * exercises the code cache's validation), then twice more reading every 3.11+ thread from its own
 * batch (stackbatch.c: the chunk chain and the predictions of the samples before); every function
 * and string a sample names is looked up, and so is every thread's Python name (the Thread object
 * behind its outermost frame).
 * Any crash, sanitizer report, leak or hang is a finding.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "ls.h"
#include "pythread.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ls_session *s = NULL;
	char why[256];
	if (ls_session_open_image_bytes(data, size, &s, why, sizeof(why)) != 0)
		return 0;
	for (int round = 0; round < 4; round++) {
		const struct ls_sample *sample;
		ls_session_set_all_moving(s, round >= 2);
		if (ls_session_sample(s, &sample) != 0)
			continue;
		for (uint32_t t = 0; t < sample->nthreads; t++) {
			const struct ls_thread *th = &sample->threads[t];
			if (th->first_frame + th->nframes > sample->nframes)
				__builtin_trap();
			for (uint32_t i = 0; i < th->nframes; i++) {
				const struct ls_function *fn = ls_session_function(s, sample->frames[th->first_frame + i].function_id);
				if (!fn || !ls_session_string(s, fn->name_id, NULL) || !ls_session_string(s, fn->file_id, NULL))
					__builtin_trap();
			}
			char name[LS_PY_THREAD_NAME_MAX];
			if (ls_session_thread_python_name(s, t, name, sizeof(name)) == 0 && strlen(name) >= sizeof(name))
				__builtin_trap();
		}
	}
	ls_session_free(s);
	return 0;
}
