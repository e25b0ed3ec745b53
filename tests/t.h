/* A tiny check library for the conformance tests.
 *
 * Every CHECK prints file:line, what was expected and what came, and counts
 * the failure; t_done() prints a summary and gives the exit status (0 when
 * everything held, 1 on any failure, 77 -- meson's "skipped" -- when the
 * program skipped all it had to check). Tests keep going after a failure so
 * that one run shows every broken rule.
 */
#ifndef T_H
#define T_H

#include <errno.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

/* Atomic: the multi-vCPU tests check from several threads at once. */
extern _Atomic int t_failures, t_checks, t_skips;

bool t_check(bool ok, const char *file, int line, const char *what);
bool t_check_eq(uint64_t exp, uint64_t act, const char *file, int line,
		const char *exp_s, const char *act_s);
bool t_check_errno(long ret, int err, int exp_err, const char *file, int line,
		   const char *call);
bool t_check_ok(long ret, int err, const char *file, int line, const char *call);
void t_skip(const char *file, int line, const char *why);
void t_case(const char *name);
int t_done(void);

#define CHECK(cond) t_check(!!(cond), __FILE__, __LINE__, #cond)
#define CHECK_EQ(exp, act) \
	t_check_eq((uint64_t)(exp), (uint64_t)(act), __FILE__, __LINE__, #exp, #act)
/* call must fail with -1 and errno == err. */
#define CHECK_ERRNO(call, err) \
	({ errno = 0; long r_ = (long)(call); \
	   t_check_errno(r_, errno, (err), __FILE__, __LINE__, #call); })
/* call must succeed (return >= 0); evaluates to true when it did. */
#define CHECK_OK(call) \
	({ errno = 0; long r_ = (long)(call); \
	   t_check_ok(r_, errno, __FILE__, __LINE__, #call); })
#define SKIP(why) t_skip(__FILE__, __LINE__, (why))
/* Run one case of a program: a banner, then the function. */
#define RUN_CASE(fn) do { t_case(#fn); fn(); } while (0)

#endif
