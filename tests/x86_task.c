/* Hardware task switches in 32-bit protected mode: JMP and CALL far to a
 * TSS, a task gate in the GDT, IDT task gates for INT n and for an
 * exception (with and without an error code), IRET with EFLAGS.NT back to
 * the linked task; the outgoing state in the old TSS, the back link, the
 * busy bits, CR0.TS and TR; and the faults: JMP to a busy TSS (#GP), a TSS
 * below the minimum limit (#TS), a new task whose CS is not code (#TS, in
 * the new task). */
#include "vm.h"

#include <stdlib.h>
#include <sys/ioctl.h>

/* GDT selectors beyond vm.h's four. */
enum {
	SEL_TSS_A = 0x20, SEL_TSS_B = 0x28, SEL_TSS_C = 0x30, SEL_GATE_B = 0x38,
	SEL_TSS_SHORT = 0x40, SEL_TSS_BADCS = 0x48, SEL_TSS_G = 0x50, SEL_TSS16 = 0x58,
	GDT_LIMIT = 0x5f,
};
enum { TSS_A = 0x21000, TSS_B = 0x21100, TSS_C = 0x21200, TSS_BADCS = 0x21300,
       TSS_G = 0x21400, TSS16 = 0x21600 };
#define NT (1u << 14)

/* Task A (starts at G_CODE). */
GUEST_CODE(ta, 32,
	"mov $0xa1, %eax\n"
	"mov $0x1234, %esi\n"
	"ljmp $0x28, $0\n"
	"ta_after_jmp:\n"
	"out %eax, $0x50\n"
	"lcall $0x28, $0\n"
	"out %eax, $0x51\n"
	"int $0x40\n"
	"ta_after_int:\n"
	"out %eax, $0x52\n"
	"xor %ecx, %ecx\n"
	"ta_div:\n"
	"div %ecx\n"
	"out %eax, $0x53\n"
	"ljmp $0x38, $0\n"            /* through the GDT task gate */
	"out %eax, $0x54\n"
	"hlt\n"
	/* Task B. */
	"tb:\n"
	"out %eax, $0x60\n"
	"ljmp $0x20, $0\n"
	"out %eax, $0x61\n"
	"iret\n"
	"out %eax, $0x62\n"
	"ljmp $0x20, $0\n"
	/* Task C: INT 0x40, then #DE (it fixes A's saved ECX). */
	"tc:\n"
	"out %eax, $0x70\n"
	"iret\n"
	"movl $1, 0x2102c\n"
	"out %eax, $0x71\n"
	"iret\n"
	/* Fault cases, each entered with RIP set by the host. */
	"tf_busy:\n"
	"ljmp $0x20, $0\n"
	"tf_short:\n"
	"ljmp $0x40, $0\n"
	"tf_badcs:\n"
	"ljmp $0x48, $0\n"
	/* Interrupt-gate handlers: report the error code. */
	"h_gp:\n"
	"pop %eax\n"
	"out %eax, $0x80\n"
	"hlt\n"
	"h_ts:\n"
	"pop %eax\n"
	"out %eax, $0x81\n"
	"hlt\n"
	/* A task with a 16-bit TSS (32-bit code all the same). */
	"tf_16:\n"
	"mov $0x12345678, %eax\n"
	"ljmp $0x58, $0\n"
	"out %eax, $0x55\n"
	"hlt\n"
	"t16:\n"
	"out %eax, $0x63\n"
	"ljmp $0x20, $0\n"
	"t16_after:\n"
	/* Task G (IDT task gate for #GP): the error code is on its stack. */
	"tg:\n"
	"pop %eax\n"
	"out %eax, $0x82\n"
	"hlt\n");
GUEST_LABEL(ta_after_jmp);
GUEST_LABEL(ta_after_int);
GUEST_LABEL(ta_div);
GUEST_LABEL(tb);
GUEST_LABEL(tc);
GUEST_LABEL(tf_busy);
GUEST_LABEL(tf_short);
GUEST_LABEL(tf_badcs);
GUEST_LABEL(h_gp);
GUEST_LABEL(h_ts);
GUEST_LABEL(tg);
GUEST_LABEL(tf_16);
GUEST_LABEL(t16);
GUEST_LABEL(t16_after);

static uint64_t tss_desc(uint32_t base, uint32_t limit, unsigned type)
{
	return (limit & 0xffff) | (uint64_t)(base & 0xffffff) << 16 | (uint64_t)type << 40 |
	       1ull << 47 | (uint64_t)((limit >> 16) & 0xf) << 48 | (uint64_t)(base >> 24) << 56;
}

static uint64_t task_gate(uint16_t tss_sel)
{
	return (uint64_t)tss_sel << 16 | 0x85ull << 40;
}

static void put32(struct vm *vm, uint64_t gpa, uint32_t v)
{
	memcpy(vm->mem + gpa, &v, 4);
}

static uint32_t get32(struct vm *vm, uint64_t gpa)
{
	uint32_t v;
	memcpy(&v, vm->mem + gpa, 4);
	return v;
}

static void put64(struct vm *vm, uint64_t gpa, uint64_t v)
{
	memcpy(vm->mem + gpa, &v, 8);
}

static unsigned gdt_type(struct vm *vm, uint16_t sel)
{
	return vm->mem[G_GDT + sel + 5] & 0xf;
}

/* A 32-bit TSS whose task starts at eip with EAX = eax, flat segments. */
static void tss_init(struct vm *vm, uint32_t base, uint32_t eip, uint32_t eax, uint32_t esp,
		     uint16_t cs)
{
	memset(vm->mem + base, 0, 0x68);
	put32(vm, base + 0x20, eip);
	put32(vm, base + 0x24, 2);
	put32(vm, base + 0x28, eax);
	put32(vm, base + 0x38, esp);
	static const unsigned sregs[6] = {0x48, 0x4c, 0x50, 0x54, 0x58, 0x5c};
	for (int n = 0; n < 6; n++)
		put32(vm, base + sregs[n], n == 1 ? cs : SEL_DATA);
	put32(vm, base + 0x64, 0x680000);   /* I/O map base past the limit */
}

static void task_vm(struct vm *vm, struct vcpu *v)
{
	vm_init(vm);
	vcpu_init(vm, v, 0);
	GUEST_LOAD(vm, ta);
	vcpu_setup(v, MODE_PROT32, G_CODE);
	put64(vm, G_GDT + SEL_TSS_A, tss_desc(TSS_A, 0x67, 0xb));
	put64(vm, G_GDT + SEL_TSS_B, tss_desc(TSS_B, 0x67, 0x9));
	put64(vm, G_GDT + SEL_TSS_C, tss_desc(TSS_C, 0x67, 0x9));
	put64(vm, G_GDT + SEL_GATE_B, task_gate(SEL_TSS_B));
	put64(vm, G_GDT + SEL_TSS_SHORT, tss_desc(0x21500, 0x50, 0x9));
	put64(vm, G_GDT + SEL_TSS_BADCS, tss_desc(TSS_BADCS, 0x67, 0x9));
	put64(vm, G_GDT + SEL_TSS_G, tss_desc(TSS_G, 0x67, 0x9));
	put64(vm, G_GDT + SEL_TSS16, tss_desc(TSS16, 0x2b, 0x1));
	/* The 16-bit TSS: IP, FLAGS, AX..DI, ES, CS, SS, DS, LDT. */
	memset(vm->mem + TSS16, 0, 0x2c);
	uint16_t t16img[] = {
		[0x0e / 2] = (uint16_t)GUEST_ADDR(ta, t16), [0x10 / 2] = 2, [0x12 / 2] = 0x16,
		[0x1a / 2] = 0xa000, [0x22 / 2] = SEL_DATA, [0x24 / 2] = SEL_CODE32,
		[0x26 / 2] = SEL_DATA, [0x28 / 2] = SEL_DATA,
	};
	memcpy(vm->mem + TSS16, t16img, sizeof(t16img));
	memset(vm->mem + TSS_A, 0, 0x68);
	tss_init(vm, TSS_B, GUEST_ADDR(ta, tb), 0xb0, 0x1e000, SEL_CODE32);
	tss_init(vm, TSS_C, GUEST_ADDR(ta, tc), 0xc0, 0x1d000, SEL_CODE32);
	tss_init(vm, TSS_BADCS, GUEST_ADDR(ta, tc), 0xe0, 0x1c000, SEL_DATA);
	tss_init(vm, TSS_G, GUEST_ADDR(ta, tg), 0x90, 0x1b000, SEL_CODE32);
	struct kvm_sregs s = get_sregs(v);
	s.gdt.limit = GDT_LIMIT;
	s.tr.selector = SEL_TSS_A;
	s.tr.base = TSS_A;
	s.tr.limit = 0x67;
	s.tr.type = 0xb;
	s.tr.s = 0;
	s.tr.present = 1;
	s.tr.unusable = 0;
	CHECK_OK(ioctl(v->fd, KVM_SET_SREGS, &s));
	put64(vm, G_IDT + 0x40 * 8, task_gate(SEL_TSS_C));
	put64(vm, G_IDT + 0 * 8, task_gate(SEL_TSS_C));
	idt_set(v, 13, GUEST_ADDR(ta, h_gp));
	idt_set(v, 10, GUEST_ADDR(ta, h_ts));
}

/* JMP, CALL, IRET, INT n and #DE through task gates, a GDT task gate. */
static void switches(void)
{
	struct vm vm;
	struct vcpu v;
	task_vm(&vm, &v);
	/* JMP A -> B. */
	CHECK_EQ(0xb0, RUN_EXPECT_OUT(&v, 0x60));
	struct kvm_sregs s = get_sregs(&v);
	CHECK_EQ(SEL_TSS_B, s.tr.selector);
	CHECK_EQ(TSS_B, s.tr.base);
	CHECK_EQ(0xb, s.tr.type);
	CHECK(s.cr0 & 8);                                /* CR0.TS */
	CHECK_EQ(GUEST_ADDR(ta, ta_after_jmp), get32(&vm, TSS_A + 0x20));
	CHECK_EQ(0xa1, get32(&vm, TSS_A + 0x28));        /* EAX */
	CHECK_EQ(0x1234, get32(&vm, TSS_A + 0x40));      /* ESI */
	CHECK_EQ(SEL_CODE32, get32(&vm, TSS_A + 0x4c));  /* CS */
	CHECK_EQ(0x9, gdt_type(&vm, SEL_TSS_A));         /* no longer busy */
	CHECK_EQ(0xb, gdt_type(&vm, SEL_TSS_B));
	CHECK_EQ(0, get32(&vm, TSS_B) & 0xffff);         /* JMP: no back link */
	CHECK_EQ(0, get_regs(&v).rflags & NT);
	/* JMP B -> A: A resumes with its registers. */
	CHECK_EQ(0xa1, RUN_EXPECT_OUT(&v, 0x50));
	CHECK_EQ(SEL_TSS_A, get_sregs(&v).tr.selector);
	CHECK_EQ(0x1234, get_regs(&v).rsi);
	CHECK_EQ(0x9, gdt_type(&vm, SEL_TSS_B));
	CHECK_EQ(0xb, gdt_type(&vm, SEL_TSS_A));
	/* CALL A -> B: back link, NT, both busy. */
	CHECK_EQ(0xb0, RUN_EXPECT_OUT(&v, 0x61));
	CHECK_EQ(SEL_TSS_A, get32(&vm, TSS_B) & 0xffff);
	CHECK(get_regs(&v).rflags & NT);
	CHECK_EQ(0xb, gdt_type(&vm, SEL_TSS_A));
	CHECK_EQ(0xb, gdt_type(&vm, SEL_TSS_B));
	/* IRET B -> A. */
	CHECK_EQ(0xa1, RUN_EXPECT_OUT(&v, 0x51));
	CHECK_EQ(SEL_TSS_A, get_sregs(&v).tr.selector);
	CHECK_EQ(0x9, gdt_type(&vm, SEL_TSS_B));
	CHECK_EQ(0, get32(&vm, TSS_B + 0x24) & NT);      /* saved with NT clear */
	/* INT 0x40 through an IDT task gate -> C. */
	CHECK_EQ(0xc0, RUN_EXPECT_OUT(&v, 0x70));
	CHECK_EQ(SEL_TSS_C, get_sregs(&v).tr.selector);
	CHECK_EQ(SEL_TSS_A, get32(&vm, TSS_C) & 0xffff);
	CHECK_EQ(GUEST_ADDR(ta, ta_after_int), get32(&vm, TSS_A + 0x20));
	CHECK(get_regs(&v).rflags & NT);
	CHECK_EQ(0xa1, RUN_EXPECT_OUT(&v, 0x52));
	/* #DE through a task gate: A's saved EIP is the DIV itself. */
	CHECK_EQ(0xc0, RUN_EXPECT_OUT(&v, 0x71));
	CHECK_EQ(GUEST_ADDR(ta, ta_div), get32(&vm, TSS_A + 0x20));
	CHECK_EQ(0, get32(&vm, TSS_A + 0x30));           /* EDX */
	CHECK_EQ(0xa1, RUN_EXPECT_OUT(&v, 0x53));
	/* JMP through the GDT task gate -> B (resumes after its IRET). */
	CHECK_EQ(0xb0, RUN_EXPECT_OUT(&v, 0x62));
	CHECK_EQ(SEL_TSS_B, get_sregs(&v).tr.selector);
	CHECK_EQ(0, get_regs(&v).rflags & NT);
	CHECK_EQ(0xa1, RUN_EXPECT_OUT(&v, 0x54));
	vcpu_fini(&v);
	vm_fini(&vm);
}

static void start_at(struct vcpu *v, uint64_t rip)
{
	struct kvm_regs r = get_regs(v);
	r.rip = rip;
	set_regs(v, &r);
}

/* The checks before a switch and in the new task. */
static void faults(void)
{
	struct vm vm;
	struct vcpu v;
	/* JMP to the busy TSS of the running task: #GP(sel). */
	task_vm(&vm, &v);
	start_at(&v, GUEST_ADDR(ta, tf_busy));
	CHECK_EQ(SEL_TSS_A, RUN_EXPECT_OUT(&v, 0x80));
	CHECK_EQ(SEL_TSS_A, get_sregs(&v).tr.selector);
	vcpu_fini(&v);
	vm_fini(&vm);
	/* A 32-bit TSS with a limit below 0x67: #TS(sel), nothing switched. */
	task_vm(&vm, &v);
	start_at(&v, GUEST_ADDR(ta, tf_short));
	CHECK_EQ(SEL_TSS_SHORT, RUN_EXPECT_OUT(&v, 0x81));
	CHECK_EQ(SEL_TSS_A, get_sregs(&v).tr.selector);
	CHECK_EQ(0xb, gdt_type(&vm, SEL_TSS_A));
	vcpu_fini(&v);
	vm_fini(&vm);
	/* The new task's CS is a data segment: #TS(CS) in the new task. */
	task_vm(&vm, &v);
	start_at(&v, GUEST_ADDR(ta, tf_badcs));
	CHECK_EQ(SEL_DATA, RUN_EXPECT_OUT(&v, 0x81));
	CHECK_EQ(SEL_TSS_BADCS, get_sregs(&v).tr.selector);
	CHECK_EQ(0xb, gdt_type(&vm, SEL_TSS_BADCS));
	CHECK_EQ(0x9, gdt_type(&vm, SEL_TSS_A));
	vcpu_fini(&v);
	vm_fini(&vm);
	/* #GP through an IDT task gate: its error code on the new task's stack. */
	task_vm(&vm, &v);
	put64(&vm, G_IDT + 13 * 8, task_gate(SEL_TSS_G));
	start_at(&v, GUEST_ADDR(ta, tf_busy));
	CHECK_EQ(SEL_TSS_A, RUN_EXPECT_OUT(&v, 0x82));
	CHECK_EQ(SEL_TSS_G, get_sregs(&v).tr.selector);
	CHECK_EQ(0x1b000, get_regs(&v).rsp);
	CHECK_EQ(GUEST_ADDR(ta, tf_busy), get32(&vm, TSS_A + 0x20));
	vcpu_fini(&v);
	vm_fini(&vm);
}

/* A 16-bit TSS: 16-bit registers (zero-extended), no FS/GS, and the
 * outgoing state saved in its layout. */
static void tss16(void)
{
	struct vm vm;
	struct vcpu v;
	task_vm(&vm, &v);
	start_at(&v, GUEST_ADDR(ta, tf_16));
	CHECK_EQ(0x16, RUN_EXPECT_OUT(&v, 0x63));
	struct kvm_sregs s = get_sregs(&v);
	CHECK_EQ(SEL_TSS16, s.tr.selector);
	CHECK_EQ(0x3, s.tr.type);                        /* busy 16-bit TSS */
	CHECK_EQ(SEL_DATA, s.gs.selector);               /* untouched */
	CHECK_EQ(0xa000, get_regs(&v).rsp);
	CHECK_EQ(0x3, gdt_type(&vm, SEL_TSS16));
	CHECK_EQ(0x12345678, RUN_EXPECT_OUT(&v, 0x55));
	uint16_t ip;
	memcpy(&ip, vm.mem + TSS16 + 0x0e, 2);
	CHECK_EQ((uint16_t)GUEST_ADDR(ta, t16_after), ip);
	CHECK_EQ(0x1, gdt_type(&vm, SEL_TSS16));
	vcpu_fini(&v);
	vm_fini(&vm);
}

int main(void)
{
	RUN_CASE(switches);
	RUN_CASE(tss16);
	RUN_CASE(faults);
	return t_done();
}
