/* H1: a guest that starts at EL2 (KVM_ARM_VCPU_HAS_EL2), installs the HYP
 * stubs of Documentation/virt/kvm/arm/hyp-abi.rst at EL2, drops to EL1
 * and calls them with HVC #0 from there as Linux does: HVC_SET_VECTORS,
 * HVC_RESET_VECTORS, HVC_SOFT_RESTART, a bad call (HVC_STUB_ERR), and
 * checks that only caller-saved registers change. PSCI is SMC here: HVC
 * belongs to the guest's own EL2. */
#include "lib.h"

#define HVC_SET_VECTORS 0
#define HVC_SOFT_RESTART 1
#define HVC_RESET_VECTORS 2
#define HVC_STUB_ERR 0xbadca11ull
#define ANSWER 0x600d

/* The stubs (as hyp-stub.S behaves, written anew) and a second vector
 * table, the "hypervisor" HVC_SET_VECTORS installs: it answers any call
 * with ANSWER and ESR/ELR/SPSR_EL2 in x1..x3, and HVC_RESET_VECTORS by
 * putting the stubs back. Only the lower-EL synchronous entry is used. */
__asm__(
	".pushsection .text\n"
	".balign 0x800\n"
	".global stub_vectors\n"
	"stub_vectors:\n"
	".rept 8\n .balign 0x80\n b el2_unexpected\n .endr\n"
	".balign 0x80\n b stub_sync\n"
	".rept 7\n .balign 0x80\n b el2_unexpected\n .endr\n"
	"stub_sync:\n"
	"	cmp x0, #" "0" "\n"            /* HVC_SET_VECTORS */
	"	b.ne 1f\n"
	"	msr vbar_el2, x1\n"
	"	b 9f\n"
	"1:	cmp x0, #" "1" "\n"            /* HVC_SOFT_RESTART */
	"	b.ne 2f\n"
	"	mrs x5, sctlr_el2\n"
	"	bic x5, x5, #1\n"               /* MMU off */
	"	msr sctlr_el2, x5\n"
	"	isb\n"
	"	mov x0, x2\n"
	"	mov x2, x4\n"
	"	mov x4, x1\n"
	"	mov x1, x3\n"
	"	br x4\n"
	"2:	cmp x0, #" "2" "\n"            /* HVC_RESET_VECTORS: nothing to reset */
	"	b.eq 9f\n"
	"	ldr x0, =0xbadca11\n"
	"	eret\n"
	"9:	mov x0, xzr\n"
	"	eret\n"

	".balign 0x800\n"
	".global new_vectors\n"
	"new_vectors:\n"
	".rept 8\n .balign 0x80\n b el2_unexpected\n .endr\n"
	".balign 0x80\n b new_sync\n"
	".rept 7\n .balign 0x80\n b el2_unexpected\n .endr\n"
	"new_sync:\n"
	"	cmp x0, #2\n"
	"	b.ne 1f\n"
	"	ldr x0, =stub_vectors\n"
	"	msr vbar_el2, x0\n"
	"	mov x0, xzr\n"
	"	eret\n"
	"1:	mov x0, #0x600d\n"
	"	mrs x1, esr_el2\n"
	"	mrs x2, elr_el2\n"
	"	mrs x3, spsr_el2\n"
	"	eret\n"

	/* Anything else at EL2: report ESR_EL2 and stop. */
	"el2_unexpected:\n"
	"	mrs x0, esr_el2\n"
	"	b el2_fatal\n"

	/* void stub_call(uint64_t r[6]): x0..x4 = r[0..4] in and out; r[5] =
	 * how many of x19..x29 and sp the call changed. */
	".global stub_call\n"
	"stub_call:\n"
	"	sub sp, sp, #112\n"
	"	stp x19, x20, [sp, #0]\n"
	"	stp x21, x22, [sp, #16]\n"
	"	stp x23, x24, [sp, #32]\n"
	"	stp x25, x26, [sp, #48]\n"
	"	stp x27, x28, [sp, #64]\n"
	"	stp x29, x30, [sp, #80]\n"
	"	str x0, [sp, #96]\n"
	"	mov x5, x0\n"
	"	ldp x0, x1, [x5]\n"
	"	ldp x2, x3, [x5, #16]\n"
	"	ldr x4, [x5, #32]\n"
	"	mov x19, #0x19\n mov x20, #0x20\n mov x21, #0x21\n mov x22, #0x22\n"
	"	mov x23, #0x23\n mov x24, #0x24\n mov x25, #0x25\n mov x26, #0x26\n"
	"	mov x27, #0x27\n mov x28, #0x28\n mov x29, sp\n"
	"	hvc #0\n"
	".global stub_call_ret\n"
	"stub_call_ret:\n"
	"	mov x6, #0\n"
	"	mov x7, sp\n cmp x29, x7\n cinc x6, x6, ne\n"
	"	mov sp, x29\n"
	"	ldr x5, [sp, #96]\n"
	"	stp x0, x1, [x5]\n"
	"	stp x2, x3, [x5, #16]\n"
	"	str x4, [x5, #32]\n"
	"	cmp x19, #0x19\n cinc x6, x6, ne\n cmp x20, #0x20\n cinc x6, x6, ne\n"
	"	cmp x21, #0x21\n cinc x6, x6, ne\n cmp x22, #0x22\n cinc x6, x6, ne\n"
	"	cmp x23, #0x23\n cinc x6, x6, ne\n cmp x24, #0x24\n cinc x6, x6, ne\n"
	"	cmp x25, #0x25\n cinc x6, x6, ne\n cmp x26, #0x26\n cinc x6, x6, ne\n"
	"	cmp x27, #0x27\n cinc x6, x6, ne\n cmp x28, #0x28\n cinc x6, x6, ne\n"
	"	str x6, [x5, #40]\n"
	"	ldp x19, x20, [sp, #0]\n"
	"	ldp x21, x22, [sp, #16]\n"
	"	ldp x23, x24, [sp, #32]\n"
	"	ldp x25, x26, [sp, #48]\n"
	"	ldp x27, x28, [sp, #64]\n"
	"	ldp x29, x30, [sp, #80]\n"
	"	add sp, sp, #112\n"
	"	ret\n"
	".popsection\n");

extern char stub_vectors[], new_vectors[], stub_call_ret[];
void stub_call(uint64_t *r);

static uint64_t el1_stack[2048] __attribute__((aligned(16)));

static void __attribute__((noreturn)) system_off(void)
{
	register uint64_t x0 __asm__("x0") = 0x84000008ull;
	__asm__ volatile("smc #0" : "+r"(x0)::"memory");
	for (;;)
		;
}

void __attribute__((noreturn)) el2_fatal(uint64_t esr);
void el2_fatal(uint64_t esr)
{
	check(0xdead, esr, 0);
	system_off();
}

/* The payload HVC_SOFT_RESTART starts: at EL2, x0..x2 from x2..x4. */
static void __attribute__((noreturn, used)) restarted(uint64_t a, uint64_t b, uint64_t c)
{
	check(0x50, read_sysreg(CurrentEL), 8);
	check(0x51, a, 0xa0);
	check(0x52, b, 0xa1);
	check(0x53, c, 0xa2);
	check(0x54, read_sysreg(daif), 0x3c0);            /* exceptions masked */
	check(0x55, read_sysreg(sctlr_el2) & 1, 0);       /* MMU off */
	check(0x56, read_sysreg(spsel), 1);
	system_off();
}

static void call(uint64_t *r, uint64_t x0, uint64_t x1, uint64_t x2, uint64_t x3, uint64_t x4)
{
	r[0] = x0;
	r[1] = x1;
	r[2] = x2;
	r[3] = x3;
	r[4] = x4;
	r[5] = ~0ull;
	stub_call(r);
}

static void __attribute__((noreturn, used)) el1_main(void)
{
	uint64_t r[6];
	check(0x10, read_sysreg(CurrentEL), 4);
	/* EL2 registers are UNDEFINED at EL1 */
	exc_count = 0;
	(void)read_sysreg(vbar_el2);
	check(0x11, exc_count, 1);
	check(0x12, last_esr >> 26, 0);
	exc_count = 0;

	call(r, 0x1234, 0, 0, 0, 0);                        /* not a stub call */
	check(0x20, r[0], HVC_STUB_ERR);
	check(0x21, r[5], 0);
	call(r, HVC_SET_VECTORS, (uint64_t)new_vectors, 0, 0, 0);
	check(0x22, r[0], 0);
	check(0x23, r[5], 0);
	call(r, 0x77, 0, 0, 0, 0);                          /* the new vectors answer */
	check(0x24, r[0], ANSWER);
	check(0x25, r[1], (0x16ull << 26) | (1ull << 25));  /* ESR_EL2: HVC64, imm 0 */
	check(0x26, r[2], (uint64_t)stub_call_ret);         /* ELR_EL2: after the HVC */
	check(0x27, r[3] & 0x3ff, 0x3c5);                   /* SPSR_EL2: EL1h, DAIF */
	check(0x28, r[5], 0);
	call(r, HVC_RESET_VECTORS, 0, 0, 0, 0);             /* back to the stubs */
	check(0x29, r[0], 0);
	call(r, 0x77, 0, 0, 0, 0);
	check(0x2a, r[0], HVC_STUB_ERR);
	call(r, HVC_RESET_VECTORS, 0, 0, 0, 0);             /* the stubs': nothing to do */
	check(0x2b, r[0], 0);
	check(0x2c, r[5], 0);
	check(0x2d, exc_count, 0);

	__asm__ volatile("msr daifclr, #0xf");             /* the restart must mask them */
	call(r, HVC_SOFT_RESTART, (uint64_t)restarted, 0xa0, 0xa1, 0xa2);
	check(0x2f, 0, 1);                                  /* never returns */
	system_off();
}

int main(void)
{
	check(1, read_sysreg(CurrentEL), 8);
	check(2, (read_sysreg(id_aa64pfr0_el1) >> 8) & 0xf, 1);
	check(3, read_sysreg(sctlr_el2) & 1, 0);
	check(4, read_sysreg(daif), 0x3c0);
	write_sysreg(vbar_el2, stub_vectors);
	write_sysreg(hcr_el2, 1ull << 31);                  /* RW: EL1 is AArch64 */
	write_sysreg(sp_el1, (uint64_t)(el1_stack + 2048));
	write_sysreg(spsr_el2, 0x3c5);                      /* EL1h, DAIF masked */
	write_sysreg(elr_el2, (uint64_t)el1_main);
	isb();
	__asm__ volatile("eret");
	__builtin_unreachable();
}
