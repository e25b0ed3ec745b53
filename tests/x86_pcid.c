/* PCID and INVPCID (SDM vol. 3 4.10.1, INVPCID):
 * - CPUID 1.ECX[17] and 7.EBX[10] offered;
 * - MOV to CR4 setting PCIDE: #GP while CR3[11:0] is not 0; allowed in
 *   long mode with PCID 0; refused by the CR4 rules without PCID in CPUID;
 * - MOV to CR3 with PCIDE: bits 11:0 are the PCID, bit 63 (no flush) is
 *   not stored; without PCIDE bit 63 is reserved (#GP);
 * - clearing CR0.PG with PCIDE set: #GP;
 * - INVPCID: types 0-3 work (translations stay right), type > 3, a PCID
 *   above 0xfff for types 0/1 and a non-canonical address for type 0: #GP;
 *   #UD without INVPCID in CPUID.
 */
#include "vm.h"

#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#define DESC 0x30000
#define CR4_PCIDE (1ull << 17)

/* #GP: 0x50 (the error code); #UD: 0x52. */
GUEST_CODE(gp_isr, 64, "mov (%rsp), %rax\n out %eax, $0x50\n hlt\n");
GUEST_CODE(ud_isr, 64, "out %al, $0x52\n hlt\n");
/* CR4 |= RBX, then out CR4. */
GUEST_CODE(s_cr4, 64, "mov %cr4, %rax\n or %rbx, %rax\n mov %rax, %cr4\n mov %cr4, %rax\n"
		  "out %eax, $0x10\n hlt\n");
/* CR3 = RBX, then CR3's low and high halves, then a load through it. */
GUEST_CODE(s_cr3, 64, "mov %rbx, %cr3\n mov %cr3, %rax\n out %eax, $0x10\n shr $32, %rax\n"
		  "out %eax, $0x11\n mov 0x30000, %eax\n out %eax, $0x12\n hlt\n");
GUEST_CODE(s_pgoff, 64, "mov %cr0, %rax\n btr $31, %rax\n mov %rax, %cr0\n out %al, $0x10\n hlt\n");
/* INVPCID type RBX, descriptor at DESC, then a load. */
GUEST_CODE(s_invpcid, 64, "invpcid 0x30000, %rbx\n mov 0x30010, %eax\n out %eax, $0x10\n hlt\n");

struct box {
	struct vm vm;
	struct vcpu v;
};

static void box_init(struct box *b, bool pcid)
{
	vm_init(&b->vm);
	vcpu_init(&b->vm, &b->v, 0);
	struct kvm_cpuid2 *c = cpuid_supported(b->vm.kvm);
	CHECK_EQ(1u << 17, cpuid_entry(c, 1, 0)->ecx & (1u << 17));
	CHECK_EQ(1u << 10, cpuid_entry(c, 7, 0)->ebx & (1u << 10));
	if (!pcid) {
		cpuid_entry(c, 1, 0)->ecx &= ~(1u << 17);
		cpuid_entry(c, 7, 0)->ebx &= ~(1u << 10);
	}
	CHECK_OK(ioctl(b->v.fd, KVM_SET_CPUID2, c));
	free(c);
	vcpu_setup(&b->v, MODE_LONG, G_CODE);
	guest_load(&b->vm, 0x3000, gp_isr, gp_isr_end);
	guest_load(&b->vm, 0x3100, ud_isr, ud_isr_end);
	idt_set(&b->v, 13, 0x3000);
	idt_set(&b->v, 6, 0x3100);
	memcpy(b->vm.mem + 0x30010, "\x17\0\0\0", 4);
}

static void fini(struct box *b)
{
	vcpu_fini(&b->v);
	vm_fini(&b->vm);
}

static void set_desc(struct box *b, uint64_t pcid, uint64_t lin)
{
	memcpy(b->vm.mem + DESC, &pcid, 8);
	memcpy(b->vm.mem + DESC + 8, &lin, 8);
}

static void pcid(void)
{
	struct box b;
	box_init(&b, true);
	/* Bit 63 without PCIDE: reserved. */
	vcpu_restart(&b.v, s_cr3, s_cr3_end, G_PT | 1ull << 63);
	CHECK_EQ(0, RUN_EXPECT_OUT(&b.v, 0x50));
	/* PCIDE with a non-zero PCID in CR3: #GP; with PCID 0: set. */
	vcpu_restart(&b.v, s_cr3, s_cr3_end, G_PT | 5);
	CHECK_EQ(G_PT | 5, RUN_EXPECT_OUT(&b.v, 0x10));
	RUN_EXPECT_OUT(&b.v, 0x11);
	RUN_EXPECT_OUT(&b.v, 0x12);
	vcpu_restart(&b.v, s_cr4, s_cr4_end, CR4_PCIDE);
	CHECK_EQ(0, RUN_EXPECT_OUT(&b.v, 0x50));
	vcpu_restart(&b.v, s_cr3, s_cr3_end, G_PT);
	RUN_EXPECT_OUT(&b.v, 0x10);
	RUN_EXPECT_OUT(&b.v, 0x11);
	RUN_EXPECT_OUT(&b.v, 0x12);
	vcpu_restart(&b.v, s_cr4, s_cr4_end, CR4_PCIDE);
	CHECK_EQ(CR4_PCIDE, RUN_EXPECT_OUT(&b.v, 0x10) & CR4_PCIDE);
	/* PCID 7 with the no-flush bit: CR3 keeps the PCID, not bit 63. */
	vcpu_restart(&b.v, s_cr3, s_cr3_end, G_PT | 7 | 1ull << 63);
	CHECK_EQ(G_PT | 7, RUN_EXPECT_OUT(&b.v, 0x10));
	CHECK_EQ(0, RUN_EXPECT_OUT(&b.v, 0x11));
	CHECK_EQ(0, RUN_EXPECT_OUT(&b.v, 0x12));
	/* INVPCID, every type, and its #GPs. */
	set_desc(&b, 7, 0x30000);
	for (uint64_t t = 0; t < 4; t++) {
		vcpu_restart(&b.v, s_invpcid, s_invpcid_end, t);
		CHECK_EQ(0x17, RUN_EXPECT_OUT(&b.v, 0x10));
	}
	vcpu_restart(&b.v, s_invpcid, s_invpcid_end, 4);
	CHECK_EQ(0, RUN_EXPECT_OUT(&b.v, 0x50));
	set_desc(&b, 0x1000, 0x30000);
	vcpu_restart(&b.v, s_invpcid, s_invpcid_end, 1);
	CHECK_EQ(0, RUN_EXPECT_OUT(&b.v, 0x50));
	set_desc(&b, 7, 0x0001000000000000ull);
	vcpu_restart(&b.v, s_invpcid, s_invpcid_end, 0);
	CHECK_EQ(0, RUN_EXPECT_OUT(&b.v, 0x50));
	/* Paging off with PCIDE: #GP. */
	vcpu_restart(&b.v, s_pgoff, s_pgoff_end, 0);
	CHECK_EQ(0, RUN_EXPECT_OUT(&b.v, 0x50));
	fini(&b);
}

static void without_cpuid(void)
{
	struct box b;
	box_init(&b, false);
	vcpu_restart(&b.v, s_cr4, s_cr4_end, CR4_PCIDE);
	CHECK_EQ(0, RUN_EXPECT_OUT(&b.v, 0x50));
	set_desc(&b, 0, 0);
	vcpu_restart(&b.v, s_invpcid, s_invpcid_end, 2);
	RUN_EXPECT_OUT(&b.v, 0x52);
	fini(&b);
}

int main(void)
{
	RUN_CASE(pcid);
	RUN_CASE(without_cpuid);
	return t_done();
}
