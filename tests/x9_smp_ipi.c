/* X9 with the in-kernel irqchip, driven by the guest: the BSP brings up an
 * application processor with INIT and SIPI through its local APIC (the AP's
 * MP state seen through KVM_GET_MP_STATE, the SIPI vector through
 * KVM_GET_VCPU_EVENTS), then sends it fixed IPIs with physical and logical
 * destinations while both vCPUs run on their own host threads.
 *
 * BSP: 32-bit protected mode at G_CODE. AP: real mode at the SIPI page
 * 0x3000, switching itself to protected mode. */
#include "vm.h"

#include <pthread.h>
#include <sys/ioctl.h>

#define ICR_LO "0xfee00300"
#define ICR_HI "0xfee00310"

GUEST_CODE(smp_bsp, 32,
	"movl $0x1ff, 0xfee000f0\n"
	/* INIT (assert) to APIC ID 1. */
	"movl $0x01000000, " ICR_HI "\n"
	"movl $0x00004500, " ICR_LO "\n"
	"out %al, $0x10\n"
	/* SIPI, vector 3: the AP starts at 0300:0000. */
	"movl $0x00004603, " ICR_LO "\n"
	"out %al, $0x11\n"
	/* Wait until the AP is up, then two IPIs of rising priority. */
	"1: pause\n"
	"cmpw $0x1234, 0x700\n"
	"jne 1b\n"
	"movl $0x01000000, " ICR_HI "\n"
	"movl $0x00004050, " ICR_LO "\n"
	"2: cmpw $1, 0x702\n"
	"jb 2b\n"
	"movl $0x02000000, " ICR_HI "\n"
	"movl $0x00004861, " ICR_LO "\n"
	"out %al, $0x12\n"
	"hlt\n");

/* At 0x3000 in real mode: the usual AP trampoline into 32-bit protected
 * mode (the BSP's GDT and IDT), then it enables its own APIC with logical
 * ID 2 and waits in HLT for two IPIs; its handler is at 0x3100. */
GUEST_CODE(smp_ap, 16,
	"cli\n"
	"lgdtl 0x3180\n"
	"mov %cr0, %eax\n"
	"or $1, %eax\n"
	"mov %eax, %cr0\n"
	"ljmpl $0x08, $0x3040\n"
	".org 0x40\n"
	".code32\n"
	"mov $0x10, %ax\n"
	"mov %ax, %ds\n"
	"mov %ax, %es\n"
	"mov %ax, %ss\n"
	"mov $0x18000, %esp\n"
	"lidt 0x3188\n"
	"movl $0x1ff, 0xfee000f0\n"
	"movl $0x02000000, 0xfee000d0\n"
	"movw $0x1234, 0x700\n"
	"out %al, $0x30\n"
	/* STI;HLT is atomic: an IPI taken before the HLT is not waited for. */
	"1: cli\n"
	"cmpw $2, 0x702\n"
	"jae 2f\n"
	"sti\n"
	"hlt\n"
	"jmp 1b\n"
	"2:\n"
	"mov 0x702, %ax\n"
	"out %ax, $0x31\n"
	"cli\n"
	"hlt\n"
	".org 0x100\n"
	"incw 0x702\n"
	"movl $0, 0xfee000b0\n"
	"iret\n"
	".org 0x180\n"
	".word 0x1f\n"
	".long 0x500\n"
	".word 0\n"
	".word 0x7ff\n"
	".long 0x8000\n");

static uint32_t mp_get(struct vcpu *v)
{
	struct kvm_mp_state s = {.mp_state = 0xdead};
	CHECK_OK(ioctl(v->fd, KVM_GET_MP_STATE, &s));
	return s.mp_state;
}

struct ap_thread {
	struct vcpu *v;
	int eagain;
	uint32_t out20, out21;   /* ports 0x20/0x21 would be the PIC */
};

static void *ap_main(void *arg)
{
	struct ap_thread *t = arg;
	int r;
	while ((r = vcpu_run(t->v)) < 0 && errno == EAGAIN)
		t->eagain++;   /* an UNINITIALIZED AP returns EAGAIN after INIT/SIPI */
	if (!CHECK_OK(r) || !CHECK_EQ(KVM_EXIT_IO, t->v->run->exit_reason))
		return NULL;
	t->out20 = t->v->run->io.port;
	t->out21 = RUN_EXPECT_OUT(t->v, 0x31);
	return NULL;
}

struct smp {
	struct vm vm;
	struct vcpu bsp, ap;
};

static bool smp_init(struct smp *s)
{
	vm_init(&s->vm);
	if (!CHECK_OK(ioctl(s->vm.fd, KVM_CREATE_IRQCHIP, 0UL)))
		return false;
	vcpu_init(&s->vm, &s->bsp, 0);
	vcpu_init(&s->vm, &s->ap, 1);
	GUEST_LOAD(&s->vm, smp_bsp);
	guest_load(&s->vm, 0x3000, smp_ap, smp_ap_end);
	vcpu_setup(&s->bsp, MODE_PROT32, G_CODE);
	idt_set(&s->bsp, 0x50, 0x3100);
	idt_set(&s->bsp, 0x61, 0x3100);
	CHECK_EQ(KVM_MP_STATE_RUNNABLE, mp_get(&s->bsp));
	CHECK_EQ(KVM_MP_STATE_UNINITIALIZED, mp_get(&s->ap));
	struct kvm_lapic_state l;
	if (CHECK_OK(ioctl(s->ap.fd, KVM_GET_LAPIC, &l))) {
		uint32_t id;
		memcpy(&id, l.regs + 0x20, 4);
		CHECK_EQ(0x01000000, id);
	}
	return true;
}

static void smp_fini(struct smp *s)
{
	vcpu_fini(&s->ap);
	vcpu_fini(&s->bsp);
	vm_fini(&s->vm);
}

/* The BSP runs alone until the SIPI: each step of the AP shows in its MP
 * state; then both run and the AP takes two IPIs. */
static void init_sipi_then_ipis(void)
{
	struct smp s;
	if (!smp_init(&s))
		return;
	RUN_EXPECT_OUT(&s.bsp, 0x10);
	CHECK_EQ(KVM_MP_STATE_INIT_RECEIVED, mp_get(&s.ap));
	RUN_EXPECT_OUT(&s.bsp, 0x11);
	CHECK_EQ(KVM_MP_STATE_RUNNABLE, mp_get(&s.ap));
	struct kvm_sregs sr = get_sregs(&s.ap);
	CHECK_EQ(0x0300, sr.cs.selector);
	CHECK_EQ(0x3000, sr.cs.base);
	CHECK_EQ(0, get_regs(&s.ap).rip);
	CHECK_EQ(0, get_events(&s.ap).sipi_vector);   /* KVM never reports it */

	struct ap_thread t = {.v = &s.ap};
	pthread_t th;
	pthread_create(&th, NULL, ap_main, &t);
	RUN_EXPECT_OUT(&s.bsp, 0x12);
	pthread_join(th, NULL);
	CHECK_EQ(0, t.eagain);
	CHECK_EQ(0x30, t.out20);
	CHECK_EQ(2, t.out21 & 0xffff);
	smp_fini(&s);
}

/* The AP's thread is in KVM_RUN before the INIT: it sleeps there, returns
 * EAGAIN when INIT/SIPI arrive, and runs at the SIPI vector next time. */
static void ap_waits_in_kvm_run(void)
{
	struct smp s;
	if (!smp_init(&s))
		return;
	struct ap_thread t = {.v = &s.ap};
	pthread_t th;
	pthread_create(&th, NULL, ap_main, &t);
	usleep(50 * 1000);
	RUN_EXPECT_OUT(&s.bsp, 0x10);
	RUN_EXPECT_OUT(&s.bsp, 0x11);
	RUN_EXPECT_OUT(&s.bsp, 0x12);
	pthread_join(th, NULL);
	CHECK(t.eagain >= 1);
	CHECK_EQ(0x30, t.out20);
	CHECK_EQ(2, t.out21 & 0xffff);
	CHECK_EQ(0, get_events(&s.ap).sipi_vector);   /* KVM never reports it */
	smp_fini(&s);
}

int main(void)
{
	RUN_CASE(init_sipi_then_ipis);
	RUN_CASE(ap_waits_in_kvm_run);
	return t_done();
}
