/* Interrupts that do not come from the vCPU thread: KVM_IRQFD (an eventfd
 * written by another thread raises a GSI), KVM_SET_GSI_ROUTING (a GSI
 * routed to the IOAPIC or as an MSI) and KVM_SIGNAL_MSI. The guest sleeps
 * in HLT and counts the interrupts it takes. */
#include "vm.h"

#include <pthread.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>

#define COUNT "0x600"

/* IOAPIC pin 20: edge, vector 0x45 to APIC 0. Wait for 4 interrupts. */
GUEST_CODE(fd_guest, 32,
	"movl $0x1ff, 0xfee000f0\n"
	"movl $0x38, 0xfec00000\n"
	"movl $0x45, 0xfec00010\n"
	"movl $0x39, 0xfec00000\n"
	"movl $0, 0xfec00010\n"
	"out %al, $0x10\n"
	"1: cli\n"
	"cmpl $4, " COUNT "\n"
	"jae 2f\n"
	"sti\n"
	"hlt\n"
	"jmp 1b\n"
	"2: mov " COUNT ", %eax\n"
	"out %eax, $0x11\n"
	"hlt\n"
	"fd_isr: incl " COUNT "\n"
	"movl $0, 0xfee000b0\n"
	"iret\n");
GUEST_LABEL(fd_isr);

static int irqfd(struct vm *vm, int fd, uint32_t gsi, uint32_t flags)
{
	struct kvm_irqfd a = {.fd = (uint32_t)fd, .gsi = gsi, .flags = flags};
	return ioctl(vm->fd, KVM_IRQFD, &a);
}

struct kicker {
	int fd20, fd100;
};

/* Another thread signals the eventfds while the vCPU sleeps in HLT. */
static void *kicker_main(void *arg)
{
	struct kicker *k = arg;
	uint64_t one = 1;
	usleep(30 * 1000);
	if (write(k->fd20, &one, 8) != 8)
		return NULL;
	usleep(30 * 1000);
	if (write(k->fd20, &one, 8) != 8)
		return NULL;
	usleep(30 * 1000);
	if (write(k->fd100, &one, 8) != 8)
		return NULL;
	return NULL;
}

static void set_routing(struct vm *vm)
{
	struct kvm_irq_routing *r = calloc(1, sizeof(*r) + 2 * sizeof(struct kvm_irq_routing_entry));
	r->nr = 2;
	r->entries[0].gsi = 20;
	r->entries[0].type = KVM_IRQ_ROUTING_IRQCHIP;
	r->entries[0].u.irqchip.irqchip = KVM_IRQCHIP_IOAPIC;
	r->entries[0].u.irqchip.pin = 20;
	r->entries[1].gsi = 100;
	r->entries[1].type = KVM_IRQ_ROUTING_MSI;
	r->entries[1].u.msi.address_lo = 0xfee00000;   /* APIC ID 0, physical */
	r->entries[1].u.msi.data = 0x46;              /* fixed, edge, vector 0x46 */
	CHECK_OK(ioctl(vm->fd, KVM_SET_GSI_ROUTING, r));
	r->entries[1].flags = 2;   /* only KVM_MSI_VALID_DEVID is an MSI flag */
	CHECK_ERRNO(ioctl(vm->fd, KVM_SET_GSI_ROUTING, r), EINVAL);
	r->entries[1].flags = 0;
	r->entries[0].flags = KVM_MSI_VALID_DEVID;   /* and none an irqchip's */
	CHECK_ERRNO(ioctl(vm->fd, KVM_SET_GSI_ROUTING, r), EINVAL);
	r->entries[0].flags = 0;
	r->entries[1].type = 0x1234;
	CHECK_ERRNO(ioctl(vm->fd, KVM_SET_GSI_ROUTING, r), EINVAL);
	free(r);
}

static void irqfd_and_msi(void)
{
	struct vm vm;
	struct vcpu v;
	vm_init(&vm);
	int efd = eventfd(0, EFD_CLOEXEC), efd2 = eventfd(0, EFD_CLOEXEC);
	CHECK_ERRNO(irqfd(&vm, efd, 20, 0), EINVAL);   /* no irqchip yet */
	if (!CHECK_OK(ioctl(vm.fd, KVM_CREATE_IRQCHIP, 0UL)))
		return;
	vcpu_init(&vm, &v, 0);
	GUEST_LOAD(&vm, fd_guest);
	vcpu_setup(&v, MODE_PROT32, G_CODE);
	idt_set(&v, 0x45, GUEST_ADDR(fd_guest, fd_isr));
	idt_set(&v, 0x46, GUEST_ADDR(fd_guest, fd_isr));
	idt_set(&v, 0x47, GUEST_ADDR(fd_guest, fd_isr));

	int p[2];
	CHECK_OK(pipe(p));
	CHECK_ERRNO(irqfd(&vm, p[0], 20, 0), EINVAL);   /* not an eventfd */
	CHECK_ERRNO(irqfd(&vm, 1000, 20, 0), EBADF);
	CHECK_ERRNO(irqfd(&vm, efd, 20, 1u << 7), EINVAL);
	set_routing(&vm);
	CHECK_OK(irqfd(&vm, efd, 20, 0));
	CHECK_ERRNO(irqfd(&vm, efd, 21, 0), EBUSY);
	CHECK_OK(irqfd(&vm, efd2, 100, 0));

	RUN_EXPECT_OUT(&v, 0x10);
	/* KVM_SIGNAL_MSI: vector 0x47 to APIC 0; > 0 means delivered. */
	struct kvm_msi msi = {.address_lo = 0xfee00000, .data = 0x47};
	CHECK_EQ(1, ioctl(vm.fd, KVM_SIGNAL_MSI, &msi));
	msi.flags = 2;
	CHECK_ERRNO(ioctl(vm.fd, KVM_SIGNAL_MSI, &msi), EINVAL);

	struct kicker k = {.fd20 = efd, .fd100 = efd2};
	pthread_t t;
	pthread_create(&t, NULL, kicker_main, &k);
	CHECK_EQ(4, RUN_EXPECT_OUT(&v, 0x11));
	pthread_join(t, NULL);

	/* Deassign; deassigning again (or what was never assigned) is fine. */
	CHECK_OK(irqfd(&vm, efd, 20, KVM_IRQFD_FLAG_DEASSIGN));
	CHECK_OK(irqfd(&vm, efd, 20, KVM_IRQFD_FLAG_DEASSIGN));
	CHECK_OK(irqfd(&vm, efd, 20, 0));   /* free to bind again */
	close(p[0]);
	close(p[1]);
	vcpu_fini(&v);
	vm_fini(&vm);
	close(efd);
	close(efd2);
}

int main(void)
{
	RUN_CASE(irqfd_and_msi);
	return t_done();
}
