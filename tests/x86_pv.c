/* KVM's paravirtual features (Documentation/virt/kvm/x86/msr.rst,
 * cpuid.rst, hypercalls.rst) as Linux 6.1 implements them:
 * - leaf 0x40000001 of KVM_GET_SUPPORTED_CPUID offers what is implemented;
 * - MSR_KVM_STEAL_TIME: the record is updated at each KVM_RUN entry (version
 *   even and two higher, junk odd versions fixed, preempted cleared,
 *   steal not decreasing), at once on the guest's enabling write, and the
 *   reserved bits 1-5 refused;
 * - MSR_KVM_PV_EOI_EN: the flag is set for an interrupt with nothing else
 *   pending; the guest clearing it is its EOI; with another interrupt in
 *   IRR the flag stays clear;
 * - async PF: the MSRs' validation, and the "wake all" (token ~0 through
 *   MSR_KVM_ASYNC_PF_INT's vector) that enabling queues, ACKed;
 * - KVM_HC_KICK_CPU wakes a vCPU halted with IF=0; KVM_HC_SEND_IPI delivers
 *   fixed IPIs by physical APIC ID bitmap and refuses logical ones;
 * - KVM_CAP_ENFORCE_PV_FEATURE_CPUID: with leaf 0x40000001 empty every PV
 *   MSR access #GPs and the PV hypercalls return -KVM_ENOSYS;
 * - the vCPU attribute KVM_VCPU_TSC_CTRL/KVM_VCPU_TSC_OFFSET.
 */
#include "vm.h"

#include <pthread.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <time.h>
#include <x86intrin.h>

#define MSR_STEAL_TIME 0x4b564d03u
#define MSR_PV_EOI 0x4b564d04u
#define MSR_APF_EN 0x4b564d02u
#define MSR_APF_INT 0x4b564d06u
#define MSR_APF_ACK 0x4b564d07u
#define MSR_POLL 0x4b564d05u
#define ST_GPA 0x21000u
#define EOI_GPA 0x22000u
#define APF_GPA 0x23000u

/* KVM_SET_MSRS / KVM_GET_MSRS of one MSR (vm.c's msr_set/msr_get). */
static bool set_msr(struct vcpu *v, uint32_t idx, uint64_t val)
{
	return msr_set(v->fd, idx, val);
}

static uint64_t get_msr(struct vcpu *v, uint32_t idx)
{
	uint64_t val = 0;
	CHECK(msr_get(v->fd, idx, &val));
	return val;
}

static struct kvm_cpuid2 *supported_cpuid(struct vm *vm)
{
	return cpuid_supported(vm->kvm);
}

static struct kvm_cpuid_entry2 *find_leaf(struct kvm_cpuid2 *c, uint32_t fn)
{
	for (uint32_t i = 0; i < c->nent; i++)
		if (c->entries[i].function == fn)
			return &c->entries[i];
	return NULL;
}

/* ---- CPUID ---- */

static void cpuid_leaf(void)
{
	struct vm vm;
	vm_init_bare(&vm);
	struct kvm_cpuid2 *c = supported_cpuid(&vm);
	struct kvm_cpuid_entry2 *e = find_leaf(c, 0x40000001);
	if (CHECK(e)) {
		/* CLOCKSOURCE(2), NOP_IO_DELAY, ASYNC_PF(+VMEXIT, INT), STEAL_TIME,
		 * PV_EOI, PV_UNHALT, PV_TLB_FLUSH, PV_SEND_IPI, POLL_CONTROL,
		 * PV_SCHED_YIELD, CLOCKSOURCE_STABLE_BIT; no hints. */
		CHECK_EQ(0x0100fefbu, e->eax);
		CHECK_EQ(0, e->edx);
	}
	CHECK_EQ(1, ioctl(vm.kvm, KVM_CHECK_EXTENSION, KVM_CAP_ENFORCE_PV_FEATURE_CPUID));
	CHECK_EQ(1, ioctl(vm.kvm, KVM_CHECK_EXTENSION, KVM_CAP_VCPU_ATTRIBUTES));
	free(c);
	vm_fini(&vm);
}

/* ---- steal time ---- */

GUEST_CODE(st_code, 32,
	"out %al, $0x10\n"
	"out %al, $0x10\n"
	/* The guest's own enabling write publishes at once. */
	"mov $0x4b564d03, %ecx\n"
	"mov $0x21041, %eax\n"
	"xor %edx, %edx\n"
	"wrmsr\n"
	"mov 0x21048, %eax\n"
	"out %eax, $0x11\n"
	"hlt\n");

struct steal {
	uint64_t steal;
	uint32_t version, flags;
	uint8_t preempted, pad8[3];
	uint32_t pad[11];
};

static void steal_time(void)
{
	struct vm vm;
	struct vcpu v;
	vm_init(&vm);
	vcpu_init(&vm, &v, 0);
	GUEST_LOAD(&vm, st_code);
	vcpu_setup(&v, MODE_PROT32, G_CODE);
	CHECK(!set_msr(&v, MSR_STEAL_TIME, ST_GPA | 0x3e | 1));   /* reserved bits */
	CHECK(!set_msr(&v, MSR_STEAL_TIME, ST_GPA | 2 | 1));
	struct steal *st = (struct steal *)(vm.mem + ST_GPA);
	st->version = 5;   /* junk, odd */
	st->preempted = 1;
	st->flags = 0x77;
	CHECK(set_msr(&v, MSR_STEAL_TIME, ST_GPA | 1));
	CHECK_EQ(ST_GPA | 1, get_msr(&v, MSR_STEAL_TIME));
	CHECK_EQ(5, st->version);   /* the host's write waits for KVM_RUN */
	RUN_EXPECT_OUT(&v, 0x10);
	CHECK_EQ(8, st->version);
	CHECK_EQ(0, st->preempted);
	CHECK_EQ(0x77, st->flags);   /* flags are the guest's */
	uint64_t s0 = st->steal;
	st->preempted = 1;
	RUN_EXPECT_OUT(&v, 0x10);
	CHECK_EQ(10, st->version);
	CHECK_EQ(0, st->preempted);
	CHECK(st->steal >= s0);
	struct steal *st2 = (struct steal *)(vm.mem + ST_GPA + 0x40);
	CHECK_EQ(2, RUN_EXPECT_OUT(&v, 0x11));
	CHECK_EQ(2, st2->version);
	/* Disabled: entries leave the record alone. */
	CHECK(set_msr(&v, MSR_STEAL_TIME, ST_GPA));
	RUN_EXPECT_EXIT(&v, KVM_EXIT_HLT);
	CHECK_EQ(12, st->version);   /* the third entry's, before the guest moved it */
	CHECK_EQ(2, st2->version);
	vcpu_fini(&v);
	vm_fini(&vm);
}

/* ---- PV EOI ---- */

/* The handler EOIs as Linux does: test-and-clear the PV flag, else the
 * APIC's EOI register; it logs the flag it found at 0x710 + n. */
GUEST_CODE(eoi_code, 32,
	"movl $0x1ff, 0xfee000f0\n"
	"mov $0x4b564d04, %ecx\n"
	"mov $0x22001, %eax\n"
	"xor %edx, %edx\n"
	"wrmsr\n"
	"sti\n"
	/* One self-IPI, nothing else pending: the flag is offered. */
	"movl $0x00044040, 0xfee00300\n"
	"1: cmpl $1, 0x700\n"
	"jb 1b\n"
	/* Two at once: 0x50 first, with 0x40 still in IRR. */
	"cli\n"
	"movl $0x00044040, 0xfee00300\n"
	"movl $0x00044050, 0xfee00300\n"
	"sti\n"
	"2: cmpl $3, 0x700\n"
	"jb 2b\n"
	"mov 0x700, %eax\n"
	"out %eax, $0x12\n"
	"hlt\n"
	".org 0x100\n"
	"push %eax\n"
	"push %ebx\n"
	"mov 0x700, %ebx\n"
	"movzbl 0x22000, %eax\n"
	"mov %al, 0x710(%ebx)\n"
	"btrl $0, 0x22000\n"
	"jc 3f\n"
	"movl $0, 0xfee000b0\n"
	"3: incl 0x700\n"
	"pop %ebx\n"
	"pop %eax\n"
	"iret\n");

static void pv_eoi(void)
{
	struct vm vm;
	struct vcpu v;
	vm_init(&vm);
	if (!CHECK_OK(ioctl(vm.fd, KVM_CREATE_IRQCHIP, 0UL)))
		return;
	vcpu_init(&vm, &v, 0);
	GUEST_LOAD(&vm, eoi_code);
	vcpu_setup(&v, MODE_PROT32, G_CODE);
	idt_set(&v, 0x40, G_CODE + 0x100);
	idt_set(&v, 0x50, G_CODE + 0x100);
	CHECK(!set_msr(&v, MSR_PV_EOI, EOI_GPA | 2 | 1));   /* not 4-byte aligned */
	CHECK(!set_msr(&v, MSR_PV_EOI, 0x40000000u | 1));   /* no memory there */
	CHECK_EQ(3, RUN_EXPECT_OUT(&v, 0x12));
	CHECK_EQ(EOI_GPA | 1, get_msr(&v, MSR_PV_EOI));
	CHECK_EQ(1, vm.mem[0x710]);   /* alone: PV EOI */
	CHECK_EQ(0, vm.mem[0x711]);   /* 0x50 with 0x40 waiting: a real EOI */
	CHECK_EQ(1, vm.mem[0x712]);
	struct kvm_lapic_state l;
	if (CHECK_OK(ioctl(v.fd, KVM_GET_LAPIC, &l)))
		for (int i = 0; i < 8; i++) {
			uint32_t isr, irr;
			memcpy(&isr, l.regs + 0x100 + 0x10 * i, 4);
			memcpy(&irr, l.regs + 0x200 + 0x10 * i, 4);
			CHECK_EQ(0, isr);
			CHECK_EQ(0, irr);
		}
	vcpu_fini(&v);
	vm_fini(&vm);
}

/* ---- async PF ---- */

GUEST_CODE(apf_code, 32,
	"movl $0x1ff, 0xfee000f0\n"
	"xor %edx, %edx\n"
	"mov $0x4b564d06, %ecx\n"
	"mov $0xec, %eax\n"
	"wrmsr\n"
	"mov $0x4b564d02, %ecx\n"
	"mov $0x23009, %eax\n"
	"wrmsr\n"
	"sti\n"
	"1: cmpl $1, 0x700\n"
	"jb 1b\n"
	"mov 0x704, %eax\n"
	"out %eax, $0x13\n"
	"hlt\n"
	".org 0x100\n"
	"push %eax\n"
	"push %ecx\n"
	"push %edx\n"
	"mov 0x23004, %eax\n"
	"mov %eax, 0x704\n"
	"movl $0, 0x23004\n"
	"mov $0x4b564d07, %ecx\n"
	"mov $1, %eax\n"
	"xor %edx, %edx\n"
	"wrmsr\n"
	"movl $0, 0xfee000b0\n"
	"incl 0x700\n"
	"pop %edx\n"
	"pop %ecx\n"
	"pop %eax\n"
	"iret\n");

static void async_pf(void)
{
	struct vm vm;
	struct vcpu v;
	/* Without an in-kernel LAPIC only 0 is taken. */
	vm_init(&vm);
	vcpu_init(&vm, &v, 0);
	CHECK(!set_msr(&v, MSR_APF_EN, APF_GPA | 1));
	CHECK(set_msr(&v, MSR_APF_EN, 0));
	vcpu_fini(&v);
	vm_fini(&vm);

	vm_init(&vm);
	if (!CHECK_OK(ioctl(vm.fd, KVM_CREATE_IRQCHIP, 0UL)))
		return;
	vcpu_init(&vm, &v, 0);
	CHECK(!set_msr(&v, MSR_APF_EN, APF_GPA | 0x10 | 1));   /* reserved */
	CHECK(!set_msr(&v, MSR_APF_EN, APF_GPA | 0x20 | 1));
	CHECK(!set_msr(&v, MSR_APF_INT, 0x100));
	CHECK(set_msr(&v, MSR_APF_INT, 0xff));
	CHECK_EQ(0xff, get_msr(&v, MSR_APF_INT));
	CHECK(set_msr(&v, MSR_APF_ACK, 1));
	CHECK_EQ(0, get_msr(&v, MSR_APF_ACK));
	CHECK(set_msr(&v, MSR_APF_EN, APF_GPA | 2 | 1));   /* SEND_ALWAYS, as a #PF: queued nothing */
	CHECK_EQ(APF_GPA | 3, get_msr(&v, MSR_APF_EN));
	CHECK(!set_msr(&v, MSR_APF_EN, 0x40000000u | 8 | 1));   /* no memory there */
	CHECK(set_msr(&v, MSR_APF_EN, 0));
	CHECK(set_msr(&v, MSR_POLL, 0));
	CHECK(!set_msr(&v, MSR_POLL, 2));
	/* The guest enables delivery as an interrupt: one "wake all". */
	GUEST_LOAD(&vm, apf_code);
	vcpu_setup(&v, MODE_PROT32, G_CODE);
	idt_set(&v, 0xec, G_CODE + 0x100);
	CHECK_EQ(0xffffffffu, RUN_EXPECT_OUT(&v, 0x13));
	uint32_t token;
	memcpy(&token, vm.mem + APF_GPA + 4, 4);
	CHECK_EQ(0, token);
	vcpu_fini(&v);
	vm_fini(&vm);
}

/* ---- KVM_HC_KICK_CPU and KVM_HC_SEND_IPI ---- */

GUEST_CODE(kick_code, 32,
	/* vCPU 0 */
	"movl $0x1ff, 0xfee000f0\n"
	"1: cmpl $1, 0x700\n"
	"jne 1b\n"
	"mov $100000, %ecx\n"
	"2: pause\n"
	"loop 2b\n"
	"mov $5, %eax\n"
	"xor %ebx, %ebx\n"
	"mov $1, %ecx\n"
	"vmcall\n"
	"out %eax, $0x10\n"
	"3: cmpl $2, 0x700\n"
	"jne 3b\n"
	"mov $10, %eax\n"
	"mov $2, %ebx\n"
	"xor %ecx, %ecx\n"
	"xor %edx, %edx\n"
	"mov $0x60, %esi\n"
	"vmcall\n"
	"out %eax, $0x11\n"
	"mov $10, %eax\n"
	"mov $0x860, %esi\n"
	"vmcall\n"
	"out %eax, $0x12\n"
	"hlt\n"
	/* vCPU 1: halts with IF=0, which only a kick ends. */
	".org 0x100\n"
	"movl $0x1ff, 0xfee000f0\n"
	"cli\n"
	"movl $1, 0x700\n"
	"hlt\n"
	"movl $2, 0x700\n"
	"4: cli\n"
	"cmpl $1, 0x704\n"
	"jae 5f\n"
	"sti\n"
	"hlt\n"
	"jmp 4b\n"
	"5: out %al, $0x31\n"
	"hlt\n"
	".org 0x200\n"
	"incl 0x704\n"
	"movl $0, 0xfee000b0\n"
	"iret\n");

static void *kick_ap(void *arg)
{
	RUN_EXPECT_OUT((struct vcpu *)arg, 0x31);
	return NULL;
}

static void kick_and_ipi(void)
{
	struct vm vm;
	struct vcpu v0, v1;
	vm_init(&vm);
	if (!CHECK_OK(ioctl(vm.fd, KVM_CREATE_IRQCHIP, 0UL)))
		return;
	vcpu_init(&vm, &v0, 0);
	vcpu_init(&vm, &v1, 1);
	GUEST_LOAD(&vm, kick_code);
	vcpu_setup(&v0, MODE_PROT32, G_CODE);
	vcpu_setup(&v1, MODE_PROT32, G_CODE + 0x100);
	idt_set(&v0, 0x60, G_CODE + 0x200);
	struct kvm_mp_state mp = {.mp_state = KVM_MP_STATE_RUNNABLE};
	CHECK_OK(ioctl(v1.fd, KVM_SET_MP_STATE, &mp));
	pthread_t t;
	pthread_create(&t, NULL, kick_ap, &v1);
	CHECK_EQ(0, RUN_EXPECT_OUT(&v0, 0x10));
	CHECK_EQ(1, RUN_EXPECT_OUT(&v0, 0x11));             /* one vCPU reached */
	CHECK_EQ((uint32_t)-22, RUN_EXPECT_OUT(&v0, 0x12)); /* logical: -KVM_EINVAL */
	pthread_join(t, NULL);
	CHECK_EQ(1, *(uint32_t *)(vm.mem + 0x704));
	vcpu_fini(&v0);
	vcpu_fini(&v1);
	vm_fini(&vm);
}

/* ---- KVM_CAP_ENFORCE_PV_FEATURE_CPUID ---- */

GUEST_CODE(enf_code, 32,
	"mov $0x10, %esi\n"   /* index into the MSR list at 0x780 */
	"1: sub $1, %esi\n"
	"js 2f\n"
	"mov 0x780(,%esi,4), %ecx\n"
	"rdmsr\n"
	"xor %eax, %eax\n"
	"xor %edx, %edx\n"
	"wrmsr\n"
	"jmp 1b\n"
	"2: mov 0x700, %eax\n"
	"out %eax, $0x10\n"
	"xor %esi, %esi\n"
	"mov $5, %eax\n"
	"xor %ebx, %ebx\n"
	"xor %ecx, %ecx\n"
	"vmcall\n"
	"out %eax, $0x11\n"
	"mov $10, %eax\n"
	"vmcall\n"
	"out %eax, $0x11\n"
	"mov $11, %eax\n"
	"vmcall\n"
	"out %eax, $0x11\n"
	"mov $1, %eax\n"
	"vmcall\n"
	"out %eax, $0x11\n"
	"hlt\n"
	/* #GP: count, skip the 2-byte RDMSR/WRMSR. */
	".org 0x100\n"
	"incl 0x700\n"
	"addl $2, 4(%esp)\n"
	"add $4, %esp\n"
	"iret\n");

static const uint32_t pv_msrs[10] = {0x11, 0x12, 0x4b564d00, 0x4b564d01, MSR_APF_EN,
				     MSR_STEAL_TIME, MSR_PV_EOI, MSR_POLL, MSR_APF_INT,
				     MSR_APF_ACK};

static void enforce_run(bool enforce)
{
	struct vm vm;
	struct vcpu v;
	vm_init(&vm);
	vcpu_init(&vm, &v, 0);
	GUEST_LOAD(&vm, enf_code);
	vcpu_setup(&v, MODE_PROT32, G_CODE);
	idt_set(&v, 13, G_CODE + 0x100);
	/* 16 slots, the list repeated up to 16 with kvmclock's (0x11 twice...). */
	uint32_t list[16];
	for (int i = 0; i < 16; i++)
		list[i] = pv_msrs[i % 10];
	memcpy(vm.mem + 0x780, list, sizeof(list));
	struct kvm_cpuid2 *c = supported_cpuid(&vm);
	find_leaf(c, 0x40000001)->eax = 0;
	if (enforce) {
		struct kvm_enable_cap cap = {.cap = KVM_CAP_ENFORCE_PV_FEATURE_CPUID, .args = {1}};
		CHECK_OK(ioctl(v.fd, KVM_ENABLE_CAP, &cap));
	}
	CHECK_OK(ioctl(v.fd, KVM_SET_CPUID2, c));
	CHECK_EQ(enforce ? 0 : 1, set_msr(&v, MSR_POLL, 1));   /* the host too */
	CHECK_EQ(enforce ? 32 : 0, RUN_EXPECT_OUT(&v, 0x10));
	uint32_t nosys = enforce ? (uint32_t)-1000 : 0;
	CHECK_EQ(nosys, RUN_EXPECT_OUT(&v, 0x11));          /* KICK_CPU */
	CHECK_EQ(enforce ? nosys : (uint32_t)-95, RUN_EXPECT_OUT(&v, 0x11)); /* SEND_IPI, no APIC */
	CHECK_EQ(nosys, RUN_EXPECT_OUT(&v, 0x11));          /* SCHED_YIELD */
	CHECK_EQ(0, RUN_EXPECT_OUT(&v, 0x11));              /* VAPIC_POLL_IRQ */
	free(c);
	vcpu_fini(&v);
	vm_fini(&vm);
}

static void enforce_cpuid(void)
{
	enforce_run(true);
	enforce_run(false);
}

/* ---- KVM_VCPU_TSC_OFFSET ---- */

GUEST_CODE(tsc_code, 32,
	"rdtsc\n"
	"out %eax, $0x10\n"
	"mov %edx, %eax\n"
	"out %eax, $0x11\n"
	"hlt\n");

/* The host's TSC when KVM_GET_CLOCK says the guest's counts from it
 * (KVM_CLOCK_HOST_TSC), else its monotonic ns (a 1 GHz TSC). */
static uint64_t host_tsc(int vm_fd)
{
	struct kvm_clock_data d;
	CHECK_OK(ioctl(vm_fd, KVM_GET_CLOCK, &d));
	if (d.flags & KVM_CLOCK_HOST_TSC)
		return __rdtsc();
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

static void tsc_offset(void)
{
	struct vm vm;
	struct vcpu v;
	vm_init(&vm);
	vcpu_init(&vm, &v, 0);
	GUEST_LOAD(&vm, tsc_code);
	vcpu_setup(&v, MODE_PROT32, G_CODE);
	uint64_t off = 0;
	struct kvm_device_attr a = {.group = KVM_VCPU_TSC_CTRL, .attr = KVM_VCPU_TSC_OFFSET,
				    .addr = (uint64_t)(uintptr_t)&off};
	CHECK_OK(ioctl(v.fd, KVM_HAS_DEVICE_ATTR, &a));
	struct kvm_device_attr bad = a;
	bad.attr = 1;
	CHECK_ERRNO(ioctl(v.fd, KVM_HAS_DEVICE_ATTR, &bad), ENXIO);
	bad = a;
	bad.group = 7;
	CHECK_ERRNO(ioctl(v.fd, KVM_GET_DEVICE_ATTR, &bad), ENXIO);
	bad = a;
	bad.addr = 8;
	CHECK_ERRNO(ioctl(v.fd, KVM_GET_DEVICE_ATTR, &bad), EFAULT);
	/* The guest TSC is the host's plus the offset (unscaled by default). */
	off = (5ull << 32) - host_tsc(vm.fd);
	CHECK_OK(ioctl(v.fd, KVM_SET_DEVICE_ATTR, &a));
	uint64_t got = 0;
	a.addr = (uint64_t)(uintptr_t)&got;
	CHECK_OK(ioctl(v.fd, KVM_GET_DEVICE_ATTR, &a));
	CHECK_EQ(off, got);
	uint64_t tsc = get_msr(&v, 0x10);
	CHECK(tsc >= (5ull << 32) && tsc < (5ull << 32) + 100000000000ull);
	RUN_EXPECT_OUT(&v, 0x10);
	CHECK_EQ(5, RUN_EXPECT_OUT(&v, 0x11));
	vcpu_fini(&v);
	vm_fini(&vm);
}

int main(void)
{
	RUN_CASE(cpuid_leaf);
	RUN_CASE(steal_time);
	RUN_CASE(pv_eoi);
	RUN_CASE(async_pf);
	RUN_CASE(kick_and_ipi);
	RUN_CASE(enforce_cpuid);
	RUN_CASE(tsc_offset);
	return t_done();
}
