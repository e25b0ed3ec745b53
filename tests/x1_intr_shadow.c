/* X1: KVM_GET_VCPU_EVENTS reports the interrupt shadow, and the shadow is
 * real: after STI (with IF clear before), MOV SS or POP SS, the next
 * instruction runs before any interrupt window opens.
 *
 * Real KVM on AMD reports both shadow bits for any shadow (the VMCB has one
 * bit), so the checks ask for the expected bit, not for an exact value. */
#include "vm.h"

#include <sys/ioctl.h>

/* IF is clear on entry; STI opens the window only after the next OUT. */
GUEST_CODE(x1_sti, 16,
	"cli\n"
	"sti\n"
	"out %al, $0x10\n"
	"x1_sti_after: out %al, $0x11\n"
	"hlt\n"
	"x1_sti_isr: out %al, $0x20\n"
	"iret\n");
GUEST_LABEL(x1_sti_after);
GUEST_LABEL(x1_sti_isr);

GUEST_CODE(x1_movss, 16,
	"mov %ss, %ax\n"
	"mov %ax, %ss\n"
	"out %al, $0x10\n"
	"x1_movss_after: out %al, $0x11\n"
	"hlt\n");
GUEST_LABEL(x1_movss_after);

GUEST_CODE(x1_popss, 16,
	"push %ss\n"
	"pop %ss\n"
	"out %al, $0x10\n"
	"x1_popss_after: out %al, $0x11\n"
	"hlt\n");
GUEST_LABEL(x1_popss_after);

static void caps(void)
{
	int kvm = kvm_open();
	CHECK(check_ext(kvm, KVM_CAP_VCPU_EVENTS) > 0);
	CHECK(check_ext(kvm, KVM_CAP_INTR_SHADOW) > 0);
	close(kvm);
}

static void fresh_vcpu_reports_no_shadow(void)
{
	struct vm vm;
	struct vcpu v;
	vm_init(&vm);
	vcpu_init(&vm, &v, 0);
	struct kvm_vcpu_events e = get_events(&v);
	CHECK(e.flags & KVM_VCPUEVENT_VALID_SHADOW);
	CHECK(e.flags & KVM_VCPUEVENT_VALID_NMI_PENDING);
	CHECK_EQ(0, e.interrupt.shadow);
	CHECK_EQ(0, e.interrupt.injected);
	CHECK_EQ(0, e.nmi.pending);
	vcpu_fini(&v);
	vm_fini(&vm);
}

static void sti_shadow(void)
{
	struct vm vm;
	struct vcpu v;
	vm_init(&vm);
	vcpu_init(&vm, &v, 0);
	GUEST_LOAD(&vm, x1_sti);
	vcpu_setup(&v, MODE_REAL, G_CODE);
	idt_set(&v, 0x20, GUEST_ADDR(x1_sti, x1_sti_isr));

	v.run->request_interrupt_window = 1;
	RUN_EXPECT_OUT(&v, 0x10);
	struct kvm_vcpu_events e = get_events(&v);
	CHECK(e.flags & KVM_VCPUEVENT_VALID_SHADOW);
	CHECK_EQ(KVM_X86_SHADOW_INT_STI, e.interrupt.shadow & KVM_X86_SHADOW_INT_STI);
	CHECK_EQ(1, v.run->if_flag);
	CHECK_EQ(0, v.run->ready_for_interrupt_injection);

	/* The window opens after the OUT in the shadow, not before it. */
	if (RUN_EXPECT_EXIT(&v, KVM_EXIT_IRQ_WINDOW_OPEN)) {
		CHECK_EQ(GUEST_ADDR(x1_sti, x1_sti_after), get_regs(&v).rip);
		CHECK_EQ(1, v.run->ready_for_interrupt_injection);
		CHECK_EQ(0, get_events(&v).interrupt.shadow);
	}
	struct kvm_interrupt irq = {.irq = 0x20};
	CHECK_OK(ioctl(v.fd, KVM_INTERRUPT, &irq));
	v.run->request_interrupt_window = 0;
	RUN_EXPECT_OUT(&v, 0x20);  /* the handler runs before the next OUT */
	RUN_EXPECT_OUT(&v, 0x11);
	RUN_EXPECT_EXIT(&v, KVM_EXIT_HLT);
	vcpu_fini(&v);
	vm_fini(&vm);
}

/* MOV SS / POP SS with IF already set: the shadow covers the OUT. */
static void ss_shadow(const unsigned char *code, const unsigned char *end, uint64_t after)
{
	struct vm vm;
	struct vcpu v;
	vm_init(&vm);
	vcpu_init(&vm, &v, 0);
	guest_load(&vm, G_CODE, code, end);
	vcpu_setup(&v, MODE_REAL, G_CODE);
	struct kvm_regs r = get_regs(&v);
	r.rflags = 0x202;
	set_regs(&v, &r);

	RUN_EXPECT_OUT(&v, 0x10);
	struct kvm_vcpu_events e = get_events(&v);
	CHECK(e.flags & KVM_VCPUEVENT_VALID_SHADOW);
	CHECK_EQ(KVM_X86_SHADOW_INT_MOV_SS, e.interrupt.shadow & KVM_X86_SHADOW_INT_MOV_SS);
	CHECK_EQ(0, v.run->ready_for_interrupt_injection);

	v.run->request_interrupt_window = 1;
	if (RUN_EXPECT_EXIT(&v, KVM_EXIT_IRQ_WINDOW_OPEN))
		CHECK_EQ(after, get_regs(&v).rip);
	v.run->request_interrupt_window = 0;
	RUN_EXPECT_OUT(&v, 0x11);
	vcpu_fini(&v);
	vm_fini(&vm);
}

static void mov_ss_shadow(void)
{
	ss_shadow(x1_movss, x1_movss_end, GUEST_ADDR(x1_movss, x1_movss_after));
}

static void pop_ss_shadow(void)
{
	ss_shadow(x1_popss, x1_popss_end, GUEST_ADDR(x1_popss, x1_popss_after));
}

int main(void)
{
	RUN_CASE(caps);
	RUN_CASE(fresh_vcpu_reports_no_shadow);
	RUN_CASE(sti_shadow);
	RUN_CASE(mov_ss_shadow);
	RUN_CASE(pop_ss_shadow);
	return t_done();
}
