/* Integer mix in the spirit of CoreMark: each pass runs a CRC, a linked
 * list sort and walk, a small matrix multiply and a number-parsing state
 * machine over data derived from the pass number, and folds the results
 * into the checksum. Every kernel checks its own answer as well. */
#include <stddef.h>

#include "bench.h"

#define PASSES     BENCH_SCALE(400, 3)
#define CRC_BYTES  2048
#define LIST_NODES 512
#define MAT_N      24
#define SM_BYTES   2048

const char bench_name[] = "intmix";
const int bench_native_ok = 1;

static int failures;

/* ---- CRC-32 (reflected 0xedb88320), bit at a time ---- */

static uint32_t crc32_update(uint32_t crc, const uint8_t *p, size_t n)
{
	crc = ~crc;
	while (n--) {
		crc ^= *p++;
		for (int k = 0; k < 8; k++)
			crc = (crc >> 1) ^ (0xedb88320u & -(crc & 1));
	}
	return ~crc;
}

static uint8_t crc_buf[CRC_BYTES];

static uint32_t crc_pass(uint64_t seed)
{
	for (size_t i = 0; i < CRC_BYTES; i += 8) {
		uint64_t r = bench_rand(&seed);
		for (int b = 0; b < 8; b++)
			crc_buf[i + b] = (uint8_t)(r >> (8 * b));
	}
	return crc32_update(0, crc_buf, CRC_BYTES);
}

/* ---- linked list: build, merge sort, verify, find ---- */

struct node {
	struct node *next;
	uint32_t key;
	uint32_t idx;
};

static struct node pool[LIST_NODES];

static struct node *merge(struct node *a, struct node *b)
{
	struct node head, *t = &head;

	while (a && b) {
		if (a->key <= b->key) {
			t->next = a;
			a = a->next;
		} else {
			t->next = b;
			b = b->next;
		}
		t = t->next;
	}
	t->next = a ? a : b;
	return head.next;
}

/* Bottom-up merge sort with a bin per power of two, no recursion. */
static struct node *list_sort(struct node *list)
{
	struct node *bins[32] = { 0 };
	int top = 0;

	while (list) {
		struct node *one = list;
		int i;

		list = list->next;
		one->next = NULL;
		for (i = 0; i < 32 && bins[i]; i++) {
			one = merge(bins[i], one);
			bins[i] = NULL;
		}
		if (i == 32)
			i = 31;
		bins[i] = one;
		if (i >= top)
			top = i + 1;
	}
	for (int i = 0; i < top; i++)
		list = merge(bins[i], list);
	return list;
}

static uint32_t list_pass(uint64_t seed)
{
	struct node *list = NULL;
	uint32_t sum = 0, prev = 0, count = 0;

	for (uint32_t i = 0; i < LIST_NODES; i++) {
		pool[i].key = (uint32_t)bench_rand(&seed) & 0xffff;
		pool[i].idx = i;
		pool[i].next = list;
		list = &pool[i];
	}
	list = list_sort(list);
	for (struct node *n = list; n; n = n->next, count++) {
		failures += n->key < prev;
		prev = n->key;
		sum = sum * 33 + n->key + (n->idx << 16);
	}
	failures += count != LIST_NODES;
	/* Find a few keys by walking, as CoreMark's list_find does. */
	for (uint32_t k = 0; k < 16; k++) {
		uint32_t want = pool[(k * 37) % LIST_NODES].key;
		struct node *n = list;

		while (n && n->key != want)
			n = n->next;
		failures += !n;
		sum += n ? n->idx : 0;
	}
	return sum;
}

/* ---- matrix multiply, 32-bit ---- */

static int32_t mat_a[MAT_N][MAT_N], mat_b[MAT_N][MAT_N], mat_c[MAT_N][MAT_N];

static uint32_t matrix_pass(uint64_t seed)
{
	uint32_t sum = 0;

	for (int i = 0; i < MAT_N; i++)
		for (int j = 0; j < MAT_N; j++) {
			uint64_t r = bench_rand(&seed);
			mat_a[i][j] = (int32_t)(r & 0xfff) - 0x800;
			mat_b[i][j] = (int32_t)((r >> 12) & 0xfff) - 0x800;
		}
	for (int i = 0; i < MAT_N; i++)
		for (int j = 0; j < MAT_N; j++) {
			int32_t acc = 0;
			for (int k = 0; k < MAT_N; k++)
				acc += mat_a[i][k] * mat_b[k][j];
			mat_c[i][j] = acc;
		}
	/* Check one row against the transposed product: (AB)^T = B^T A^T. */
	for (int j = 0; j < MAT_N; j++) {
		int32_t acc = 0;
		for (int k = 0; k < MAT_N; k++)
			acc += mat_b[k][j] * mat_a[MAT_N / 2][k];
		failures += acc != mat_c[MAT_N / 2][j];
	}
	for (int i = 0; i < MAT_N; i++)
		for (int j = 0; j < MAT_N; j++)
			sum = sum * 7 + ((uint32_t)mat_c[i][j] >> 3 & 0xffff);
	return sum;
}

/* ---- state machine: classify comma-separated numbers ---- */

enum sm_state { SM_START, SM_INT, SM_FRAC, SM_EXP_MARK, SM_EXP_SIGN,
		SM_EXP, SM_SIGN, SM_POINT, SM_INVALID, SM_NSTATES };

static const char *const sm_tokens[] = {
	"5012", "1234", "-874", "+122", "35.54400", ".1234500", "-110.700",
	"+0.64400", "5.500e+3", "-.123e-2", "-87e+832", "+0.6e-12",
	"T0.3e-1F", "-T.T++Tq", "1T3.4e4z", "34.0e-T^",
};

static char sm_buf[SM_BYTES];

static int is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static enum sm_state sm_step(enum sm_state s, char c)
{
	switch (s) {
	case SM_START:
		if (is_digit(c)) return SM_INT;
		if (c == '+' || c == '-') return SM_SIGN;
		if (c == '.') return SM_POINT;
		return SM_INVALID;
	case SM_SIGN:
		if (is_digit(c)) return SM_INT;
		if (c == '.') return SM_POINT;
		return SM_INVALID;
	case SM_INT:
		if (is_digit(c)) return SM_INT;
		if (c == '.') return SM_POINT;
		if (c == 'e' || c == 'E') return SM_EXP_MARK;
		return SM_INVALID;
	case SM_POINT:
	case SM_FRAC:
		if (is_digit(c)) return SM_FRAC;
		if (s == SM_FRAC && (c == 'e' || c == 'E')) return SM_EXP_MARK;
		return SM_INVALID;
	case SM_EXP_MARK:
		if (c == '+' || c == '-') return SM_EXP_SIGN;
		if (is_digit(c)) return SM_EXP;
		return SM_INVALID;
	case SM_EXP_SIGN:
	case SM_EXP:
		if (is_digit(c)) return SM_EXP;
		return SM_INVALID;
	default:
		return SM_INVALID;
	}
}

static uint32_t state_pass(uint64_t seed)
{
	uint32_t final_count[SM_NSTATES] = { 0 }, transitions = 0, sum = 0;
	size_t n = 0;

	while (n + 10 < SM_BYTES) {
		const char *t = sm_tokens[bench_rand(&seed) & 15];
		while (*t)
			sm_buf[n++] = *t++;
		sm_buf[n++] = ',';
	}
	sm_buf[n] = '\0';
	for (const char *p = sm_buf; *p; p++) {
		enum sm_state s = SM_START;
		for (; *p && *p != ','; p++) {
			enum sm_state next = sm_step(s, *p);
			transitions += next != s;
			s = next;
			if (s == SM_INVALID) {
				while (p[1] && p[1] != ',')
					p++;
			}
		}
		final_count[s]++;
		if (!*p)
			break;
	}
	/* Tokens only ever end in these states (or in none, never START). */
	failures += final_count[SM_START] != 0;
	for (int s = 0; s < SM_NSTATES; s++)
		sum = sum * 131 + final_count[s];
	return sum + transitions;
}

int bench_run(uint64_t *checksum)
{
	static const char check[] = "123456789";
	uint64_t sum = 0;

	failures = crc32_update(0, (const uint8_t *)check, 9) != 0xcbf43926u;
	for (uint64_t pass = 0; pass < PASSES; pass++) {
		uint64_t seed = 0x9e3779b97f4a7c15ull ^ (pass * 0x100000001b3ull);
		uint32_t r[4];

		BENCH_OPAQUE(seed);
		r[0] = crc_pass(seed);
		r[1] = list_pass(seed);
		r[2] = matrix_pass(seed);
		r[3] = state_pass(seed);
		for (int i = 0; i < 4; i++)
			sum = (sum ^ r[i]) * 0x100000001b3ull;
	}
	*checksum = sum;
	return failures;
}
