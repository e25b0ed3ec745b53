/* KVM_CAP_EXCEPTION_PAYLOAD and KVM_CAP_X86_TRIPLE_FAULT_EVENT (Linux 6.1,
 * api.rst 4.31/4.32 KVM_GET/SET_VCPU_EVENTS, 7.18, 7.32):
 * - both offered by KVM_CHECK_EXTENSION; KVM_ENABLE_CAP on the VM takes any
 *   args[0] (nonzero = on), fails with EINVAL for flags or on a vCPU fd;
 * - without the payload cap: no KVM_VCPUEVENT_VALID_PAYLOAD, EINVAL when
 *   userspace sets it, exception.pending is ignored on SET and reported
 *   folded into injected;
 * - with it: a pending #PF / #DB set by userspace keeps CR2 / DR6 untouched
 *   (GET reports pending, the payload) until delivery, which writes them
 *   (DR6 with the VMX pending-debug layout); an injected one drops its
 *   payload; turning the cap off writes the payload at the next GET;
 *   KVM_SET_GUEST_DEBUG's injected #DB reads as pending / injected;
 * - triple_fault.pending: reported and settable only with its cap (the
 *   EINVAL comes after the rest of the events were set); a pending one
 *   survives immediate_exit and makes the next KVM_RUN exit with
 *   KVM_EXIT_SHUTDOWN; a #DB queued over an injected #DF and an
 *   uncorrectable KVM_X86_SET_MCE with CR4.MCE clear request it too. */
#include "vm.h"

#include <sys/ioctl.h>

#define PAYLOAD_PF 0xdead0000u
#define PF_ERR 2u
#define DR6_INIT 0xffff0ff0ull
/* B0, BS, bit 12 (enabled breakpoint) and RTM (active high here). */
#define PAYLOAD_DB 0x15001ull
#define DR6_AFTER 0xfffe4ff1ull

GUEST_CODE(ep_guest, 32,
	"out %al, $0x10\n"
	"hlt\n"
	"ep_pf: mov %cr2, %eax\n"
	"out %eax, $0x20\n"
	"pop %eax\n"
	"out %eax, $0x21\n"
	"hlt\n"
	"ep_db: mov %dr6, %eax\n"
	"out %eax, $0x30\n"
	"hlt\n"
	"ep_ud: out %al, $0x40\n"
	"hlt\n");
GUEST_LABEL(ep_pf);
GUEST_LABEL(ep_db);
GUEST_LABEL(ep_ud);

static int enable(int fd, uint32_t capno, uint32_t flags, uint64_t arg0)
{
	struct kvm_enable_cap cap;
	memset(&cap, 0, sizeof(cap));
	cap.cap = capno;
	cap.flags = flags;
	cap.args[0] = arg0;
	return ioctl(fd, KVM_ENABLE_CAP, &cap);
}

static int set_events(struct vcpu *v, const struct kvm_vcpu_events *e)
{
	return ioctl(v->fd, KVM_SET_VCPU_EVENTS, e);
}

static void setup(struct vm *vm, struct vcpu *v, bool payload_cap)
{
	vm_init(vm);
	vcpu_init(vm, v, 0);
	GUEST_LOAD(vm, ep_guest);
	vcpu_setup(v, MODE_PROT32, G_CODE);
	idt_set(v, 14, GUEST_ADDR(ep_guest, ep_pf));
	idt_set(v, 1, GUEST_ADDR(ep_guest, ep_db));
	idt_set(v, 6, GUEST_ADDR(ep_guest, ep_ud));
	if (payload_cap)
		CHECK_OK(enable(vm->fd, KVM_CAP_EXCEPTION_PAYLOAD, 0, 1));
}

static void teardown(struct vm *vm, struct vcpu *v)
{
	vcpu_fini(v);
	vm_fini(vm);
}

/* A #PF with error code PF_ERR and PAYLOAD_PF, as pending or injected. */
static struct kvm_vcpu_events pf_event(struct vcpu *v, bool pending, bool injected)
{
	struct kvm_vcpu_events e = get_events(v);
	e.flags = KVM_VCPUEVENT_VALID_PAYLOAD;
	e.exception.pending = pending;
	e.exception.injected = injected;
	e.exception.nr = 14;
	e.exception.has_error_code = 1;
	e.exception.error_code = PF_ERR;
	e.exception_has_payload = 1;
	e.exception_payload = PAYLOAD_PF;
	return e;
}

static uint64_t dr6_of(struct vcpu *v)
{
	struct kvm_debugregs d;
	memset(&d, 0, sizeof(d));
	CHECK_OK(ioctl(v->fd, KVM_GET_DEBUGREGS, &d));
	return d.dr6;
}

static void caps_and_enable(void)
{
	struct vm vm;
	struct vcpu v;
	vm_init(&vm);
	CHECK_EQ(1, check_ext(vm.kvm, KVM_CAP_EXCEPTION_PAYLOAD));
	CHECK_EQ(1, check_ext(vm.kvm, KVM_CAP_X86_TRIPLE_FAULT_EVENT));
	CHECK_EQ(1, check_ext(vm.fd, KVM_CAP_EXCEPTION_PAYLOAD));
	CHECK_EQ(1, check_ext(vm.fd, KVM_CAP_X86_TRIPLE_FAULT_EVENT));
	CHECK_ERRNO(enable(vm.fd, KVM_CAP_EXCEPTION_PAYLOAD, 1, 1), EINVAL);
	CHECK_ERRNO(enable(vm.fd, KVM_CAP_X86_TRIPLE_FAULT_EVENT, 1, 1), EINVAL);
	vcpu_init(&vm, &v, 0);
	/* VM capabilities, not vCPU ones. */
	CHECK_ERRNO(enable(v.fd, KVM_CAP_EXCEPTION_PAYLOAD, 0, 1), EINVAL);
	CHECK_ERRNO(enable(v.fd, KVM_CAP_X86_TRIPLE_FAULT_EVENT, 0, 1), EINVAL);
	struct kvm_vcpu_events e = get_events(&v);
	CHECK_EQ(0, e.flags & (KVM_VCPUEVENT_VALID_PAYLOAD | KVM_VCPUEVENT_VALID_TRIPLE_FAULT));
	/* Any value is taken, after vCPUs exist too (nested_exceptions_test: -2). */
	CHECK_OK(enable(vm.fd, KVM_CAP_EXCEPTION_PAYLOAD, 0, -2ull));
	CHECK_OK(enable(vm.fd, KVM_CAP_X86_TRIPLE_FAULT_EVENT, 0, 1ull << 40));
	e = get_events(&v);
	CHECK(e.flags & KVM_VCPUEVENT_VALID_PAYLOAD);
	CHECK(e.flags & KVM_VCPUEVENT_VALID_TRIPLE_FAULT);
	CHECK_EQ(0, e.triple_fault.pending);
	CHECK_OK(enable(vm.fd, KVM_CAP_EXCEPTION_PAYLOAD, 0, 0));
	CHECK_OK(enable(vm.fd, KVM_CAP_X86_TRIPLE_FAULT_EVENT, 0, 0));
	CHECK_EQ(0, get_events(&v).flags &
		 (KVM_VCPUEVENT_VALID_PAYLOAD | KVM_VCPUEVENT_VALID_TRIPLE_FAULT));
	teardown(&vm, &v);
}

static void cap_off(void)
{
	struct vm vm;
	struct vcpu v;
	setup(&vm, &v, false);
	struct kvm_vcpu_events e = pf_event(&v, true, false);
	CHECK_ERRNO(set_events(&v, &e), EINVAL);
	/* No VALID_PAYLOAD: pending is dropped (so its vector is not checked). */
	e.flags = 0;
	e.exception.nr = 32;
	CHECK_OK(set_events(&v, &e));
	e = get_events(&v);
	CHECK_EQ(0, e.exception.pending);
	CHECK_EQ(0, e.exception.injected);
	CHECK_EQ(0, e.exception_has_payload);
	RUN_EXPECT_OUT(&v, 0x10);
	teardown(&vm, &v);
}

static void pending_pf(void)
{
	struct vm vm;
	struct vcpu v;
	setup(&vm, &v, true);
	CHECK_EQ(0, get_sregs(&v).cr2);
	struct kvm_vcpu_events e = pf_event(&v, true, false);
	CHECK_OK(set_events(&v, &e));
	e = get_events(&v);
	CHECK(e.flags & KVM_VCPUEVENT_VALID_PAYLOAD);
	CHECK_EQ(1, e.exception.pending);
	CHECK_EQ(0, e.exception.injected);
	CHECK_EQ(14, e.exception.nr);
	CHECK_EQ(1, e.exception.has_error_code);
	CHECK_EQ(PF_ERR, e.exception.error_code);
	CHECK_EQ(1, e.exception_has_payload);
	CHECK_EQ(PAYLOAD_PF, e.exception_payload);
	CHECK_EQ(0, get_sregs(&v).cr2);   /* untouched until delivery */
	CHECK_EQ(PAYLOAD_PF, RUN_EXPECT_OUT(&v, 0x20));
	CHECK_EQ(PF_ERR, RUN_EXPECT_OUT(&v, 0x21));
	CHECK_EQ(PAYLOAD_PF, get_sregs(&v).cr2);
	e = get_events(&v);
	CHECK_EQ(0, e.exception.pending);
	CHECK_EQ(0, e.exception.injected);
	CHECK_EQ(0, e.exception_has_payload);
	teardown(&vm, &v);
}

/* Both pending and injected: pending wins. Injected: the payload is dropped. */
static void pending_over_injected(void)
{
	struct vm vm;
	struct vcpu v;
	setup(&vm, &v, true);
	struct kvm_vcpu_events e = pf_event(&v, true, true);
	CHECK_OK(set_events(&v, &e));
	e = get_events(&v);
	CHECK_EQ(1, e.exception.pending);
	CHECK_EQ(0, e.exception.injected);
	CHECK_EQ(1, e.exception_has_payload);
	teardown(&vm, &v);

	setup(&vm, &v, true);
	e = pf_event(&v, false, true);
	CHECK_OK(set_events(&v, &e));
	e = get_events(&v);
	CHECK_EQ(0, e.exception.pending);
	CHECK_EQ(1, e.exception.injected);
	CHECK_EQ(0, e.exception_has_payload);
	CHECK_EQ(0, e.exception_payload);
	CHECK_EQ(0, RUN_EXPECT_OUT(&v, 0x20));   /* CR2 as it was */
	CHECK_EQ(PF_ERR, RUN_EXPECT_OUT(&v, 0x21));
	teardown(&vm, &v);
}

/* The cap turned off with a payload queued: the next GET writes CR2 and
 * reports the exception injected. */
static void cap_turned_off(void)
{
	struct vm vm;
	struct vcpu v;
	setup(&vm, &v, true);
	struct kvm_vcpu_events e = pf_event(&v, true, false);
	CHECK_OK(set_events(&v, &e));
	CHECK_OK(enable(vm.fd, KVM_CAP_EXCEPTION_PAYLOAD, 0, 0));
	CHECK_EQ(0, get_sregs(&v).cr2);
	e = get_events(&v);
	CHECK_EQ(0, e.flags & KVM_VCPUEVENT_VALID_PAYLOAD);
	CHECK_EQ(0, e.exception.pending);
	CHECK_EQ(1, e.exception.injected);
	CHECK_EQ(14, e.exception.nr);
	CHECK_EQ(0, e.exception_has_payload);
	CHECK_EQ(PAYLOAD_PF, get_sregs(&v).cr2);
	CHECK_EQ(PAYLOAD_PF, RUN_EXPECT_OUT(&v, 0x20));
	CHECK_EQ(PF_ERR, RUN_EXPECT_OUT(&v, 0x21));
	teardown(&vm, &v);
}

static void pending_db(void)
{
	struct vm vm;
	struct vcpu v;
	setup(&vm, &v, true);
	CHECK_EQ(DR6_INIT, dr6_of(&v));
	/* B1 from an earlier #DB: B0-B3 are replaced by the payload's. */
	struct kvm_debugregs d;
	memset(&d, 0, sizeof(d));
	CHECK_OK(ioctl(v.fd, KVM_GET_DEBUGREGS, &d));
	d.dr6 = DR6_INIT | 2;
	CHECK_OK(ioctl(v.fd, KVM_SET_DEBUGREGS, &d));
	struct kvm_vcpu_events e = get_events(&v);
	e.flags = KVM_VCPUEVENT_VALID_PAYLOAD;
	e.exception.pending = 1;
	e.exception.nr = 1;
	e.exception_has_payload = 1;
	e.exception_payload = PAYLOAD_DB;
	CHECK_OK(set_events(&v, &e));
	e = get_events(&v);
	CHECK_EQ(1, e.exception.pending);
	CHECK_EQ(1, e.exception_has_payload);
	CHECK_EQ(PAYLOAD_DB, e.exception_payload);
	CHECK_EQ(DR6_INIT | 2, dr6_of(&v));   /* untouched until delivery */
	CHECK_EQ(DR6_AFTER, RUN_EXPECT_OUT(&v, 0x30));
	CHECK_EQ(DR6_AFTER, dr6_of(&v));
	teardown(&vm, &v);
}

static int inject_db(struct vcpu *v)
{
	struct kvm_guest_debug g;
	memset(&g, 0, sizeof(g));
	g.control = KVM_GUESTDBG_INJECT_DB;
	return ioctl(v->fd, KVM_SET_GUEST_DEBUG, &g);
}

/* KVM_SET_GUEST_DEBUG queues its #DB as pending (no payload). */
static void guest_debug_db(void)
{
	struct vm vm;
	struct vcpu v;
	for (int cap = 0; cap < 2; cap++) {
		setup(&vm, &v, cap);
		CHECK_OK(inject_db(&v));
		struct kvm_vcpu_events e = get_events(&v);
		CHECK_EQ(cap, e.exception.pending);
		CHECK_EQ(!cap, e.exception.injected);
		CHECK_EQ(1, e.exception.nr);
		CHECK_EQ(0, e.exception_has_payload);
		CHECK_ERRNO(inject_db(&v), EBUSY);
		CHECK_EQ(DR6_INIT, RUN_EXPECT_OUT(&v, 0x30));
		teardown(&vm, &v);
	}
	/* Over an injected #UD it is queued (replacing it). */
	setup(&vm, &v, true);
	struct kvm_vcpu_events e = get_events(&v);
	e.flags = 0;
	e.exception.injected = 1;
	e.exception.nr = 6;
	CHECK_OK(set_events(&v, &e));
	CHECK_OK(inject_db(&v));
	e = get_events(&v);
	CHECK_EQ(1, e.exception.pending);
	CHECK_EQ(1, e.exception.nr);
	CHECK_EQ(DR6_INIT, RUN_EXPECT_OUT(&v, 0x30));
	teardown(&vm, &v);
}

static void vector_errno(void)
{
	struct vm vm;
	struct vcpu v;
	setup(&vm, &v, true);
	struct kvm_vcpu_events e = pf_event(&v, true, false);
	e.exception.nr = 32;
	CHECK_ERRNO(set_events(&v, &e), EINVAL);
	e.exception.nr = 2;
	CHECK_ERRNO(set_events(&v, &e), EINVAL);
	CHECK_EQ(0, get_events(&v).exception.pending);
	teardown(&vm, &v);
}

static void triple_fault_event(void)
{
	struct vm vm;
	struct vcpu v;
	setup(&vm, &v, false);
	struct kvm_vcpu_events e = get_events(&v);
	e.flags = KVM_VCPUEVENT_VALID_TRIPLE_FAULT;
	e.triple_fault.pending = 1;
	/* Without the cap: EINVAL, but only after the rest was set. */
	e.exception.injected = 1;
	e.exception.nr = 6;
	CHECK_ERRNO(set_events(&v, &e), EINVAL);
	CHECK_EQ(1, get_events(&v).exception.injected);
	RUN_EXPECT_OUT(&v, 0x40);   /* the #UD set with it is delivered */

	CHECK_OK(enable(vm.fd, KVM_CAP_X86_TRIPLE_FAULT_EVENT, 0, 1));
	e = get_events(&v);
	CHECK_EQ(0, e.triple_fault.pending);
	e.flags = KVM_VCPUEVENT_VALID_TRIPLE_FAULT;
	e.triple_fault.pending = 1;
	CHECK_OK(set_events(&v, &e));
	e = get_events(&v);
	CHECK(e.flags & KVM_VCPUEVENT_VALID_TRIPLE_FAULT);
	CHECK_EQ(1, e.triple_fault.pending);
	/* A triple fault is pending: KVM_SET_GUEST_DEBUG cannot queue. */
	CHECK_ERRNO(inject_db(&v), EBUSY);
	v.run->immediate_exit = 1;
	CHECK_ERRNO(vcpu_run(&v), EINTR);
	v.run->immediate_exit = 0;
	CHECK_EQ(1, get_events(&v).triple_fault.pending);
	RUN_EXPECT_EXIT(&v, KVM_EXIT_SHUTDOWN);
	CHECK_EQ(0, get_events(&v).triple_fault.pending);
	teardown(&vm, &v);

	/* Set, then cleared (flag with pending 0): the guest just runs. */
	setup(&vm, &v, false);
	CHECK_OK(enable(vm.fd, KVM_CAP_X86_TRIPLE_FAULT_EVENT, 0, 1));
	e = get_events(&v);
	e.flags = KVM_VCPUEVENT_VALID_TRIPLE_FAULT;
	e.triple_fault.pending = 1;
	CHECK_OK(set_events(&v, &e));
	e.flags = 0;
	e.triple_fault.pending = 0;
	CHECK_OK(set_events(&v, &e));   /* flag clear: left as it is */
	CHECK_EQ(1, get_events(&v).triple_fault.pending);
	e.flags = KVM_VCPUEVENT_VALID_TRIPLE_FAULT;
	CHECK_OK(set_events(&v, &e));
	CHECK_EQ(0, get_events(&v).triple_fault.pending);
	RUN_EXPECT_OUT(&v, 0x10);
	teardown(&vm, &v);
}

/* Other ways to a triple fault request: a #DB queued over an injected #DF,
 * an uncorrectable machine check with CR4.MCE clear. */
static void triple_fault_sources(void)
{
	struct vm vm;
	struct vcpu v;
	setup(&vm, &v, true);
	CHECK_OK(enable(vm.fd, KVM_CAP_X86_TRIPLE_FAULT_EVENT, 0, 1));
	struct kvm_vcpu_events e = get_events(&v);
	e.flags = 0;
	e.exception.injected = 1;
	e.exception.nr = 8;
	e.exception.has_error_code = 1;
	CHECK_OK(set_events(&v, &e));
	CHECK_OK(inject_db(&v));
	e = get_events(&v);
	CHECK_EQ(1, e.triple_fault.pending);
	CHECK_EQ(8, e.exception.nr);
	RUN_EXPECT_EXIT(&v, KVM_EXIT_SHUTDOWN);
	teardown(&vm, &v);

	setup(&vm, &v, false);
	CHECK_OK(enable(vm.fd, KVM_CAP_X86_TRIPLE_FAULT_EVENT, 0, 1));
	uint64_t mcg_cap = 10;
	CHECK_OK(ioctl(v.fd, KVM_X86_SETUP_MCE, &mcg_cap));
	struct kvm_x86_mce m;
	memset(&m, 0, sizeof(m));
	m.bank = 9;
	m.status = (1ull << 63) | (1ull << 61);   /* VAL, UC */
	m.mcg_status = 5;                         /* MCIP, RIPV */
	CHECK_OK(ioctl(v.fd, KVM_X86_SET_MCE, &m));   /* CR4.MCE is clear */
	CHECK_EQ(1, get_events(&v).triple_fault.pending);
	RUN_EXPECT_EXIT(&v, KVM_EXIT_SHUTDOWN);
	teardown(&vm, &v);
}

int main(void)
{
	RUN_CASE(caps_and_enable);
	RUN_CASE(cap_off);
	RUN_CASE(pending_pf);
	RUN_CASE(pending_over_injected);
	RUN_CASE(cap_turned_off);
	RUN_CASE(pending_db);
	RUN_CASE(guest_debug_db);
	RUN_CASE(vector_errno);
	RUN_CASE(triple_fault_event);
	RUN_CASE(triple_fault_sources);
	return t_done();
}
