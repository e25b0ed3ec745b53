/* Running an ioctl through an arch table (see arch/arch.h). */
#ifndef SK_DISPATCH_H
#define SK_DISPATCH_H

#include <stdbool.h>

struct sk_ioctl;

/* *found tells whether cmd is in tab; the result is the ioctl's. */
long sk_call_table(const struct sk_ioctl *tab, void *obj, unsigned long cmd, unsigned long arg,
		   bool *found);

#endif
