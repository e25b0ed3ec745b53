/* System Management Mode: KVM_CAP_X86_SMM, KVM_SMI, an SMI sent to self
 * through the local APIC, the save area in KVM's 32-bit and 64-bit layouts,
 * the SMM entry state, memslot address space 1 while in SMM, RSM (and its
 * #UD outside SMM, its shutdown on a bad save area), SMBASE relocation,
 * NMIs blocked in SMM, INIT latched in SMM, the smi fields of
 * KVM_GET/SET_VCPU_EVENTS and KVM_RUN_X86_SMM in kvm_run->flags.
 *
 * SMRAM is an address-space-1 slot at 0x30000..0x6ffff (the default SMBASE
 * 0x30000 and a relocated one, 0x50000) backed by its own memory, over
 * slot 0's RAM there: the handler reads the SMRAM copy, while the rest of
 * guest memory (absent from address space 1) is MMIO in SMM. */
#include "vm.h"

#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/mman.h>

#define SMRAM_GPA 0x30000
#define SMRAM_SIZE 0x40000
#define SMBASE2 0x50000
#define MSR_SMBASE 0x9e

/* SMM handler (real-mode-like, CS.base = SMBASE, IP 0x8000): announce
 * itself, write a marker into SMRAM, read a word of SMRAM and one of normal
 * RAM (MMIO here), report both, RSM. */
GUEST_CODE(smm_handler, 16,
	"mov $0x5a, %al\n"
	"out %al, $0x10\n"
	"movl $0xcafef00d, %cs:0x7000\n"
	"mov %cs:0x7004, %eax\n"
	"out %eax, $0x11\n"
	"mov 0x600, %eax\n"
	"out %eax, $0x12\n"
	"rsm\n");

/* 32-bit protected mode: count in EBX and report it forever; an NMI
 * handler and a #UD handler report themselves. */
GUEST_CODE(g32, 32,
	"mov $1, %ebx\n"
	"1: mov %ebx, %eax\n"
	"out %eax, $0x50\n"
	"g32_next:\n"
	"inc %ebx\n"
	"jmp 1b\n"
	"g32_nmi:\n"
	"out %al, $0x52\n"
	"iret\n"
	"g32_ud:\n"
	"out %al, $0x66\n"
	"hlt\n"
	"g32_rsm:\n"
	"rsm\n"
	"g32_ipi:\n"
	"movl $0x00040200, 0xfee00300\n"   /* self, delivery mode SMI */
	"g32_ipi_next:\n"
	"out %al, $0x51\n"
	"hlt\n");
GUEST_LABEL(g32_next);
GUEST_LABEL(g32_nmi);
GUEST_LABEL(g32_ud);
GUEST_LABEL(g32_rsm);
GUEST_LABEL(g32_ipi);
GUEST_LABEL(g32_ipi_next);

/* 64-bit: a counter with bits above 32 in R8, reported by halves. */
GUEST_CODE(g64, 64,
	"mov $0x100000001, %r8\n"
	"1: mov %r8, %rax\n"
	"out %eax, $0x50\n"
	"shr $32, %rax\n"
	"out %eax, $0x53\n"
	"g64_next:\n"
	"inc %r8\n"
	"jmp 1b\n");
GUEST_LABEL(g64_next);

struct smm_vm {
	struct vm vm;
	struct vcpu v;
	uint8_t *smram;   /* host memory of the address-space-1 slot */
};

static uint32_t sm32(struct smm_vm *s, uint64_t smbase, unsigned off)
{
	uint32_t v;
	memcpy(&v, s->smram + smbase - SMRAM_GPA + 0x8000 + off, 4);
	return v;
}

static uint64_t sm64(struct smm_vm *s, uint64_t smbase, unsigned off)
{
	uint64_t v;
	memcpy(&v, s->smram + smbase - SMRAM_GPA + 0x8000 + off, 8);
	return v;
}

static void put_sm32(struct smm_vm *s, uint64_t smbase, unsigned off, uint32_t v)
{
	memcpy(s->smram + smbase - SMRAM_GPA + 0x8000 + off, &v, 4);
}

static void smm_init(struct smm_vm *s, bool irqchip)
{
	vm_init(&s->vm);
	if (irqchip)
		CHECK_OK(ioctl(s->vm.fd, KVM_CREATE_IRQCHIP, 0UL));
	vcpu_init(&s->vm, &s->v, 0);
	s->smram = map_anon(SMRAM_SIZE);
	CHECK_OK(vm_set_slot(&s->vm, (1u << 16) | 0, SMRAM_GPA, SMRAM_SIZE, s->smram, 0));
	size_t n = (size_t)(smm_handler_end - smm_handler);
	memcpy(s->smram + 0x8000, smm_handler, n);
	memcpy(s->smram + SMBASE2 - SMRAM_GPA + 0x8000, smm_handler, n);
	/* The word the handler reads: SMRAM's, not the RAM under it. */
	uint32_t w = 0x13579bdf, ram = 0xdeadbeef;
	memcpy(s->smram + 0x7004, &w, 4);
	memcpy(s->smram + SMBASE2 - SMRAM_GPA + 0x7004, &w, 4);
	memcpy(s->vm.mem + SMRAM_GPA + 0x7004, &ram, 4);
	memcpy(s->vm.mem + SMRAM_GPA + 0x7000, &ram, 4);
}

static void smm_fini(struct smm_vm *s)
{
	vcpu_fini(&s->v);
	vm_fini(&s->vm);
	munmap(s->smram, SMRAM_SIZE);
}

static void setup_g32(struct smm_vm *s)
{
	GUEST_LOAD(&s->vm, g32);
	vcpu_setup(&s->v, MODE_PROT32, G_CODE);
	idt_set(&s->v, 2, GUEST_ADDR(g32, g32_nmi));
	idt_set(&s->v, 6, GUEST_ADDR(g32, g32_ud));
}

static bool in_smm_flag(struct vcpu *v)
{
	return v->run->flags & KVM_RUN_X86_SMM;
}

static uint64_t get_msr(struct vcpu *v, uint32_t idx)
{
	uint64_t val = 0;
	CHECK(msr_get(v->fd, idx, &val));
	return val;
}

/* The handler from its first exit to RSM; the MMIO read of 0x600 gets
 * mmio_val. */
static void handler_runs(struct smm_vm *s, uint64_t smbase, uint32_t mmio_val)
{
	struct vcpu *v = &s->v;
	CHECK_EQ(0x5a, RUN_EXPECT_OUT(v, 0x10) & 0xff);
	CHECK(in_smm_flag(v));
	struct kvm_sregs sr = get_sregs(v);
	CHECK_EQ(smbase, sr.cs.base);
	CHECK_EQ((smbase >> 4) & 0xffff, sr.cs.selector);
	CHECK_EQ(0xffffffffu, sr.cs.limit);
	CHECK_EQ(0, sr.cr0 & 1);
	CHECK_EQ(0, sr.cr4);
	CHECK_EQ(0, sr.idt.limit);
	CHECK_EQ(0, sr.ds.base);
	CHECK_EQ(0x8002, get_regs(v).rip);   /* at the OUT, as KVM reports it */
	CHECK_EQ(2, get_regs(v).rflags);
	CHECK_EQ(0x13579bdf, RUN_EXPECT_OUT(v, 0x11));
	uint32_t mark;
	memcpy(&mark, s->smram + smbase - SMRAM_GPA + 0x7000, 4);
	CHECK_EQ(0xcafef00d, mark);
	CHECK(in_smm_flag(v));
	/* 0x600 is RAM in address space 0 only: MMIO in SMM. */
	if (RUN_EXPECT_EXIT(v, KVM_EXIT_MMIO)) {
		CHECK_EQ(0x600, v->run->mmio.phys_addr);
		CHECK_EQ(0, v->run->mmio.is_write);
		memcpy(v->run->mmio.data, &mmio_val, 4);
	}
	CHECK_EQ(mmio_val, RUN_EXPECT_OUT(v, 0x12));
}

/* KVM_SMI in 32-bit protected mode: the 32-bit save area, the entry state,
 * the events, RSM back to the next instruction. */
static void smi_ioctl_32(void)
{
	struct smm_vm s;
	smm_init(&s, false);
	struct vcpu *v = &s.v;
	CHECK_EQ(1, check_ext(s.vm.fd, KVM_CAP_X86_SMM));
	CHECK_EQ(1, check_ext(s.vm.kvm, KVM_CAP_X86_SMM));
	CHECK_EQ(2, check_ext(s.vm.fd, KVM_CAP_MULTI_ADDRESS_SPACE));
	setup_g32(&s);
	CHECK_EQ(1, RUN_EXPECT_OUT(v, 0x50));
	CHECK(!in_smm_flag(v));
	CHECK_EQ(SMRAM_GPA, get_msr(v, MSR_SMBASE));
	CHECK_OK(ioctl(v->fd, KVM_SMI));
	struct kvm_vcpu_events e = get_events(v);
	CHECK(e.flags & KVM_VCPUEVENT_VALID_SMM);
	CHECK_EQ(1, e.smi.pending);
	CHECK_EQ(0, e.smi.smm);
	handler_runs(&s, SMRAM_GPA, 0x11223344);
	/* The save area, 32-bit layout. */
	CHECK_EQ(0x00020000, sm32(&s, SMRAM_GPA, 0x7efc));
	CHECK_EQ(SMRAM_GPA, sm32(&s, SMRAM_GPA, 0x7ef8));
	CHECK_EQ(GUEST_ADDR(g32, g32_next), sm32(&s, SMRAM_GPA, 0x7ff0));
	CHECK_EQ(1, sm32(&s, SMRAM_GPA, 0x7fd0 + 3 * 4));   /* EBX */
	CHECK_EQ(1, sm32(&s, SMRAM_GPA, 0x7ffc) & 1);       /* CR0.PE */
	CHECK_EQ(SEL_CODE32, sm32(&s, SMRAM_GPA, 0x7fa8 + 1 * 4));
	CHECK_EQ(G_GDT, sm32(&s, SMRAM_GPA, 0x7f74));
	e = get_events(v);
	CHECK_EQ(1, e.smi.smm);
	CHECK_EQ(0, e.smi.pending);
	CHECK_EQ(0, e.smi.smm_inside_nmi);
	CHECK_EQ(1, e.nmi.masked);
	/* The RAM under SMRAM was not written. */
	uint32_t ram;
	memcpy(&ram, s.vm.mem + SMRAM_GPA + 0x7000, 4);
	CHECK_EQ(0xdeadbeef, ram);
	/* RSM: back in protected mode at the next instruction. */
	CHECK_EQ(2, RUN_EXPECT_OUT(v, 0x50));
	CHECK(!in_smm_flag(v));
	e = get_events(v);
	CHECK_EQ(0, e.smi.smm);
	CHECK_EQ(0, e.nmi.masked);
	CHECK_EQ(SEL_CODE32, get_sregs(v).cs.selector);
	smm_fini(&s);
}

/* The handler moves SMBASE through the save area; the next SMI enters at
 * the new base. */
static void smbase_relocation(void)
{
	struct smm_vm s;
	smm_init(&s, false);
	struct vcpu *v = &s.v;
	setup_g32(&s);
	CHECK_EQ(1, RUN_EXPECT_OUT(v, 0x50));
	CHECK_OK(ioctl(v->fd, KVM_SMI));
	handler_runs(&s, SMRAM_GPA, 0);
	put_sm32(&s, SMRAM_GPA, 0x7ef8, SMBASE2);
	CHECK_EQ(2, RUN_EXPECT_OUT(v, 0x50));
	CHECK_EQ(SMBASE2, get_msr(v, MSR_SMBASE));
	CHECK_OK(ioctl(v->fd, KVM_SMI));
	handler_runs(&s, SMBASE2, 7);
	CHECK_EQ(SMBASE2, sm32(&s, SMBASE2, 0x7ef8));
	CHECK_EQ(3, RUN_EXPECT_OUT(v, 0x50));
	smm_fini(&s);
}

/* A self-SMI through the xAPIC ICR is taken before the next instruction;
 * INIT is latched while in SMM. */
static void smi_self_ipi(void)
{
	struct smm_vm s;
	smm_init(&s, true);
	struct vcpu *v = &s.v;
	setup_g32(&s);
	struct kvm_regs r = get_regs(v);
	r.rip = GUEST_ADDR(g32, g32_ipi);
	set_regs(v, &r);
	CHECK_EQ(0x5a, RUN_EXPECT_OUT(v, 0x10) & 0xff);
	CHECK(in_smm_flag(v));
	CHECK_EQ(GUEST_ADDR(g32, g32_ipi_next), sm32(&s, SMRAM_GPA, 0x7ff0));
	/* A latched INIT is reported and stays latched in SMM. */
	struct kvm_vcpu_events e = get_events(v);
	CHECK_EQ(0, e.smi.latched_init);
	e.flags = KVM_VCPUEVENT_VALID_SMM;
	e.smi.latched_init = 1;
	CHECK_OK(ioctl(v->fd, KVM_SET_VCPU_EVENTS, &e));
	CHECK_EQ(0x13579bdf, RUN_EXPECT_OUT(v, 0x11));
	CHECK(in_smm_flag(v));
	e = get_events(v);
	CHECK_EQ(1, e.smi.latched_init);
	CHECK_EQ(1, e.smi.smm);
	struct kvm_mp_state mp;
	CHECK_OK(ioctl(v->fd, KVM_GET_MP_STATE, &mp));
	CHECK_EQ(KVM_MP_STATE_RUNNABLE, mp.mp_state);
	e.smi.latched_init = 0;
	CHECK_OK(ioctl(v->fd, KVM_SET_VCPU_EVENTS, &e));
	CHECK_EQ(0, get_events(v).smi.latched_init);
	if (RUN_EXPECT_EXIT(v, KVM_EXIT_MMIO))
		memset(v->run->mmio.data, 0, 8);
	CHECK_EQ(0, RUN_EXPECT_OUT(v, 0x12));
	/* RSM: the instruction after the ICR write. */
	RUN_EXPECT_OUT(v, 0x51);
	CHECK(!in_smm_flag(v));
	smm_fini(&s);
}

/* KVM_SET_VCPU_EVENTS: a pending SMI, and the SMM flag itself (with all
 * RAM also in address space 1, as VMMs map it). */
static void events_round_trip(void)
{
	struct smm_vm s;
	smm_init(&s, false);
	struct vcpu *v = &s.v;
	setup_g32(&s);
	CHECK_EQ(1, RUN_EXPECT_OUT(v, 0x50));
	struct kvm_vcpu_events e = get_events(v);
	e.flags = KVM_VCPUEVENT_VALID_SMM;
	e.smi.pending = 1;
	CHECK_OK(ioctl(v->fd, KVM_SET_VCPU_EVENTS, &e));
	CHECK_EQ(1, get_events(v).smi.pending);
	handler_runs(&s, SMRAM_GPA, 5);
	/* smm_inside_nmi round trip while in SMM. */
	e = get_events(v);
	e.flags = KVM_VCPUEVENT_VALID_SMM;
	e.smi.smm_inside_nmi = 1;
	CHECK_OK(ioctl(v->fd, KVM_SET_VCPU_EVENTS, &e));
	CHECK_EQ(1, get_events(v).smi.smm_inside_nmi);
	e.smi.smm_inside_nmi = 0;
	CHECK_OK(ioctl(v->fd, KVM_SET_VCPU_EVENTS, &e));
	CHECK_EQ(2, RUN_EXPECT_OUT(v, 0x50));
	/* Flags outside VALID_SMM leave the smi fields alone. */
	e = get_events(v);
	e.flags = 0;
	e.smi.smm = 1;
	e.smi.pending = 1;
	CHECK_OK(ioctl(v->fd, KVM_SET_VCPU_EVENTS, &e));
	e = get_events(v);
	CHECK_EQ(0, e.smi.smm);
	CHECK_EQ(0, e.smi.pending);
	/* The SMM flag alone switches the address space: put RAM in slot 1 of
	 * address space 1 and the guest runs on, reported in SMM. */
	CHECK_OK(vm_set_slot(&s.vm, (1u << 16) | 1, 0, SMRAM_GPA, s.vm.mem, 0));
	e.flags = KVM_VCPUEVENT_VALID_SMM;
	e.smi.smm = 1;
	e.smi.pending = 0;
	CHECK_OK(ioctl(v->fd, KVM_SET_VCPU_EVENTS, &e));
	CHECK_EQ(1, get_events(v).smi.smm);
	CHECK_EQ(3, RUN_EXPECT_OUT(v, 0x50));
	CHECK(in_smm_flag(v));
	e.smi.smm = 0;
	CHECK_OK(ioctl(v->fd, KVM_SET_VCPU_EVENTS, &e));
	CHECK_EQ(4, RUN_EXPECT_OUT(v, 0x50));
	CHECK(!in_smm_flag(v));
	smm_fini(&s);
}

/* An NMI arriving in SMM waits for RSM; one blocked before SMM stays
 * blocked after it (smm_inside_nmi). */
static void nmi_in_smm(void)
{
	struct smm_vm s;
	smm_init(&s, false);
	struct vcpu *v = &s.v;
	setup_g32(&s);
	CHECK_EQ(1, RUN_EXPECT_OUT(v, 0x50));
	CHECK_OK(ioctl(v->fd, KVM_SMI));
	CHECK_EQ(0x5a, RUN_EXPECT_OUT(v, 0x10) & 0xff);
	CHECK_OK(ioctl(v->fd, KVM_NMI));
	CHECK_EQ(0x13579bdf, RUN_EXPECT_OUT(v, 0x11));
	CHECK_EQ(1, get_events(v).nmi.pending);
	if (RUN_EXPECT_EXIT(v, KVM_EXIT_MMIO))
		memset(v->run->mmio.data, 0, 8);
	RUN_EXPECT_OUT(v, 0x12);
	/* RSM unblocks NMIs: the handler runs before the next instruction. */
	RUN_EXPECT_OUT(v, 0x52);
	CHECK(!in_smm_flag(v));
	CHECK_EQ(2, RUN_EXPECT_OUT(v, 0x50));
	/* NMIs blocked when the SMI came: still blocked after RSM. */
	struct kvm_vcpu_events e = get_events(v);
	e.flags = 0;
	e.nmi.masked = 1;
	CHECK_OK(ioctl(v->fd, KVM_SET_VCPU_EVENTS, &e));
	CHECK_OK(ioctl(v->fd, KVM_SMI));
	CHECK_EQ(0x5a, RUN_EXPECT_OUT(v, 0x10) & 0xff);
	e = get_events(v);
	CHECK_EQ(1, e.smi.smm_inside_nmi);
	CHECK_EQ(1, e.nmi.masked);
	RUN_EXPECT_OUT(v, 0x11);
	if (RUN_EXPECT_EXIT(v, KVM_EXIT_MMIO))
		memset(v->run->mmio.data, 0, 8);
	RUN_EXPECT_OUT(v, 0x12);
	CHECK_EQ(3, RUN_EXPECT_OUT(v, 0x50));
	CHECK_EQ(1, get_events(v).nmi.masked);
	smm_fini(&s);
}

/* The 64-bit save area of a guest whose CPUID has long mode; RSM returns
 * to 64-bit mode with the full registers. */
static void smi_long_mode(void)
{
	struct smm_vm s;
	smm_init(&s, false);
	struct vcpu *v = &s.v;
	int n = 100;
	struct kvm_cpuid2 *c = calloc(1, sizeof(*c) + n * sizeof(struct kvm_cpuid_entry2));
	c->nent = n;
	CHECK_OK(ioctl(s.vm.kvm, KVM_GET_SUPPORTED_CPUID, c));
	CHECK_OK(ioctl(v->fd, KVM_SET_CPUID2, c));
	free(c);
	GUEST_LOAD(&s.vm, g64);
	vcpu_setup(v, MODE_LONG, G_CODE);
	CHECK_EQ(1, RUN_EXPECT_OUT(v, 0x50));
	CHECK_EQ(1, RUN_EXPECT_OUT(v, 0x53));
	CHECK_OK(ioctl(v->fd, KVM_SMI));
	handler_runs(&s, SMRAM_GPA, 9);
	CHECK_EQ(0x00020064, sm32(&s, SMRAM_GPA, 0x7efc));
	CHECK_EQ(SMRAM_GPA, sm32(&s, SMRAM_GPA, 0x7f00));
	CHECK_EQ(GUEST_ADDR(g64, g64_next), sm64(&s, SMRAM_GPA, 0x7f78));
	CHECK_EQ(0x100000001ull, sm64(&s, SMRAM_GPA, 0x7ff8 - 8 * 8));   /* R8 */
	CHECK_EQ(0x80000001u, sm64(&s, SMRAM_GPA, 0x7f58) & 0x80000001u);
	CHECK_EQ(0x500, sm64(&s, SMRAM_GPA, 0x7ed0) & 0x500);             /* LME, LMA */
	CHECK_EQ(G_PT, sm64(&s, SMRAM_GPA, 0x7f50));
	CHECK_EQ(0, get_sregs(v).efer);
	CHECK_EQ(2, RUN_EXPECT_OUT(v, 0x50));
	CHECK_EQ(1, RUN_EXPECT_OUT(v, 0x53));
	struct kvm_sregs sr = get_sregs(v);
	CHECK_EQ(1, sr.cs.l);
	CHECK_EQ(0x500, sr.efer & 0x500);
	smm_fini(&s);
}

/* RSM outside SMM is #UD; a save area RSM cannot load shuts down. */
static void rsm_faults(void)
{
	struct smm_vm s;
	smm_init(&s, false);
	struct vcpu *v = &s.v;
	setup_g32(&s);
	struct kvm_regs r = get_regs(v);
	r.rip = GUEST_ADDR(g32, g32_rsm);
	set_regs(v, &r);
	RUN_EXPECT_OUT(v, 0x66);
	CHECK_OK(ioctl(v->fd, KVM_SMI));
	CHECK_EQ(0x5a, RUN_EXPECT_OUT(v, 0x10) & 0xff);
	/* CR0.PG without CR0.PE. */
	put_sm32(&s, SMRAM_GPA, 0x7ffc, 0x80000010u);
	RUN_EXPECT_OUT(v, 0x11);
	if (RUN_EXPECT_EXIT(v, KVM_EXIT_MMIO))
		memset(v->run->mmio.data, 0, 8);
	RUN_EXPECT_OUT(v, 0x12);
	RUN_EXPECT_EXIT(v, KVM_EXIT_SHUTDOWN);
	smm_fini(&s);
}

int main(void)
{
	RUN_CASE(smi_ioctl_32);
	RUN_CASE(smbase_relocation);
	RUN_CASE(smi_self_ipi);
	RUN_CASE(events_round_trip);
	RUN_CASE(nmi_in_smm);
	RUN_CASE(smi_long_mode);
	RUN_CASE(rsm_faults);
	return t_done();
}
