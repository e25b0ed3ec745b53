/* Plain guest-memory accesses of the interpreters, and ThreadSanitizer.
 *
 * Guest RAM is shared by every vCPU thread and by the VMM, by design and as
 * in KVM: it is the memory of a multiprocessor. Two vCPUs of a guest (or a
 * vCPU and a VMM thread playing a device) touching the same guest word
 * without host synchronisation is the guest's own business -- it orders its
 * accesses with its barriers and atomic instructions, which the interpreters
 * execute as host atomics -- not a data race in softkvm. So the functions
 * here, through which the interpreters make their plain loads, stores and
 * copies of guest RAM, are not instrumented by TSan (SK_GUEST_FN, and
 * SK_GUEST_ACCESS for a whole function that touches guest RAM).
 * Everything else -- softkvm's own state, the guest's atomic instructions,
 * the VMM's accesses -- stays instrumented.
 *
 * Under TSan a copy is a loop, not memcpy: TSan intercepts memcpy whatever
 * its caller's attributes, and a guest access may fault and never return
 * (KVM_RUN's EFAULT guard longjmps), so an ignore annotation around it
 * could be left open. Without TSan these are plain memcpy and cost nothing.
 */
#ifndef SK_MEM_GUEST_ACCESS_H
#define SK_MEM_GUEST_ACCESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#if defined(__SANITIZE_THREAD__)
#define SK_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define SK_TSAN 1
#endif
#endif

/* SK_GUEST_ACCESS marks a function whose accesses TSan must not watch;
 * SK_GUEST_FN declares the helpers below: inline without TSan, out of line
 * under it (an uninstrumented body must not be inlined into instrumented
 * code). */
#ifdef SK_TSAN
#define SK_GUEST_ACCESS __attribute__((no_sanitize("thread")))
#define SK_GUEST_FN static __attribute__((noinline, unused, no_sanitize("thread")))
#else
#define SK_GUEST_ACCESS
#define SK_GUEST_FN static inline
#endif

/* Unaligned, aliasing views of guest bytes: always one plain load/store. */
typedef uint16_t __attribute__((may_alias, aligned(1))) sk_guest_u16;
typedef uint32_t __attribute__((may_alias, aligned(1))) sk_guest_u32;
typedef uint64_t __attribute__((may_alias, aligned(1))) sk_guest_u64;

/* A little-endian load or store of 1, 2, 4 or 8 bytes of guest RAM at h. */
SK_GUEST_FN uint64_t sk_guest_load(const void *h, unsigned size)
{
	switch (size) {
	case 1:
		return *(const uint8_t *)h;
	case 2:
		return *(const sk_guest_u16 *)h;
	case 4:
		return *(const sk_guest_u32 *)h;
	default:
		return *(const sk_guest_u64 *)h;
	}
}

SK_GUEST_FN void sk_guest_store(void *h, unsigned size, uint64_t v)
{
	switch (size) {
	case 1:
		*(uint8_t *)h = (uint8_t)v;
		break;
	case 2:
		*(sk_guest_u16 *)h = (uint16_t)v;
		break;
	case 4:
		*(sk_guest_u32 *)h = (uint32_t)v;
		break;
	default:
		*(sk_guest_u64 *)h = v;
	}
}

/* Copy n bytes to or from guest memory (either side may be guest RAM). */
#ifdef SK_TSAN
SK_GUEST_FN void sk_guest_copy(void *dst, const void *src, size_t n)
{
	uint8_t *d = dst;
	const uint8_t *s = src;
	/* The empty asm keeps the compiler from making the loop a memcpy. */
	for (; n >= 8; n -= 8, d += 8, s += 8) {
		*(sk_guest_u64 *)d = *(const sk_guest_u64 *)s;
		__asm__ volatile("" ::: "memory");
	}
	for (; n; n--) {
		*d++ = *s++;
		__asm__ volatile("" ::: "memory");
	}
}
#else
static inline void sk_guest_copy(void *dst, const void *src, size_t n)
{
	memcpy(dst, src, n);
}
#endif

/* Whether n bytes of guest memory at g equal buf (code checks). */
#ifdef SK_TSAN
SK_GUEST_FN bool sk_guest_equal(const void *g, const void *buf, size_t n)
{
	const uint8_t *a = g, *b = buf;
	for (; n; n--) {
		if (*a++ != *b++)
			return false;
		__asm__ volatile("" ::: "memory");
	}
	return true;
}
#else
static inline bool sk_guest_equal(const void *g, const void *buf, size_t n)
{
	return memcmp(g, buf, n) == 0;
}
#endif

#endif
