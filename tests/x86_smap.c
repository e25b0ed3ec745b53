/* SMEP and SMAP (SDM vol. 3 4.6), in long mode at CPL 0, with 4 KiB pages
 * that are all supervisor pages but one (USER):
 * - CPUID 7.EBX offers SMEP and SMAP; CR4.SMEP/SMAP are refused by
 *   KVM_SET_SREGS when the guest's CPUID lacks them;
 * - SMAP: a supervisor read or write of a user page faults (#PF, P and W
 *   as the access, U clear, CR2 the address) unless EFLAGS.AC is set;
 *   STAC then CLAC: the same load passes, then faults (nothing is cached
 *   across the change of AC);
 * - SMEP: a supervisor fetch from a user page faults (#PF with I);
 * - CLAC/STAC: #UD without SMAP in the guest's CPUID.
 */
#include "vm.h"

#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#define PT 0x40000
#define USER 0x30000
#define CR4_SMEP (1ull << 20)
#define CR4_SMAP (1ull << 21)

/* #PF: error code to 0x50, CR2 to 0x51; #UD: 0x52. */
GUEST_CODE(pf_isr, 64, "mov (%rsp), %rax\n out %eax, $0x50\n mov %cr2, %rax\n out %eax, $0x51\n hlt\n");
GUEST_CODE(ud_isr, 64, "out %al, $0x52\n hlt\n");
GUEST_CODE(s_read, 64, "mov (%rbx), %eax\n out %eax, $0x10\n hlt\n");
GUEST_CODE(s_write, 64, "movl $9, (%rbx)\n out %eax, $0x10\n hlt\n");
GUEST_CODE(s_stac_clac, 64,
	"stac\n mov (%rbx), %eax\n out %eax, $0x11\n"
	"clac\n mov (%rbx), %eax\n out %eax, $0x10\n hlt\n");
GUEST_CODE(s_call, 64, "call *%rbx\n out %al, $0x10\n hlt\n");
GUEST_CODE(user_code, 64, "out %al, $0x12\n ret\n");

struct box {
	struct vm vm;
	struct vcpu v;
	struct kvm_cpuid2 *cpuid;
};

static void put64(struct vm *vm, uint64_t gpa, uint64_t v)
{
	memcpy(vm->mem + gpa, &v, 8);
}

static void box_init(struct box *b, bool smap_smep)
{
	vm_init(&b->vm);
	vcpu_init(&b->vm, &b->v, 0);
	b->cpuid = cpuid_supported(b->vm.kvm);
	struct kvm_cpuid_entry2 *e7 = cpuid_entry(b->cpuid, 7, 0);
	if (CHECK(e7 != NULL)) {
		CHECK_EQ(1u << 7, e7->ebx & (1u << 7));
		CHECK_EQ(1u << 20, e7->ebx & (1u << 20));
		if (!smap_smep)
			e7->ebx &= ~(1u << 7 | 1u << 20);
	}
	CHECK_OK(ioctl(b->v.fd, KVM_SET_CPUID2, b->cpuid));
	vcpu_setup(&b->v, MODE_LONG, G_CODE);
	/* The first 2 MiB in 4 KiB supervisor pages, USER a user page. */
	for (uint64_t i = 0; i < 512; i++)
		put64(&b->vm, PT + 8 * i, (i << 12) | ((i << 12) == USER ? 7 : 3));
	put64(&b->vm, 0xb000, PT | 7);
	guest_load(&b->vm, 0x3000, pf_isr, pf_isr_end);
	guest_load(&b->vm, 0x3100, ud_isr, ud_isr_end);
	idt_set(&b->v, 14, 0x3000);
	idt_set(&b->v, 6, 0x3100);
}

static void box_fini(struct box *b)
{
	free(b->cpuid);
	vcpu_fini(&b->v);
	vm_fini(&b->vm);
}

static bool set_cr4_bits(struct box *b, uint64_t bits)
{
	struct kvm_sregs s = get_sregs(&b->v);
	s.cr4 |= bits;
	return ioctl(b->v.fd, KVM_SET_SREGS, &s) == 0;
}

/* Run code from G_CODE with RBX = rbx. */
static void expect_pf(struct box *b, uint32_t err, uint32_t cr2)
{
	CHECK_EQ(err, RUN_EXPECT_OUT(&b->v, 0x50));
	CHECK_EQ(cr2, RUN_EXPECT_OUT(&b->v, 0x51));
}

static void smap(void)
{
	struct box b;
	box_init(&b, true);
	memcpy(b.vm.mem + USER, "\x2a\0\0\0", 4);
	/* Without SMAP the kernel reads and writes user pages. */
	vcpu_restart(&b.v, s_read, s_read_end, USER);
	CHECK_EQ(42, RUN_EXPECT_OUT(&b.v, 0x10));
	vcpu_restart(&b.v, s_read, s_read_end, 0x31000);
	RUN_EXPECT_OUT(&b.v, 0x10);
	CHECK(set_cr4_bits(&b, CR4_SMAP));
	vcpu_restart(&b.v, s_read, s_read_end, USER);
	expect_pf(&b, 0x1, USER);
	vcpu_restart(&b.v, s_write, s_write_end, USER + 8);
	expect_pf(&b, 0x3, USER + 8);
	CHECK_EQ(0, b.vm.mem[USER + 8]);
	/* Supervisor pages are unaffected. */
	vcpu_restart(&b.v, s_read, s_read_end, 0x31000);
	RUN_EXPECT_OUT(&b.v, 0x10);
	/* AC set: allowed; cleared again: the very same load faults. */
	for (int k = 0; k < 2; k++) {
		vcpu_restart(&b.v, s_stac_clac, s_stac_clac_end, USER);
		CHECK_EQ(42, RUN_EXPECT_OUT(&b.v, 0x11));
		expect_pf(&b, 0x1, USER);
	}
	box_fini(&b);
}

static void smep(void)
{
	struct box b;
	box_init(&b, true);
	guest_load(&b.vm, USER, user_code, user_code_end);
	vcpu_restart(&b.v, s_call, s_call_end, USER);
	RUN_EXPECT_OUT(&b.v, 0x12);   /* SMEP off: the kernel runs user code */
	RUN_EXPECT_OUT(&b.v, 0x10);
	CHECK(set_cr4_bits(&b, CR4_SMEP));
	vcpu_restart(&b.v, s_call, s_call_end, USER);
	expect_pf(&b, 0x11, USER);
	box_fini(&b);
}

static void without_cpuid(void)
{
	struct box b;
	box_init(&b, false);
	CHECK(!set_cr4_bits(&b, CR4_SMAP));
	CHECK(!set_cr4_bits(&b, CR4_SMEP));
	vcpu_restart(&b.v, s_stac_clac, s_stac_clac_end, USER);
	RUN_EXPECT_OUT(&b.v, 0x52);
	box_fini(&b);
}

int main(void)
{
	RUN_CASE(smap);
	RUN_CASE(smep);
	RUN_CASE(without_cpuid);
	return t_done();
}
