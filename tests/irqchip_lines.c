/* The in-kernel irqchip's VM ioctls: KVM_IRQ_LINE(_STATUS) through the
 * IOAPIC (edge and level pins, remote IRR) and through the 8259 PIC
 * (ExtINT on the BSP's LINT0), KVM_GET/SET_IRQCHIP and KVM_GET/SET_LAPIC
 * round trips, and KVM's errors for each. */
#include "vm.h"

#include <stdlib.h>
#include <sys/ioctl.h>

#define COUNT "0x600"
/* Sleep until COUNT >= n. STI;HLT is atomic (the STI shadow), so an
 * interrupt that came before the HLT is never waited for again. */
#define WAIT_COUNT(n, l)                          \
	l ": cli\n"                              \
	"cmpl $" #n ", " COUNT "\n"              \
	"jae " l "f\n"                           \
	"sti\n"                                  \
	"hlt\n"                                  \
	"jmp " l "b\n"                           \
	l ":\n"

/* IOAPIC pin 20: edge, vector 0x45; pin 21: level, vector 0x49; both to
 * APIC ID 0, physical. GSIs 16-23 reach only the IOAPIC (0-15 reach the
 * PIC too, whose answer KVM adds to the status). */
GUEST_CODE(io_guest, 32,
	"movl $0x1ff, 0xfee000f0\n"
	"movl $0x38, 0xfec00000\n"
	"movl $0x45, 0xfec00010\n"
	"movl $0x39, 0xfec00000\n"
	"movl $0, 0xfec00010\n"
	"movl $0x3a, 0xfec00000\n"
	"movl $0x8049, 0xfec00010\n"
	"movl $0x3b, 0xfec00000\n"
	"movl $0, 0xfec00010\n"
	"sti\n"
	"out %al, $0x10\n"
	WAIT_COUNT(1, "1")
	"mov " COUNT ", %eax\n"
	"out %eax, $0x11\n"
	WAIT_COUNT(2, "2")
	"mov " COUNT ", %eax\n"
	"out %eax, $0x13\n"
	"cli\n"
	"hlt\n"
	"io_isr45: incl " COUNT "\n"
	"movl $0, 0xfee000b0\n"
	"iret\n"
	/* Level: the host lowers the line during the OUT, then EOI. */
	"io_isr49: incl " COUNT "\n"
	"out %al, $0x12\n"
	"movl $0, 0xfee000b0\n"
	"iret\n");
GUEST_LABEL(io_isr45);
GUEST_LABEL(io_isr49);

static int irq_line_status(struct vm *vm, uint32_t gsi, uint32_t level, int32_t *status)
{
	struct kvm_irq_level l = {.irq = gsi, .level = level};
	int r = ioctl(vm->fd, KVM_IRQ_LINE_STATUS, &l);
	*status = l.status;
	return r;
}

static int irq_line(struct vm *vm, uint32_t gsi, uint32_t level)
{
	struct kvm_irq_level l = {.irq = gsi, .level = level};
	return ioctl(vm->fd, KVM_IRQ_LINE, &l);
}

static struct kvm_irqchip get_chip(struct vm *vm, uint32_t id)
{
	struct kvm_irqchip c;
	memset(&c, 0, sizeof(c));
	c.chip_id = id;
	CHECK_OK(ioctl(vm->fd, KVM_GET_IRQCHIP, &c));
	return c;
}

static bool vm_with_irqchip(struct vm *vm, struct vcpu *v)
{
	vm_init(vm);
	if (!CHECK_OK(ioctl(vm->fd, KVM_CREATE_IRQCHIP, 0UL))) {
		vm_fini(vm);
		return false;
	}
	vcpu_init(vm, v, 0);
	return true;
}

static void ioapic_lines(void)
{
	struct vm vm;
	struct vcpu v;
	if (!vm_with_irqchip(&vm, &v))
		return;
	GUEST_LOAD(&vm, io_guest);
	vcpu_setup(&v, MODE_PROT32, G_CODE);
	idt_set(&v, 0x45, GUEST_ADDR(io_guest, io_isr45));
	idt_set(&v, 0x49, GUEST_ADDR(io_guest, io_isr49));
	RUN_EXPECT_OUT(&v, 0x10);
	struct kvm_irqchip c = get_chip(&vm, KVM_IRQCHIP_IOAPIC);
	CHECK_EQ(0xfec00000, c.chip.ioapic.base_address);
	CHECK_EQ(0x45, c.chip.ioapic.redirtbl[20].bits);
	CHECK_EQ(0x8049, c.chip.ioapic.redirtbl[21].bits);
	CHECK_EQ(1ull << 16, c.chip.ioapic.redirtbl[22].bits);   /* reset: masked */

	/* Edge: a rising edge is delivered (status 1). */
	int32_t st = -2;
	CHECK_OK(irq_line_status(&vm, 20, 1, &st));
	CHECK_EQ(1, st);
	CHECK_OK(irq_line(&vm, 20, 0));
	CHECK_EQ(1, RUN_EXPECT_OUT(&v, 0x11));

	/* Level: remote IRR is set while the guest handles it. */
	CHECK_OK(irq_line(&vm, 21, 1));
	RUN_EXPECT_OUT(&v, 0x12);
	c = get_chip(&vm, KVM_IRQCHIP_IOAPIC);
	CHECK(c.chip.ioapic.redirtbl[21].fields.remote_irr);
	/* Asserting again before the EOI is ignored (-1: remote IRR). */
	CHECK_OK(irq_line_status(&vm, 21, 1, &st));
	CHECK_EQ(-1, st);
	CHECK_OK(irq_line(&vm, 21, 0));
	CHECK_EQ(2, RUN_EXPECT_OUT(&v, 0x13));
	c = get_chip(&vm, KVM_IRQCHIP_IOAPIC);
	CHECK(!c.chip.ioapic.redirtbl[21].fields.remote_irr);

	/* A masked pin reports -1 ("ignored"); an edge pin already high, 0. */
	CHECK_OK(irq_line_status(&vm, 22, 1, &st));
	CHECK_EQ(-1, st);
	CHECK_OK(irq_line_status(&vm, 22, 1, &st));
	CHECK_EQ(0, st);

	/* KVM_SET_IRQCHIP then KVM_GET_IRQCHIP gives the same IOAPIC. */
	c.chip.ioapic.redirtbl[7].bits = 0x0300000000010077ull;
	CHECK_OK(ioctl(vm.fd, KVM_SET_IRQCHIP, &c));
	struct kvm_irqchip c2 = get_chip(&vm, KVM_IRQCHIP_IOAPIC);
	CHECK(!memcmp(&c.chip.ioapic, &c2.chip.ioapic, sizeof(c.chip.ioapic)));
	vcpu_fini(&v);
	vm_fini(&vm);
}

/* The master PIC at vector base 0x20, IRQ3 unmasked; the BSP's LINT0 is
 * ExtINT after reset, the APIC left as it is. */
GUEST_CODE(pic_guest, 32,
	"mov $0x11, %al\n"
	"out %al, $0x20\n"
	"mov $0x20, %al\n"
	"out %al, $0x21\n"
	"mov $0x04, %al\n"
	"out %al, $0x21\n"
	"mov $0x01, %al\n"
	"out %al, $0x21\n"
	"mov $0xf7, %al\n"
	"out %al, $0x21\n"
	"sti\n"
	"out %al, $0x10\n"
	WAIT_COUNT(1, "1")
	"mov " COUNT ", %eax\n"
	"out %eax, $0x11\n"
	"cli\n"
	"hlt\n"
	"pic_isr: incl " COUNT "\n"
	"push %eax\n"
	"mov $0x20, %al\n"
	"out %al, $0x20\n"
	"pop %eax\n"
	"iret\n");
GUEST_LABEL(pic_isr);

static void pic_lines(void)
{
	struct vm vm;
	struct vcpu v;
	if (!vm_with_irqchip(&vm, &v))
		return;
	GUEST_LOAD(&vm, pic_guest);
	vcpu_setup(&v, MODE_PROT32, G_CODE);
	idt_set(&v, 0x23, GUEST_ADDR(pic_guest, pic_isr));
	RUN_EXPECT_OUT(&v, 0x10);
	struct kvm_irqchip c = get_chip(&vm, KVM_IRQCHIP_PIC_MASTER);
	CHECK_EQ(0x20, c.chip.pic.irq_base);
	CHECK_EQ(0xf7, c.chip.pic.imr);
	CHECK_EQ(0, c.chip.pic.init_state);
	CHECK_EQ(0xf8, c.chip.pic.elcr_mask);
	CHECK_OK(irq_line(&vm, 3, 1));
	c = get_chip(&vm, KVM_IRQCHIP_PIC_MASTER);
	CHECK_EQ(0x08, c.chip.pic.irr);
	CHECK_OK(irq_line(&vm, 3, 0));
	CHECK_EQ(1, RUN_EXPECT_OUT(&v, 0x11));
	c = get_chip(&vm, KVM_IRQCHIP_PIC_MASTER);
	CHECK_EQ(0, c.chip.pic.isr);
	CHECK_EQ(0, c.chip.pic.irr);

	/* Round trip of the slave. */
	c = get_chip(&vm, KVM_IRQCHIP_PIC_SLAVE);
	CHECK_EQ(0xde, c.chip.pic.elcr_mask);
	c.chip.pic.imr = 0x5a;
	c.chip.pic.irq_base = 0x70;
	CHECK_OK(ioctl(vm.fd, KVM_SET_IRQCHIP, &c));
	struct kvm_irqchip c2 = get_chip(&vm, KVM_IRQCHIP_PIC_SLAVE);
	CHECK(!memcmp(&c.chip.pic, &c2.chip.pic, sizeof(c.chip.pic)));
	vcpu_fini(&v);
	vm_fini(&vm);
}

static void lapic_state(void)
{
	struct vm vm;
	struct vcpu v, v1;
	if (!vm_with_irqchip(&vm, &v))
		return;
	vcpu_init(&vm, &v1, 5);
	struct kvm_lapic_state l, l2;
	uint32_t r;
	CHECK_OK(ioctl(v.fd, KVM_GET_LAPIC, &l));
	memcpy(&r, l.regs + 0x30, 4);
	CHECK_EQ(0x50014, r);          /* version 0x14, six LVT entries */
	memcpy(&r, l.regs + 0x20, 4);
	CHECK_EQ(0, r);                /* xAPIC ID of vCPU 0 */
	memcpy(&r, l.regs + 0xf0, 4);
	CHECK_EQ(0xff, r);             /* SVR at reset */
	memcpy(&r, l.regs + 0x350, 4);
	CHECK_EQ(0x700, r);            /* the BSP's LINT0: ExtINT */
	memcpy(&r, l.regs + 0x320, 4);
	CHECK_EQ(0x10000, r);          /* LVT timer masked */
	CHECK_OK(ioctl(v1.fd, KVM_GET_LAPIC, &l2));
	memcpy(&r, l2.regs + 0x20, 4);
	CHECK_EQ(5u << 24, r);
	memcpy(&r, l2.regs + 0x350, 4);
	CHECK_EQ(0x10000, r);          /* an AP's LINT0 is masked */

	/* TPR, SVR, LVT0 and an IRR bit survive a round trip; CR8 is TPR >> 4. */
	uint32_t tpr = 0x20, svr = 0x1ff, lvt0 = 0x8700, irr = 1u << 3;
	memcpy(l.regs + 0x80, &tpr, 4);
	memcpy(l.regs + 0xf0, &svr, 4);
	memcpy(l.regs + 0x350, &lvt0, 4);
	memcpy(l.regs + 0x220, &irr, 4);   /* vector 0x43 */
	CHECK_OK(ioctl(v.fd, KVM_SET_LAPIC, &l));
	CHECK_OK(ioctl(v.fd, KVM_GET_LAPIC, &l2));
	CHECK(!memcmp(l.regs + 0x80, l2.regs + 0x80, 4));
	CHECK(!memcmp(l.regs + 0xf0, l2.regs + 0xf0, 4));
	CHECK(!memcmp(l.regs + 0x350, l2.regs + 0x350, 4));
	CHECK(!memcmp(l.regs + 0x220, l2.regs + 0x220, 4));
	CHECK_EQ(2, get_sregs(&v).cr8);
	struct kvm_msrs *m = calloc(1, sizeof(*m) + sizeof(struct kvm_msr_entry));
	m->nmsrs = 1;
	m->entries[0].index = 0x1b;
	CHECK_EQ(1, ioctl(v.fd, KVM_GET_MSRS, m));
	CHECK_EQ(0xfee00900, m->entries[0].data);   /* enabled, BSP */
	CHECK_EQ(1, ioctl(v1.fd, KVM_GET_MSRS, m));
	CHECK_EQ(0xfee00800, m->entries[0].data);
	free(m);
	vcpu_fini(&v1);
	vcpu_fini(&v);
	vm_fini(&vm);
}

static void errors(void)
{
	struct vm vm;
	struct vcpu v;
	vm_init(&vm);
	vcpu_init(&vm, &v, 0);
	/* Without an irqchip. */
	CHECK_ERRNO(irq_line(&vm, 1, 1), ENXIO);
	struct kvm_irqchip c;
	memset(&c, 0, sizeof(c));
	CHECK_ERRNO(ioctl(vm.fd, KVM_GET_IRQCHIP, &c), ENXIO);
	CHECK_ERRNO(ioctl(vm.fd, KVM_SET_IRQCHIP, &c), ENXIO);
	struct kvm_lapic_state l;
	CHECK_ERRNO(ioctl(v.fd, KVM_GET_LAPIC, &l), EINVAL);
	/* Not after a vCPU exists. */
	CHECK_ERRNO(ioctl(vm.fd, KVM_CREATE_IRQCHIP, 0UL), EINVAL);
	vcpu_fini(&v);
	vm_fini(&vm);

	if (!vm_with_irqchip(&vm, &v))
		return;
	CHECK_ERRNO(ioctl(vm.fd, KVM_CREATE_IRQCHIP, 0UL), EEXIST);
	c.chip_id = 3;
	CHECK_ERRNO(ioctl(vm.fd, KVM_GET_IRQCHIP, &c), EINVAL);
	CHECK_ERRNO(ioctl(vm.fd, KVM_SET_IRQCHIP, &c), EINVAL);
	/* KVM_INTERRUPT belongs to userspace irqchips. */
	struct kvm_interrupt irq = {.irq = 0x30};
	CHECK_ERRNO(ioctl(v.fd, KVM_INTERRUPT, &irq), ENXIO);
	/* MP states that need the LAPIC are accepted now. */
	struct kvm_mp_state mp = {.mp_state = KVM_MP_STATE_HALTED};
	CHECK_OK(ioctl(v.fd, KVM_SET_MP_STATE, &mp));
	mp.mp_state = KVM_MP_STATE_STOPPED;
	CHECK_ERRNO(ioctl(v.fd, KVM_SET_MP_STATE, &mp), EINVAL);
	vcpu_fini(&v);
	vm_fini(&vm);
}

int main(void)
{
	RUN_CASE(ioapic_lines);
	RUN_CASE(pic_lines);
	RUN_CASE(lapic_state);
	RUN_CASE(errors);
	return t_done();
}
