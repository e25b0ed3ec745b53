/* Self-modifying code:
 * - inside one block, through the threaded store handlers (mov m,imm and
 *   mov m,r), in long mode: each patched instruction runs as patched;
 * - bytes that decoded as invalid (#UD) and are then rewritten by the VMM
 *   run as the new instruction (the invalid bytes are part of the block).
 */
#include "vm.h"

GUEST_CODE(smc_code, 64,
	"movl $5, %eax\n"
	"movl $0, %edx\n"
	"2:\n"
	"leal 7(%rdx), %esi\n"
	"movl %eax, %ecx\n"
	"movl $7, 0x1000 + (1f + 1 - smc_code)\n"   /* mov m, imm: patch next imm */
	"1: movl $1, %ebx\n"
	"movl %ebx, %eax\n"
	"outl %eax, $0x10\n"
	"addl $1, %ecx\n"
	"movl %esi, 0x1000 + (3f + 1 - smc_code)\n" /* mov m, r (4 bytes) */
	"3: movl $1, %ebx\n"
	"movl %ebx, %eax\n"
	"outl %eax, $0x11\n"
	"movl $1, 0x1000 + (1b + 1 - smc_code)\n"   /* restore */
	"addl $1, %edx\n"
	"cmpl $3, %edx\n"
	"jne 2b\n"
	"hlt\n");

static void smc(void)
{
	struct vm vm;
	struct vcpu v;
	vm_init(&vm);
	vcpu_init(&vm, &v, 0);
	GUEST_LOAD(&vm, smc_code);
	vcpu_setup(&v, MODE_LONG, G_CODE);
	for (int k = 0; k < 3; k++) {
		CHECK_EQ(7u, RUN_EXPECT_OUT(&v, 0x10));
		CHECK_EQ((uint32_t)(7 + k), RUN_EXPECT_OUT(&v, 0x11));
	}
	RUN_EXPECT_EXIT(&v, KVM_EXIT_HLT);
	vcpu_fini(&v);
	vm_fini(&vm);
}

/* 0xd6 (SALC) is invalid in 64-bit mode; the #UD handler reports 0x50. */
GUEST_CODE(ud_code, 64, ".byte 0xd6\n out %al, $0x52\n hlt\n");
GUEST_CODE(ud_isr, 64, "out %al, $0x50\n hlt\n");
GUEST_CODE(fixed_code, 64, "out %al, $0x51\n hlt\n");

static void rewritten_invalid(void)
{
	struct vm vm;
	struct vcpu v;
	vm_init(&vm);
	vcpu_init(&vm, &v, 0);
	GUEST_LOAD(&vm, ud_code);
	guest_load(&vm, 0x3000, ud_isr, ud_isr_end);
	vcpu_setup(&v, MODE_LONG, G_CODE);
	idt_set(&v, 6, 0x3000);
	RUN_EXPECT_OUT(&v, 0x50);
	GUEST_LOAD(&vm, fixed_code);
	struct kvm_regs r = get_regs(&v);
	r.rip = G_CODE;
	r.rsp = G_STACK;
	set_regs(&v, &r);
	RUN_EXPECT_OUT(&v, 0x51);
	vcpu_fini(&v);
	vm_fini(&vm);
}

int main(void)
{
	RUN_CASE(smc);
	RUN_CASE(rewritten_invalid);
	return t_done();
}
