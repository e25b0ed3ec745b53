/* Calling an arch ioctl table: the core copies the argument in and out so
 * that the arch only ever sees a valid kernel-side struct. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include "arch/arch.h"
#include "kvm/dispatch.h"
#include "kvm/uaccess.h"

static const struct sk_ioctl *lookup(const struct sk_ioctl *tab, unsigned long cmd)
{
	for (; tab && tab->cmd; tab++)
		if (tab->cmd == cmd)
			return tab;
	return NULL;
}

/* A kernel-side buffer of n bytes: the stack one when it fits. */
static void *kbuf(unsigned char *small, size_t small_size, size_t n)
{
	if (n <= small_size) {
		memset(small, 0, n);
		return small;
	}
	return calloc(1, n);
}

static long call_copying(const struct sk_ioctl *e, void *obj, unsigned long arg)
{
	unsigned long cmd = e->cmd;
	unsigned dir = (e->flags & SK_IOC_IN) ? _IOC_WRITE : _IOC_DIR(cmd);
	size_t size = _IOC_SIZE(cmd), total = size;
	void *user = (void *)arg;
	_Alignas(16) unsigned char small[1024];
	unsigned char *buf = kbuf(small, sizeof(small), size);
	long r = -EFAULT;

	if (!buf)
		return -ENOMEM;
	if ((dir & _IOC_WRITE) && sk_copy_from_user(buf, user, size))
		goto out;
	if (e->varlen) {
		total = e->varlen(buf);
		r = -E2BIG;
		if (total == SIZE_MAX)
			goto out;
		if (total > size) {
			if (buf == small && total <= sizeof(small)) {
				memset(small + size, 0, total - size);
			} else {
				unsigned char *whole = calloc(1, total);
				r = -ENOMEM;
				if (!whole)
					goto out;
				memcpy(whole, buf, size);
				if (buf != small)
					free(buf);
				buf = whole;
			}
			r = -EFAULT;
			if ((dir & _IOC_WRITE) &&
			    sk_copy_from_user(buf + size, (char *)user + size, total - size))
				goto out;
		}
	}
	r = e->fn(obj, buf);
	if (dir & _IOC_READ) {
		size_t out = 0;
		if (r >= 0)
			out = e->varlen && e->varlen(buf) < total ? e->varlen(buf) : total;
		else if (e->flags & SK_IOC_COPYOUT_ON_ERROR)
			out = size;
		if (out && sk_copy_to_user(user, buf, out))
			r = -EFAULT;
	}
out:
	if (buf != small)
		free(buf);
	return r;
}

long sk_call_table(const struct sk_ioctl *tab, void *obj, unsigned long cmd, unsigned long arg,
		   bool *found)
{
	const struct sk_ioctl *e = lookup(tab, cmd);
	*found = e != NULL;
	if (!e)
		return -ENOTTY;
	if (e->flags & SK_IOC_VALUE)
		return e->fn(obj, (void *)arg);
	return call_copying(e, obj, arg);
}
