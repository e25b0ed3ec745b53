/* The control socket: commands that reach a running program from outside
 * (today: guest memory poison). See docs/FAULT-INJECTION.md. */
#ifndef SK_KVM_CONTROL_H
#define SK_KVM_CONTROL_H

#include <stddef.h>

/* Start the listener thread once per process (idempotent, cheap after the
 * first call). Failure only means no control socket: VMs work without it. */
void sk_control_start(void);

/* Execute one command line (without the newline); the reply, one line
 * ending in '\n', goes to out. Exposed for tests of the parser. */
void sk_control_exec(const char *line, char *out, size_t size);

#endif
