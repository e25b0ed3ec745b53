/* The i8254 PIT of a VM (pit.c), created by KVM_CREATE_PIT2. */
#ifndef SK_X86_PIT_H
#define SK_X86_PIT_H

#include <stdbool.h>
#include <stdint.h>

struct sk_vm;

/* Is port the PIT's (0x40-0x43; 0x61 with KVM_PIT_SPEAKER_DUMMY)? */
bool x86_pit_claims_port(struct sk_vm *vm, uint16_t port);
/* A one-byte access to a claimed port. */
void x86_pit_pio(struct sk_vm *vm, uint16_t port, bool write, uint32_t *val);
/* Stop the PIT's thread and free it (idempotent). */
void x86_pit_destroy(struct sk_vm *vm);
long x86_ioc_create_pit2(void *obj, void *arg);
long x86_ioc_get_pit2(void *obj, void *arg);
long x86_ioc_set_pit2(void *obj, void *arg);

#endif
