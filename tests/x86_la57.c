/* 5-level paging (CR4.LA57), as the SDM (vol. 3 4.5) and KVM give it:
 * - CPUID 7.ECX[16] offered and 57 linear-address bits in 0x80000008;
 * - with LA57 the walk starts at the PML5: an address with bit 48 set,
 *   canonical only with 57 bits, reaches memory through PML5[1];
 * - without LA57 the same address is non-canonical: #GP; so is a
 *   57-bit-canonical FS base written with WRMSR;
 * - MOV to CR4 that flips LA57 in long mode: #GP; KVM_SET_SREGS refuses
 *   CR4.LA57 when the guest's CPUID lacks it.
 */
#include "vm.h"

#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#define PML5 0x50000
#define HI_PML4 0x51000
#define HI_PDPT 0x52000
#define HI_PD 0x53000
#define HIGH 0x0001000000000000ull   /* PML5 index 1 */
#define DATA 0x30000
#define CR4_LA57 (1ull << 12)

/* #GP: 0x50 (the error code). */
GUEST_CODE(gp_isr, 64, "mov (%rsp), %rax\n out %eax, $0x50\n hlt\n");
GUEST_CODE(s_read, 64, "mov (%rbx), %eax\n out %eax, $0x10\n hlt\n");
GUEST_CODE(s_cr4, 64, "mov %cr4, %rax\n xor %rbx, %rax\n mov %rax, %cr4\n out %al, $0x10\n hlt\n");
GUEST_CODE(s_fsbase, 64, "mov $0xc0000100, %ecx\n mov %rbx, %rax\n mov %rbx, %rdx\n shr $32, %rdx\n"
		     "wrmsr\n out %al, $0x10\n hlt\n");

struct box {
	struct vm vm;
	struct vcpu v;
};

static void put64(struct vm *vm, uint64_t gpa, uint64_t v)
{
	memcpy(vm->mem + gpa, &v, 8);
}

/* Long mode; the PML5's entry 0 is vcpu_setup's PML4 (low 4 GiB identity),
 * entry 1 maps HIGH.. to guest-physical 0 with one 2 MiB page. */
static void box_init(struct box *b, bool la57_cpuid, bool la57)
{
	vm_init(&b->vm);
	vcpu_init(&b->vm, &b->v, 0);
	struct kvm_cpuid2 *c = cpuid_supported(b->vm.kvm);
	if (!la57_cpuid)
		cpuid_entry(c, 7, 0)->ecx &= ~(1u << 16);
	CHECK_OK(ioctl(b->v.fd, KVM_SET_CPUID2, c));
	free(c);
	vcpu_setup(&b->v, MODE_LONG, G_CODE);
	put64(&b->vm, PML5, G_PT | 7);
	put64(&b->vm, PML5 + 8, HI_PML4 | 7);
	put64(&b->vm, HI_PML4, HI_PDPT | 7);
	put64(&b->vm, HI_PDPT, HI_PD | 7);
	put64(&b->vm, HI_PD, 0x87);
	guest_load(&b->vm, 0x3000, gp_isr, gp_isr_end);
	idt_set(&b->v, 13, 0x3000);
	if (la57) {
		struct kvm_sregs s = get_sregs(&b->v);
		s.cr3 = PML5;
		s.cr4 |= CR4_LA57;
		CHECK_OK(ioctl(b->v.fd, KVM_SET_SREGS, &s));
	}
}

static void cpuid(void)
{
	struct vm vm;
	vm_init_bare(&vm);
	struct kvm_cpuid2 *c = cpuid_supported(vm.kvm);
	CHECK_EQ(1u << 16, cpuid_entry(c, 7, 0)->ecx & (1u << 16));
	CHECK_EQ(57, (cpuid_entry(c, 0x80000008, 0)->eax >> 8) & 0xff);
	free(c);
	vm_fini(&vm);
}

static void five_levels(void)
{
	struct box b;
	box_init(&b, true, true);
	memcpy(b.vm.mem + DATA, "\x39\0\0\0", 4);
	vcpu_restart(&b.v, s_read, s_read_end, HIGH + DATA);
	CHECK_EQ(0x39, RUN_EXPECT_OUT(&b.v, 0x10));
	vcpu_restart(&b.v, s_read, s_read_end, DATA);   /* and through PML5[0] */
	CHECK_EQ(0x39, RUN_EXPECT_OUT(&b.v, 0x10));
	/* 57-bit canonical FS base. */
	vcpu_restart(&b.v, s_fsbase, s_fsbase_end, 0xff01000000000000ull);
	RUN_EXPECT_OUT(&b.v, 0x10);
	/* Leaving 5-level paging in long mode: #GP. */
	vcpu_restart(&b.v, s_cr4, s_cr4_end, CR4_LA57);
	CHECK_EQ(0, RUN_EXPECT_OUT(&b.v, 0x50));
	vcpu_fini(&b.v);
	vm_fini(&b.vm);
}

static void four_levels(void)
{
	struct box b;
	box_init(&b, true, false);
	vcpu_restart(&b.v, s_read, s_read_end, HIGH + DATA);
	CHECK_EQ(0, RUN_EXPECT_OUT(&b.v, 0x50));   /* non-canonical */
	vcpu_restart(&b.v, s_fsbase, s_fsbase_end, 0xff01000000000000ull);
	CHECK_EQ(0, RUN_EXPECT_OUT(&b.v, 0x50));
	/* Entering 5-level paging in long mode: #GP too. */
	vcpu_restart(&b.v, s_cr4, s_cr4_end, CR4_LA57);
	CHECK_EQ(0, RUN_EXPECT_OUT(&b.v, 0x50));
	vcpu_fini(&b.v);
	vm_fini(&b.vm);
}

static void without_cpuid(void)
{
	struct box b;
	box_init(&b, false, false);
	struct kvm_sregs s = get_sregs(&b.v);
	s.cr3 = PML5;
	s.cr4 |= CR4_LA57;
	CHECK_ERRNO(ioctl(b.v.fd, KVM_SET_SREGS, &s), EINVAL);
	vcpu_fini(&b.v);
	vm_fini(&b.vm);
}

int main(void)
{
	RUN_CASE(cpuid);
	RUN_CASE(five_levels);
	RUN_CASE(four_levels);
	RUN_CASE(without_cpuid);
	return t_done();
}
