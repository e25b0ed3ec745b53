/* Call gates in 32-bit protected mode: CALL far from ring 3 through a
 * 386 call gate to a ring 0 segment switches to the TSS's ring 0 stack and
 * pushes the caller's SS:ESP, the gate's two parameters (copied from the
 * caller's stack) and CS:EIP; RET far with an immediate returns to ring 3
 * and releases the parameters from both stacks. JMP through the same gate
 * from ring 3 is a #GP with the target selector (a JMP never changes
 * privilege); a gate whose DPL is below the caller's CPL is a #GP with
 * the gate's selector; a gate not present is a #NP. In long mode a 64-bit
 * call gate switches to the TSS's RSP0 with a null SS and pushes SS, RSP,
 * CS, RIP as 8-byte values; RETF (REX.W) goes back to ring 3. */
#include "vm.h"

#include <sys/ioctl.h>

enum {
	SEL_UCODE = 0x20, SEL_UDATA = 0x28, SEL_TSS = 0x30, SEL_GATE = 0x38,
	SEL_GATE0 = 0x40, SEL_GATE_NP = 0x48, GDT_LIMIT = 0x4f,
	TSS = 0x21000, USTACK = 0x1e000, KSTACK = 0x1f000,
};

GUEST_CODE(cg, 32,
	/* ring 0: IRET to ring 3 at user (IOPL 3 so that OUT works there) */
	"push $0x2b\n"                /* SS: SEL_UDATA | 3 */
	"push $0x1e000\n"
	"push $0x3002\n"
	"push $0x23\n"                /* CS: SEL_UCODE | 3 */
	"push $0x1000 + cg_user - cg\n"
	"iret\n"
	"cg_user:\n"
	"push $0x11111111\n"
	"push $0x22222222\n"
	"lcall $0x3b, $0\n"           /* the gate, RPL 3 */
	"cg_ret:\n"
	"mov %esp, %eax\n out %eax, $0x80\n"
	"mov %cs, %eax\n out %eax, $0x81\n"
	"mov %ss, %eax\n out %eax, $0x82\n"
	"ljmp $0x3b, $0\n"            /* JMP through the gate: #GP(0x08) */
	"cg_jmp:\n"
	"lcall $0x43, $0\n"           /* gate DPL 0 < CPL 3: #GP(0x40) */
	"cg_dpl:\n"
	"lcall $0x4b, $0\n"           /* gate not present: #NP(0x48) */
	"cg_np:\n"
	"out %eax, $0x99\n"
	/* ring 0 through the gate */
	"cg_handler:\n"
	"mov 0(%esp), %eax\n out %eax, $0x70\n"
	"mov 4(%esp), %eax\n out %eax, $0x71\n"
	"mov 8(%esp), %eax\n out %eax, $0x72\n"
	"mov 12(%esp), %eax\n out %eax, $0x73\n"
	"mov 16(%esp), %eax\n out %eax, $0x74\n"
	"mov 20(%esp), %eax\n out %eax, $0x75\n"
	"mov %cs, %eax\n out %eax, $0x76\n"
	"mov %ss, %eax\n out %eax, $0x77\n"
	"mov %esp, %eax\n out %eax, $0x78\n"
	"lret $8\n"
	/* #GP and #NP (ring 0, interrupt gates): report the error code and
	 * go on after the faulting instruction (its length is 7). */
	"cg_fault:\n"
	"mov 0(%esp), %eax\n out %eax, $0x90\n"
	"add $4, %esp\n"
	"addl $7, 0(%esp)\n"
	"iret\n");
GUEST_LABEL(cg_ret);
GUEST_LABEL(cg_handler);
GUEST_LABEL(cg_fault);

static void put64(struct vm *vm, uint64_t gpa, uint64_t v)
{
	memcpy(vm->mem + gpa, &v, 8);
}

static uint64_t seg_desc(unsigned type, unsigned dpl)
{
	/* base 0, limit 4 GiB, 32-bit, present, code or data */
	return 0xffffull | 0xfull << 48 | 1ull << 55 | 1ull << 54 | 1ull << 47 |
	       (uint64_t)dpl << 45 | 1ull << 44 | (uint64_t)type << 40;
}

static uint64_t call_gate(uint16_t sel, uint32_t off, unsigned dpl, unsigned params, bool present)
{
	return (off & 0xffff) | (uint64_t)sel << 16 | (uint64_t)params << 32 | 0xcull << 40 |
	       (uint64_t)dpl << 45 | (uint64_t)present << 47 | (uint64_t)(off >> 16) << 48;
}

static void setup(struct vm *vm, struct vcpu *v)
{
	vm_init(vm);
	vcpu_init(vm, v, 0);
	GUEST_LOAD(vm, cg);
	vcpu_setup(v, MODE_PROT32, G_CODE);
	put64(vm, G_GDT + SEL_UCODE, seg_desc(0xb, 3));
	put64(vm, G_GDT + SEL_UDATA, seg_desc(0x3, 3));
	put64(vm, G_GDT + SEL_TSS, (0x67) | (uint64_t)(TSS & 0xffffff) << 16 | 0x89ull << 40);
	uint32_t h = (uint32_t)GUEST_ADDR(cg, cg_handler);
	put64(vm, G_GDT + SEL_GATE, call_gate(SEL_CODE32, h, 3, 2, true));
	put64(vm, G_GDT + SEL_GATE0, call_gate(SEL_CODE32, h, 0, 2, true));
	put64(vm, G_GDT + SEL_GATE_NP, call_gate(SEL_CODE32, h, 3, 2, false));
	memset(vm->mem + TSS, 0, 0x68);
	uint32_t esp0 = KSTACK, ss0 = SEL_DATA;
	memcpy(vm->mem + TSS + 4, &esp0, 4);
	memcpy(vm->mem + TSS + 8, &ss0, 4);
	struct kvm_sregs s = get_sregs(v);
	s.gdt.limit = GDT_LIMIT;
	s.tr.selector = SEL_TSS;
	s.tr.base = TSS;
	s.tr.limit = 0x67;
	s.tr.type = 0xb;
	s.tr.s = 0;
	s.tr.present = 1;
	s.tr.unusable = 0;
	CHECK_OK(ioctl(v->fd, KVM_SET_SREGS, &s));
	idt_set(v, 13, GUEST_ADDR(cg, cg_fault));
	idt_set(v, 11, GUEST_ADDR(cg, cg_fault));
}

static void call_from_ring3(void)
{
	struct vm vm;
	struct vcpu v;
	setup(&vm, &v);
	static const struct { uint16_t port; uint32_t val; } want[] = {
		{0x70, 0}, {0x71, SEL_UCODE | 3}, {0x72, 0x22222222}, {0x73, 0x11111111},
		{0x74, USTACK - 8}, {0x75, SEL_UDATA | 3}, {0x76, SEL_CODE32}, {0x77, SEL_DATA},
		{0x78, KSTACK - 24}, {0x80, USTACK}, {0x81, SEL_UCODE | 3}, {0x82, SEL_UDATA | 3},
		{0x90, SEL_CODE32}, {0x90, SEL_GATE0}, {0x90, SEL_GATE_NP},
	};
	for (size_t k = 0; k < sizeof(want) / sizeof(want[0]); k++) {
		uint32_t got = RUN_EXPECT_OUT(&v, want[k].port);
		uint32_t exp = want[k].port == 0x70 ? (uint32_t)GUEST_ADDR(cg, cg_ret) : want[k].val;
		if (!CHECK_EQ(exp, got)) {
			fprintf(stderr, "     port %#x\n", want[k].port);
			break;
		}
	}
	CHECK(RUN_EXPECT_OUT(&v, 0x99) != ~0u);
	vcpu_fini(&v);
	vm_fini(&vm);
}

GUEST_CODE(cg64, 64,
	"push $0x2b\n"
	"push $0x1e000\n"
	"push $0x3002\n"
	"push $0x23\n"                /* SEL_UCODE (64-bit) | 3 */
	"push $0x1000 + u64 - cg64\n"
	"iretq\n"
	"u64:\n"
	"lea farptr(%rip), %rax\n"
	"lcall *(%rax)\n"
	"u64_ret:\n"
	"mov %rsp, %rax\n out %eax, $0x80\n"
	"mov %cs, %eax\n out %eax, $0x81\n"
	"out %eax, $0x99\n"
	"h64:\n"
	"mov 0(%rsp), %rax\n out %eax, $0x70\n"
	"mov 8(%rsp), %rax\n out %eax, $0x71\n"
	"mov 16(%rsp), %rax\n out %eax, $0x72\n"
	"mov 24(%rsp), %rax\n out %eax, $0x73\n"
	"mov %ss, %eax\n out %eax, $0x74\n"
	"mov %rsp, %rax\n out %eax, $0x75\n"
	"mov %cs, %eax\n out %eax, $0x76\n"
	"lretq\n"
	"farptr: .long 0\n .word 0x43\n");
GUEST_LABEL(u64_ret);
GUEST_LABEL(h64);

static void call_gate64(void)
{
	struct vm vm;
	struct vcpu v;
	vm_init(&vm);
	vcpu_init(&vm, &v, 0);
	GUEST_LOAD(&vm, cg64);
	vcpu_setup(&v, MODE_LONG, G_CODE);
	put64(&vm, G_GDT + 0x20, (seg_desc(0xb, 3) & ~(1ull << 54)) | 1ull << 53);   /* L=1, D=0 */
	put64(&vm, G_GDT + 0x28, seg_desc(0x3, 3));
	put64(&vm, G_GDT + 0x30, 0x67 | (uint64_t)(TSS & 0xffffff) << 16 | 0x89ull << 40);
	put64(&vm, G_GDT + 0x38, 0);
	uint64_t h = GUEST_ADDR(cg64, h64);
	put64(&vm, G_GDT + 0x40, call_gate(SEL_CODE64, (uint32_t)h, 3, 0, true));
	put64(&vm, G_GDT + 0x48, h >> 32);
	memset(vm.mem + TSS, 0, 0x68);
	uint64_t rsp0 = KSTACK;
	memcpy(vm.mem + TSS + 4, &rsp0, 8);
	struct kvm_sregs s = get_sregs(&v);
	s.gdt.limit = 0x4f;
	s.tr.selector = 0x30;
	s.tr.base = TSS;
	s.tr.limit = 0x67;
	s.tr.type = 0xb;
	s.tr.s = 0;
	s.tr.present = 1;
	s.tr.unusable = 0;
	CHECK_OK(ioctl(v.fd, KVM_SET_SREGS, &s));
	static const struct { uint16_t port; uint32_t val; } want[] = {
		{0x70, 0}, {0x71, 0x23}, {0x72, USTACK}, {0x73, 0x2b}, {0x74, 0},
		{0x75, KSTACK - 32}, {0x76, SEL_CODE64}, {0x80, USTACK}, {0x81, 0x23},
	};
	for (size_t k = 0; k < sizeof(want) / sizeof(want[0]); k++) {
		uint32_t got = RUN_EXPECT_OUT(&v, want[k].port);
		uint32_t exp = want[k].port == 0x70 ? (uint32_t)GUEST_ADDR(cg64, u64_ret) : want[k].val;
		if (!CHECK_EQ(exp, got)) {
			fprintf(stderr, "     port %#x\n", want[k].port);
			break;
		}
	}
	CHECK(RUN_EXPECT_OUT(&v, 0x99) != ~0u);
	vcpu_fini(&v);
	vm_fini(&vm);
}

int main(void)
{
	RUN_CASE(call_from_ring3);
	RUN_CASE(call_gate64);
	return t_done();
}
