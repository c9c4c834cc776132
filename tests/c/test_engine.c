/* test_engine.c - C tests of the walker over recorded memory images, and of the small tables.
 *
 * The golden images in tests/data/images were recorded from real CPython processes of every
 * version (tools/record_images.py); each replay must print exactly its .expected file, twice in a
 * row (determinism), and the samples after a session's first (which read what the first found in
 * one speculative batch) must print the same. Then every image is cut short and bit-flipped in many places: the walker must
 * answer with an error or a sample, never crash, hang or leak (this file also runs under ASan and
 * UBSan). Prints "N passed, N failed"; exits non-zero on failure.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "functab.h"
#include "ls.h"
#include "maps.h"
#include "pyobj.h"
#include "pythread.h"
#include "strtab.h"
#include "target.h"

#ifndef LS_TEST_DATA_DIR
#define LS_TEST_DATA_DIR "tests/data"
#endif

static int passed, failed;

#define CHECK(cond)                                                                                 \
	do {                                                                                        \
		if (cond) {                                                                         \
			passed++;                                                                   \
		} else {                                                                            \
			failed++;                                                                   \
			fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond);    \
		}                                                                                   \
	} while (0)

static const char *data_dir(void)
{
	const char *env = getenv("LS_TEST_DATA_DIR");
	return env && *env ? env : LS_TEST_DATA_DIR;
}

static char *read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	long size = ftell(f);
	fseek(f, 0, SEEK_SET);
	char *buf = malloc((size_t)size + 1);
	if (buf && fread(buf, 1, (size_t)size, f) != (size_t)size) {
		free(buf);
		buf = NULL;
	}
	fclose(f);
	if (buf) {
		buf[size] = 0;
		*len = (size_t)size;
	}
	return buf;
}

/* Render a sample in the .expected format of tools/record_images.py: "thread N NAME" (the name the
 * program gave it, "-" when it has none we can read), then one "  function|file|line" per frame. */
static char *render(struct ls_session *s, const struct ls_sample *sample)
{
	size_t cap = 1 << 16, len = 0;
	char *out = malloc(cap);
	for (uint32_t t = 0; out && t < sample->nthreads; t++) {
		const struct ls_thread *th = &sample->threads[t];
		char line[4096 * 3], py_name[LS_PY_THREAD_NAME_MAX];
		if (ls_session_thread_python_name(s, t, py_name, sizeof(py_name)) != 0 || !py_name[0])
			snprintf(py_name, sizeof(py_name), "-");
		int n = snprintf(line, sizeof(line), "thread %u %s\n", t, py_name);
		for (uint32_t i = 0; i <= th->nframes; i++) {
			if (len + (size_t)n + 1 > cap) {
				cap *= 2;
				char *grown = realloc(out, cap);
				if (!grown) {
					free(out);
					return NULL;
				}
				out = grown;
			}
			memcpy(out + len, line, (size_t)n);
			len += (size_t)n;
			if (i == th->nframes)
				break;
			const struct ls_frame *f = &sample->frames[th->first_frame + i];
			const struct ls_function *fn = ls_session_function(s, f->function_id);
			const char *name = fn ? ls_session_string(s, fn->name_id, NULL) : "?";
			const char *file = fn ? ls_session_string(s, fn->file_id, NULL) : "?";
			n = snprintf(line, sizeof(line), "  %s|%s|%d\n", name, file, f->line);
		}
	}
	if (out)
		out[len] = 0;
	return out;
}

static void test_engine__golden_image(const char *dir, const char *stem)
{
	char path[2048], expected_path[2048], why[256];
	snprintf(path, sizeof(path), "%s/%s.img", dir, stem);
	snprintf(expected_path, sizeof(expected_path), "%s/%s.expected", dir, stem);
	size_t expected_len;
	char *expected = read_file(expected_path, &expected_len);
	CHECK(expected != NULL);
	char *first = NULL;
	for (int round = 0; round < 2; round++) {
		struct ls_session *s = NULL;
		int rc = ls_session_open_image(path, &s, why, sizeof(why));
		CHECK(rc == 0);
		if (rc) {
			fprintf(stderr, "  %s: %s (%s)\n", stem, ls_error_message(rc), why);
			break;
		}
		const struct ls_sample *sample;
		rc = ls_session_sample(s, &sample);
		CHECK(rc == 0);
		if (rc == 0) {
			CHECK(sample->torn_threads == 0);
			/* later samples read what the first one found in one batch: they must agree */
			char *text0 = render(s, sample);
			for (int again = 0; again < 2 && text0; again++) {
				const struct ls_sample *next;
				CHECK(ls_session_sample(s, &next) == 0);
				char *text1 = render(s, next);
				CHECK(text1 && strcmp(text0, text1) == 0);
				if (text1 && strcmp(text0, text1) != 0)
					fprintf(stderr, "  %s sample %d differs:\n%s\n", stem, again + 2, text1);
				free(text1);
			}
			free(text0);
			struct ls_session_stats st;
			ls_session_get_stats(s, &st);
			CHECK(st.batched_thread_lists >= 2);
			rc = ls_session_sample(s, &sample);
			CHECK(rc == 0);
		}
		if (rc == 0) {
			char *text = render(s, sample);
			CHECK(text && expected && strcmp(text, expected) == 0);
			if (text && expected && strcmp(text, expected) != 0)
				fprintf(stderr, "  %s replay differs:\n%s\n--- expected:\n%s\n", stem, text, expected);
			if (round == 0)
				first = text;
			else {
				CHECK(first && text && strcmp(first, text) == 0); /* deterministic */
				free(text);
			}
		}
		if (rc == 0 && round == 0) {
			/* the same moment read from each thread's own batch (3.11+, stackbatch.c) */
			ls_session_set_all_moving(s, 1);
			for (int again = 0; again < 2; again++) {
				const struct ls_sample *own;
				CHECK(ls_session_sample(s, &own) == 0);
				char *text = render(s, own);
				CHECK(text && expected && strcmp(text, expected) == 0);
				if (text && expected && strcmp(text, expected) != 0)
					fprintf(stderr, "  %s from own batches differs:\n%s\n", stem, text);
				free(text);
			}
			struct ls_session_stats st;
			ls_session_get_stats(s, &st);
			if (ls_session_target(s)->layout.minor >= 11)
				CHECK(st.own_batches >= 2);
			ls_session_set_all_moving(s, 0);
		}
		ls_session_free(s);
	}
	free(first);
	free(expected);
}

/* Damage an image many ways; every outcome but a crash is fine. Returns the samples that worked. */
static int damaged_replays(const uint8_t *image, size_t len)
{
	int ok = 0;
	uint8_t *copy = malloc(len);
	if (!copy)
		return 0;
	char why[256];
	/* cut short */
	for (size_t cut = 0; cut < len; cut += len / 97 + 1) {
		struct ls_session *s;
		if (ls_session_open_image_bytes(image, cut, &s, why, sizeof(why)) == 0) {
			const struct ls_sample *sample;
			ok += ls_session_sample(s, &sample) == 0;
			ls_session_free(s);
		}
	}
	/* flip bytes, deterministically spread over the whole file */
	uint32_t seed = 12345;
	for (int round = 0; round < 300; round++) {
		memcpy(copy, image, len);
		for (int k = 0; k < 8; k++) {
			seed = seed * 1103515245u + 12345u;
			size_t at = (seed >> 8) % len;
			copy[at] ^= (uint8_t)(1u << (seed % 8));
			if (k == 0)
				copy[at] = (uint8_t)(seed >> 16);
		}
		struct ls_session *s;
		if (ls_session_open_image_bytes(copy, len, &s, why, sizeof(why)) == 0) {
			const struct ls_sample *sample;
			ok += ls_session_sample(s, &sample) == 0;
			ok += ls_session_sample(s, &sample) == 0;
			ls_session_free(s);
		}
	}
	free(copy);
	return ok;
}

static void test_engine__images(void)
{
	char dir[1024];
	snprintf(dir, sizeof(dir), "%s/images", data_dir());
	DIR *d = opendir(dir);
	CHECK(d != NULL);
	if (!d)
		return;
	int seen = 0;
	struct dirent *e;
	while ((e = readdir(d))) {
		size_t n = strlen(e->d_name);
		if (n < 5 || strcmp(e->d_name + n - 4, ".img") != 0)
			continue;
		char stem[256];
		snprintf(stem, sizeof(stem), "%.*s", (int)(n - 4), e->d_name);
		test_engine__golden_image(dir, stem);
		char path[2048];
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		size_t len;
		char *image = read_file(path, &len);
		CHECK(image != NULL);
		if (image) {
			int ok = damaged_replays((const uint8_t *)image, len);
			printf("  %s: %zu bytes, %d of the damaged replays still sampled\n", stem, len, ok);
		}
		free(image);
		seen++;
	}
	closedir(d);
	CHECK(seen >= 6); /* 3.8 .. 3.13 at least */
}

static void test_engine__not_an_image(void)
{
	struct ls_session *s = NULL;
	char why[64];
	const uint8_t junk[] = "LSIMAGE0 not really";
	CHECK(ls_session_open_image_bytes(junk, sizeof(junk), &s, why, sizeof(why)) == LS_ERR_BAD_IMAGE);
	CHECK(ls_session_open_image_bytes(junk, 0, &s, why, sizeof(why)) == LS_ERR_BAD_IMAGE);
	CHECK(ls_session_open_image("/nonexistent/image", &s, why, sizeof(why)) == LS_ERR_IO);
}

static void test_engine__strtab(void)
{
	struct ls_strtab tab;
	CHECK(ls_strtab_init(&tab) == 0);
	CHECK(ls_strtab_intern(&tab, "", 0) == 0);
	int64_t a = ls_strtab_intern(&tab, "alpha", 5);
	int64_t b = ls_strtab_intern(&tab, "beta", 4);
	CHECK(a > 0 && b > 0 && a != b);
	CHECK(ls_strtab_intern(&tab, "alpha!", 5) == a); /* only len bytes count */
	char name[32];
	for (int i = 0; i < 10000; i++) { /* growth keeps ids stable */
		int n = snprintf(name, sizeof(name), "s%d", i);
		CHECK(ls_strtab_intern(&tab, name, (size_t)n) == 3 + i);
	}
	CHECK(strcmp(ls_strtab_get(&tab, (uint32_t)b, NULL), "beta") == 0);
	CHECK(ls_strtab_intern(&tab, "s9999", 5) == 3 + 9999);
	CHECK(ls_strtab_get(&tab, 1u << 30, NULL) == NULL);
	ls_strtab_release(&tab);
}

static void test_engine__functab(void)
{
	struct ls_functab tab;
	CHECK(ls_functab_init(&tab) == 0);
	struct ls_function f = {1, 2, 3}, g = {1, 2, 4};
	int64_t a = ls_functab_intern(&tab, &f), b = ls_functab_intern(&tab, &g);
	CHECK(a == 0 && b == 1);
	for (int i = 0; i < 5000; i++) {
		struct ls_function h = {(uint32_t)i, 7, i};
		CHECK(ls_functab_intern(&tab, &h) == 2 + i);
	}
	CHECK(ls_functab_intern(&tab, &f) == 0);
	CHECK(ls_functab_get(&tab, 1)->first_line == 4);
	ls_functab_release(&tab);
}

static void test_engine__versions(void)
{
	char buf[32];
	CHECK(ls_version_parse("3.8.18 (default, May", 6) == 0x030812F0);
	CHECK(ls_version_parse("3.14.0rc1", 9) == 0x030E00C1);
	CHECK(ls_version_parse("3.13.0b2", 8) == 0x030D00B2);
	CHECK(ls_version_parse("3.x", 3) == 0);
	CHECK(ls_version_parse("99.1.1", 6) == 0);
	CHECK(ls_version_parse("3.1000.1", 8) == 0);
	ls_version_format(0x030B07F0, buf, sizeof(buf));
	CHECK(strcmp(buf, "3.11.7") == 0);
	ls_version_format(0x030E00C1, buf, sizeof(buf));
	CHECK(strcmp(buf, "3.14.0rc1") == 0);
}

static void test_engine__maps(void)
{
	const char text[] = "55d0c0000000-55d0c0001000 r--p 00000000 fd:01 123 /usr/bin/python3.11\n"
			    "7f00-8f00 r-xp 00001000 fd:01 456    /lib/lib python (deleted)\n"
			    "garbage line\n"
			    "7fff0000-7fff1000 rw-p 00000000 00:00 0\n";
	struct ls_maps maps = {0};
	CHECK(ls_maps_parse(text, sizeof(text) - 1, &maps) == 0);
	CHECK(maps.len == 3);
	if (maps.len == 3) {
		CHECK(maps.items[0].start == 0x55d0c0000000ull && maps.items[0].offset == 0);
		CHECK(strcmp(maps.items[1].path, "/lib/lib python (deleted)") == 0);
		CHECK(maps.items[1].offset == 0x1000);
		CHECK(strcmp(maps.items[2].path, "") == 0);
		CHECK(ls_maps_find(&maps, "/usr/bin/python3.11", 0) == &maps.items[0]);
		CHECK(ls_maps_contains(&maps, 0x7fff0ff8, 8) && !ls_maps_contains(&maps, 0x7fff0ff8, 16));
	}
	ls_maps_release(&maps);
}

static void test_engine__utf8(void)
{
	char out[64];
	const uint8_t latin1[] = {'f', 0xF3, 'n'};
	CHECK(ls_ucs_to_utf8(latin1, 3, 1, out, sizeof(out)) == 4 && strcmp(out, "f\xC3\xB3n") == 0);
	const uint16_t ucs2[] = {0x95A2, 0xD800}; /* 関, then a lone surrogate */
	CHECK(ls_ucs_to_utf8((const uint8_t *)ucs2, 2, 2, out, sizeof(out)) == 6);
	CHECK(strcmp(out, "\xE9\x96\xA2\xEF\xBF\xBD") == 0);
	const uint32_t ucs4[] = {0x20000, 0x110000};
	CHECK(ls_ucs_to_utf8((const uint8_t *)ucs4, 2, 4, out, sizeof(out)) == 7);
	CHECK(strcmp(out, "\xF0\xA0\x80\x80\xEF\xBF\xBD") == 0);
}

int main(void)
{
	test_engine__strtab();
	test_engine__functab();
	test_engine__versions();
	test_engine__maps();
	test_engine__utf8();
	test_engine__not_an_image();
	test_engine__images();
	printf("%d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}
