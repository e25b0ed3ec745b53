/* X2: KVM_SET_VCPU_EVENTS honours KVM_VCPUEVENT_VALID_SHADOW,
 * _NMI_PENDING and _SIPI_VECTOR and leaves the state alone when a flag is
 * clear; a shadow set this way blocks interrupts for exactly one guest
 * instruction; a pending NMI set this way is delivered on entry. */
#include "vm.h"

#include <sys/ioctl.h>

GUEST_CODE(x2_nops, 32,
	"nop\n"
	"nop\n"
	"nop\n"
	"out %al, $0x10\n"
	"hlt\n"
	"x2_nmi: out %al, $0x12\n"
	"hlt\n");
GUEST_LABEL(x2_nmi);

GUEST_CODE(x2_exc, 32,
	"out %al, $0x10\n"
	"hlt\n"
	"x2_ud: mov (%esp), %eax\n"
	"out %eax, $0x16\n"
	"hlt\n");
GUEST_LABEL(x2_ud);

static void setup(struct vm *vm, struct vcpu *v, uint64_t rflags)
{
	vm_init(vm);
	vcpu_init(vm, v, 0);
	GUEST_LOAD(vm, x2_nops);
	vcpu_setup(v, MODE_PROT32, G_CODE);
	struct kvm_regs r = get_regs(v);
	r.rflags = rflags;
	set_regs(v, &r);
}

static int set_events(struct vcpu *v, struct kvm_vcpu_events *e)
{
	return ioctl(v->fd, KVM_SET_VCPU_EVENTS, e);
}

static void shadow_blocks_one_instruction(void)
{
	struct vm vm;
	struct vcpu v;
	setup(&vm, &v, 0x202);
	struct kvm_vcpu_events e = get_events(&v);
	e.flags = KVM_VCPUEVENT_VALID_SHADOW;
	e.interrupt.shadow = KVM_X86_SHADOW_INT_STI;
	CHECK_OK(set_events(&v, &e));
	CHECK_EQ(KVM_X86_SHADOW_INT_STI, get_events(&v).interrupt.shadow & KVM_X86_SHADOW_INT_STI);

	/* IF=1: without the shadow the window is open before the first nop. */
	v.run->request_interrupt_window = 1;
	if (RUN_EXPECT_EXIT(&v, KVM_EXIT_IRQ_WINDOW_OPEN))
		CHECK_EQ(G_CODE + 1, get_regs(&v).rip);
	CHECK_EQ(0, get_events(&v).interrupt.shadow);
	vcpu_fini(&v);
	vm_fini(&vm);
}

static void no_shadow_window_opens_at_once(void)
{
	struct vm vm;
	struct vcpu v;
	setup(&vm, &v, 0x202);
	v.run->request_interrupt_window = 1;
	if (RUN_EXPECT_EXIT(&v, KVM_EXIT_IRQ_WINDOW_OPEN))
		CHECK_EQ(G_CODE, get_regs(&v).rip);
	vcpu_fini(&v);
	vm_fini(&vm);
}

static void clear_flag_leaves_shadow(void)
{
	struct vm vm;
	struct vcpu v;
	setup(&vm, &v, 0x202);
	struct kvm_vcpu_events e = get_events(&v);
	e.flags = KVM_VCPUEVENT_VALID_SHADOW;
	e.interrupt.shadow = KVM_X86_SHADOW_INT_STI;
	CHECK_OK(set_events(&v, &e));
	e.flags = 0;
	e.interrupt.shadow = 0;
	CHECK_OK(set_events(&v, &e));
	CHECK_EQ(KVM_X86_SHADOW_INT_STI, get_events(&v).interrupt.shadow & KVM_X86_SHADOW_INT_STI);
	/* ...and with the flag it is cleared. */
	e.flags = KVM_VCPUEVENT_VALID_SHADOW;
	CHECK_OK(set_events(&v, &e));
	CHECK_EQ(0, get_events(&v).interrupt.shadow);
	vcpu_fini(&v);
	vm_fini(&vm);
}

static void nmi_pending(void)
{
	struct vm vm;
	struct vcpu v;
	setup(&vm, &v, 0x2);
	idt_set(&v, 2, GUEST_ADDR(x2_nops, x2_nmi));
	struct kvm_vcpu_events e = get_events(&v);
	CHECK_EQ(0, e.nmi.pending);
	e.flags = KVM_VCPUEVENT_VALID_NMI_PENDING;
	e.nmi.pending = 1;
	CHECK_OK(set_events(&v, &e));
	e = get_events(&v);
	CHECK_EQ(1, e.nmi.pending);
	CHECK(e.flags & KVM_VCPUEVENT_VALID_NMI_PENDING);

	/* Flag clear: pending stays although the struct says 0. */
	e.flags = 0;
	e.nmi.pending = 0;
	CHECK_OK(set_events(&v, &e));
	CHECK_EQ(1, get_events(&v).nmi.pending);

	/* NMIs ignore IF: the handler runs first; NMIs are then masked. */
	RUN_EXPECT_OUT(&v, 0x12);
	e = get_events(&v);
	CHECK_EQ(0, e.nmi.pending);
	CHECK_EQ(1, e.nmi.masked);
	vcpu_fini(&v);
	vm_fini(&vm);
}

static void nmi_pending_cleared_with_flag(void)
{
	struct vm vm;
	struct vcpu v;
	setup(&vm, &v, 0x2);
	struct kvm_vcpu_events e = get_events(&v);
	e.flags = KVM_VCPUEVENT_VALID_NMI_PENDING;
	e.nmi.pending = 1;
	CHECK_OK(set_events(&v, &e));
	e.nmi.pending = 0;
	CHECK_OK(set_events(&v, &e));
	CHECK_EQ(0, get_events(&v).nmi.pending);
	/* Nothing is delivered: the guest runs its own code. */
	RUN_EXPECT_OUT(&v, 0x10);
	vcpu_fini(&v);
	vm_fini(&vm);
}

/* Without an in-kernel LAPIC, real KVM accepts the SIPI vector flag and
 * stores nothing; the vector's effect is checked in x9 with an irqchip. */
static void sipi_vector_accepted(void)
{
	struct vm vm;
	struct vcpu v;
	setup(&vm, &v, 0x2);
	struct kvm_vcpu_events e = get_events(&v);
	e.flags = KVM_VCPUEVENT_VALID_SIPI_VECTOR;
	e.sipi_vector = 0x12;
	CHECK_OK(set_events(&v, &e));
	/* Other state untouched: the vCPU still runs its code. */
	RUN_EXPECT_OUT(&v, 0x10);
	vcpu_fini(&v);
	vm_fini(&vm);
}

/* An exception marked injected is delivered on the next entry, before the
 * guest's own first instruction (EIP pushed = where it would have run). */
static void exception_injected(void)
{
	struct vm vm;
	struct vcpu v;
	vm_init(&vm);
	vcpu_init(&vm, &v, 0);
	GUEST_LOAD(&vm, x2_exc);
	vcpu_setup(&v, MODE_PROT32, G_CODE);
	idt_set(&v, 6, GUEST_ADDR(x2_exc, x2_ud));
	struct kvm_vcpu_events e = get_events(&v);
	e.flags = 0;
	e.exception.injected = 1;
	e.exception.nr = 6;
	e.exception.has_error_code = 0;
	CHECK_OK(set_events(&v, &e));
	e = get_events(&v);
	CHECK_EQ(1, e.exception.injected);
	CHECK_EQ(6, e.exception.nr);
	CHECK_EQ(G_CODE, RUN_EXPECT_OUT(&v, 0x16));
	CHECK_EQ(0, get_events(&v).exception.injected);
	vcpu_fini(&v);
	vm_fini(&vm);
}

static void bad_flags_einval(void)
{
	struct vm vm;
	struct vcpu v;
	setup(&vm, &v, 0x2);
	struct kvm_vcpu_events e = get_events(&v);
	e.flags = 0x80000000u;
	CHECK_ERRNO(set_events(&v, &e), EINVAL);
	/* An exception vector above 31 (or NMI's 2) cannot be injected. */
	e = get_events(&v);
	e.flags = 0;
	e.exception.injected = 1;
	e.exception.nr = 32;
	CHECK_ERRNO(set_events(&v, &e), EINVAL);
	vcpu_fini(&v);
	vm_fini(&vm);
}

int main(void)
{
	RUN_CASE(shadow_blocks_one_instruction);
	RUN_CASE(no_shadow_window_opens_at_once);
	RUN_CASE(clear_flag_leaves_shadow);
	RUN_CASE(nmi_pending);
	RUN_CASE(nmi_pending_cleared_with_flag);
	RUN_CASE(sipi_vector_accepted);
	RUN_CASE(exception_injected);
	RUN_CASE(bad_flags_einval);
	return t_done();
}
