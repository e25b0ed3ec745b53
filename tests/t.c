/* The check library behind t.h. */
#include "t.h"

#include <inttypes.h>

_Atomic int t_failures, t_checks, t_skips;

static void fail_head(const char *file, int line)
{
	t_failures++;
	fprintf(stderr, "FAIL %s:%d: ", file, line);
}

bool t_check(bool ok, const char *file, int line, const char *what)
{
	t_checks++;
	if (!ok) {
		fail_head(file, line);
		fprintf(stderr, "expected %s to hold; it did not\n", what);
	}
	return ok;
}

bool t_check_eq(uint64_t exp, uint64_t act, const char *file, int line,
		const char *exp_s, const char *act_s)
{
	t_checks++;
	if (exp == act)
		return true;
	fail_head(file, line);
	fprintf(stderr, "%s: expected %s = %#" PRIx64 " (%" PRId64 "), got %#" PRIx64
		" (%" PRId64 ")\n", act_s, exp_s, exp, (int64_t)exp, act, (int64_t)act);
	return false;
}

bool t_check_errno(long ret, int err, int exp_err, const char *file, int line,
		   const char *call)
{
	t_checks++;
	if (ret == -1 && err == exp_err)
		return true;
	fail_head(file, line);
	if (ret == -1)
		fprintf(stderr, "%s: expected -1/%s, got -1/%s\n", call,
			strerrorname_np(exp_err), strerrorname_np(err) ? strerrorname_np(err) : "?");
	else
		fprintf(stderr, "%s: expected -1/%s, got %ld (success)\n", call,
			strerrorname_np(exp_err), ret);
	return false;
}

bool t_check_ok(long ret, int err, const char *file, int line, const char *call)
{
	t_checks++;
	if (ret >= 0)
		return true;
	fail_head(file, line);
	fprintf(stderr, "%s: expected success, got %ld/%s (%s)\n", call, ret,
		strerrorname_np(err) ? strerrorname_np(err) : "?", strerror(err));
	return false;
}

void t_skip(const char *file, int line, const char *why)
{
	t_skips++;
	printf("SKIP %s:%d: %s\n", file, line, why);
}

void t_case(const char *name)
{
	printf("== %s\n", name);
	fflush(stdout);
}

int t_done(void)
{
	printf("%s: %d checks, %d failed, %d skipped\n",
	       t_failures ? "FAILED" : "OK", t_checks, t_failures, t_skips);
	fflush(stdout);
	if (t_failures)
		return 1;
	return (t_checks == 0 && t_skips) ? 77 : 0;
}
