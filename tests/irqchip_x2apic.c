/* x2APIC mode of the in-kernel local APIC: IA32_APIC_BASE.EXTD, the
 * registers as MSRs 0x800-0x8ff (ID, LDR derived from the ID, SVR, TPR,
 * EOI, self IPI, ICR, timer), and the xAPIC page no longer answering. */
#include "vm.h"

#include <stdlib.h>
#include <sys/ioctl.h>

#define COUNT "0x600"

#define WRMSR(idx, lo) "mov $" #idx ", %ecx\nmov $" #lo ", %eax\nxor %edx, %edx\nwrmsr\n"
#define RDMSR_OUT(idx, port) "mov $" #idx ", %ecx\nrdmsr\nout %eax, $" #port "\n"

GUEST_CODE(x2_guest, 32,
	"mov $0x1b, %ecx\n"
	"rdmsr\n"
	"or $0xc00, %eax\n"
	"wrmsr\n"
	WRMSR(0x80f, 0x1ff)
	RDMSR_OUT(0x802, 0x10)          /* ID: the vCPU id */
	RDMSR_OUT(0x80d, 0x11)          /* LDR: cluster 0, bit (id & 15) */
	RDMSR_OUT(0x803, 0x12)          /* version */
	/* Self IPI, vector 0x48, taken at once (IF = 1). */
	"sti\n"
	WRMSR(0x83f, 0x48)
	"nop\n"
	"mov " COUNT ", %eax\n"
	"out %eax, $0x13\n"
	/* The same through the ICR with the self shorthand. */
	WRMSR(0x830, 0x40048)
	"nop\n"
	"mov " COUNT ", %eax\n"
	"out %eax, $0x14\n"
	/* TPR 0x50 blocks vector 0x48 until it is lowered. */
	WRMSR(0x808, 0x50)
	WRMSR(0x83f, 0x48)
	"nop\n"
	"mov " COUNT ", %eax\n"
	"out %eax, $0x15\n"
	WRMSR(0x808, 0)
	"nop\n"
	"mov " COUNT ", %eax\n"
	"out %eax, $0x16\n"
	/* One-shot timer through MSRs: vector 0x48 after 1 ms. */
	WRMSR(0x83e, 0xb)
	WRMSR(0x832, 0x48)
	WRMSR(0x838, 1000000)
	"1: cli\n"
	"cmpl $4, " COUNT "\n"
	"jae 2f\n"
	"sti\n"
	"hlt\n"
	"jmp 1b\n"
	"2: mov " COUNT ", %eax\n"
	"out %eax, $0x17\n"
	/* The xAPIC page reads as all ones in x2APIC mode. */
	"mov 0xfee00030, %eax\n"
	"out %eax, $0x18\n"
	"hlt\n"
	"x2_isr: incl " COUNT "\n"
	"push %eax\n"
	"push %ecx\n"
	"push %edx\n"
	WRMSR(0x80b, 0)
	"pop %edx\n"
	"pop %ecx\n"
	"pop %eax\n"
	"iret\n");
GUEST_LABEL(x2_isr);

static void x2apic_mode(void)
{
	struct vm vm;
	struct vcpu v, v0;
	vm_init(&vm);
	if (!CHECK_OK(ioctl(vm.fd, KVM_CREATE_IRQCHIP, 0UL)))
		return;
	vcpu_init(&vm, &v0, 0);
	vcpu_init(&vm, &v, 0x13);
	/* CPUID with x2APIC, as KVM requires for IA32_APIC_BASE.EXTD. */
	int n = 100;
	struct kvm_cpuid2 *c = calloc(1, sizeof(*c) + n * sizeof(struct kvm_cpuid_entry2));
	c->nent = n;
	CHECK_OK(ioctl(vm.kvm, KVM_GET_SUPPORTED_CPUID, c));
	for (unsigned i = 0; i < c->nent; i++)
		if (c->entries[i].function == 1)
			CHECK(c->entries[i].ecx & (1u << 21));
	CHECK_OK(ioctl(v.fd, KVM_SET_CPUID2, c));
	free(c);
	struct kvm_mp_state mp = {.mp_state = KVM_MP_STATE_RUNNABLE};
	CHECK_OK(ioctl(v.fd, KVM_SET_MP_STATE, &mp));
	GUEST_LOAD(&vm, x2_guest);
	vcpu_setup(&v, MODE_PROT32, G_CODE);
	idt_set(&v, 0x48, GUEST_ADDR(x2_guest, x2_isr));
	CHECK_EQ(0x13, RUN_EXPECT_OUT(&v, 0x10));
	CHECK_EQ((1u << 16) | (1u << 3), RUN_EXPECT_OUT(&v, 0x11));
	CHECK_EQ(0x50014, RUN_EXPECT_OUT(&v, 0x12));
	CHECK_EQ(1, RUN_EXPECT_OUT(&v, 0x13));
	CHECK_EQ(2, RUN_EXPECT_OUT(&v, 0x14));
	CHECK_EQ(2, RUN_EXPECT_OUT(&v, 0x15));
	CHECK_EQ(3, RUN_EXPECT_OUT(&v, 0x16));
	CHECK_EQ(4, RUN_EXPECT_OUT(&v, 0x17));
	CHECK_EQ(0xffffffff, RUN_EXPECT_OUT(&v, 0x18));
	CHECK_EQ(0xfee00c00, v.run->apic_base);
	/* IA32_APIC_BASE: EXTD without EN is invalid even from the host. */
	struct kvm_msrs *m = calloc(1, sizeof(*m) + sizeof(struct kvm_msr_entry));
	m->nmsrs = 1;
	m->entries[0].index = 0x1b;
	m->entries[0].data = 0xfee00400;
	CHECK_EQ(0, ioctl(v.fd, KVM_SET_MSRS, m));
	/* Without x2APIC in the guest's CPUID (vCPU 0 has none), EXTD is reserved. */
	m->entries[0].data = 0xfee00d00;
	CHECK_EQ(0, ioctl(v0.fd, KVM_SET_MSRS, m));
	m->entries[0].data = 0xfee00900;
	CHECK_EQ(1, ioctl(v0.fd, KVM_SET_MSRS, m));
	free(m);
	/* KVM_GET_LAPIC reports the ID in the xAPIC position (no
	 * KVM_CAP_X2APIC_API). */
	struct kvm_lapic_state l;
	if (CHECK_OK(ioctl(v.fd, KVM_GET_LAPIC, &l))) {
		uint32_t id;
		memcpy(&id, l.regs + 0x20, 4);
		CHECK_EQ(0x13u << 24, id);
	}
	vcpu_fini(&v);
	vcpu_fini(&v0);
	vm_fini(&vm);
}

int main(void)
{
	RUN_CASE(x2apic_mode);
	return t_done();
}
