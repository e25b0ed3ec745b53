/* The in-kernel GICv3 (KVM_DEV_TYPE_ARM_VGIC_V3): KVM_CREATE_DEVICE and
 * the device fd, the attribute groups with KVM 6.1's errno, KVM_IRQ_LINE
 * with a vGIC, and a guest (guests/arm64/vgic.c) that takes an SPI the
 * VMM raises, an SGI from the other vCPU and its virtual timer's PPI. */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "a64t.h"

#define GICD_GPA 0x08000000ull
#define GICR_GPA 0x080a0000ull
#define RDIST_REGION(count, base, index) (((uint64_t)(count) << 52) | (base) | (index))

static struct tvcpu v0, v1;
static atomic_int sec_done;
static int sec_exit;
static int efd;   /* the irqfd of GSI 10 */

static int dev_attr(int fd, unsigned long req, uint32_t group, uint64_t attr, void *val)
{
	struct kvm_device_attr a = {.group = group, .attr = attr, .addr = (uintptr_t)val};
	return ioctl(fd, req, &a);
}

static int irq_line(int vm, uint32_t type, uint32_t vcpu, uint32_t num, uint32_t level)
{
	struct kvm_irq_level l = {
		.irq = (type << KVM_ARM_IRQ_TYPE_SHIFT) | (vcpu << KVM_ARM_IRQ_VCPU_SHIFT) | num,
		.level = level};
	return ioctl(vm, KVM_IRQ_LINE, &l);
}

/* KVM_CREATE_DEVICE and the fd it gives. */
static int create_gic(struct tvm *vm)
{
	CHECK_EQ(1, ioctl(vm->fd, KVM_CHECK_EXTENSION, KVM_CAP_DEVICE_CTRL));
	CHECK_EQ(1, ioctl(vm->fd, KVM_CHECK_EXTENSION, KVM_CAP_IRQCHIP));
	struct kvm_create_device cd = {.type = 0};
	CHECK_ERRNO(ioctl(vm->fd, KVM_CREATE_DEVICE, &cd), ENODEV);
	cd = (struct kvm_create_device){.type = KVM_DEV_TYPE_ARM_VGIC_V2, .flags = KVM_CREATE_DEVICE_TEST};
	CHECK_ERRNO(ioctl(vm->fd, KVM_CREATE_DEVICE, &cd), ENODEV);
	cd = (struct kvm_create_device){.type = KVM_DEV_TYPE_ARM_VGIC_V3, .flags = KVM_CREATE_DEVICE_TEST,
					.fd = 1234};
	CHECK_OK(ioctl(vm->fd, KVM_CREATE_DEVICE, &cd));
	CHECK_EQ(1234, cd.fd);   /* a test makes nothing */
	CHECK_ERRNO(ioctl(vm->fd, KVM_CREATE_DEVICE, NULL), EFAULT);
	/* KVM_IRQ_LINE for an SPI before there is an irqchip */
	CHECK_ERRNO(irq_line(vm->fd, KVM_ARM_IRQ_TYPE_SPI, 0, 40, 1), ENXIO);
	cd = (struct kvm_create_device){.type = KVM_DEV_TYPE_ARM_VGIC_V3};
	CHECK_OK(ioctl(vm->fd, KVM_CREATE_DEVICE, &cd));
	int fd = (int)cd.fd;
	CHECK(fd > 2);
	CHECK_ERRNO(ioctl(vm->fd, KVM_CREATE_DEVICE, &cd), EEXIST);
	/* a device fd: dup works, a VM ioctl on it does not */
	int dup_fd = dup(fd);
	CHECK(dup_fd >= 0);
	CHECK_OK(dev_attr(dup_fd, KVM_HAS_DEVICE_ATTR, KVM_DEV_ARM_VGIC_GRP_CTRL, KVM_DEV_ARM_VGIC_CTRL_INIT, NULL));
	CHECK_OK(close(dup_fd));
	CHECK_ERRNO(ioctl(fd, KVM_CREATE_VCPU, 5), ENOTTY);
	CHECK_ERRNO(ioctl(fd, KVM_SET_DEVICE_ATTR, NULL), EFAULT);
	return fd;
}

static void attributes(struct tvm *vm, int gic)
{
	uint64_t addr;
	uint32_t n;
	CHECK_OK(dev_attr(gic, KVM_HAS_DEVICE_ATTR, KVM_DEV_ARM_VGIC_GRP_ADDR, KVM_VGIC_V3_ADDR_TYPE_DIST, NULL));
	CHECK_ERRNO(dev_attr(gic, KVM_HAS_DEVICE_ATTR, KVM_DEV_ARM_VGIC_GRP_ADDR, 99, NULL), ENXIO);
	CHECK_ERRNO(dev_attr(gic, KVM_HAS_DEVICE_ATTR, 42, 0, NULL), ENXIO);
	addr = 0x1000;
	CHECK_ERRNO(dev_attr(gic, KVM_SET_DEVICE_ATTR, KVM_DEV_ARM_VGIC_GRP_ADDR, KVM_VGIC_V3_ADDR_TYPE_DIST, &addr),
		    EINVAL);
	addr = 1ull << 40;
	CHECK_ERRNO(dev_attr(gic, KVM_SET_DEVICE_ATTR, KVM_DEV_ARM_VGIC_GRP_ADDR, KVM_VGIC_V3_ADDR_TYPE_DIST, &addr),
		    E2BIG);
	CHECK_ERRNO(dev_attr(gic, KVM_SET_DEVICE_ATTR, KVM_DEV_ARM_VGIC_GRP_ADDR, KVM_VGIC_V3_ADDR_TYPE_DIST, NULL),
		    EFAULT);
	addr = RDIST_REGION(2, GICR_GPA, 1);
	CHECK_ERRNO(dev_attr(gic, KVM_SET_DEVICE_ATTR, KVM_DEV_ARM_VGIC_GRP_ADDR,
			     KVM_VGIC_V3_ADDR_TYPE_REDIST_REGION, &addr), EINVAL);   /* first index must be 0 */
	/* the GIC is not initialized: no register access, no injection, no run */
	uint32_t val;
	CHECK_ERRNO(dev_attr(gic, KVM_GET_DEVICE_ATTR, KVM_DEV_ARM_VGIC_GRP_DIST_REGS, 0, &val), EBUSY);
	CHECK_ERRNO(irq_line(vm->fd, KVM_ARM_IRQ_TYPE_SPI, 0, 40, 1), EBUSY);
	CHECK_ERRNO(ioctl(v0.fd, KVM_RUN, 0), ENXIO);   /* no addresses */
	n = 64;
	CHECK_OK(dev_attr(gic, KVM_SET_DEVICE_ATTR, KVM_DEV_ARM_VGIC_GRP_NR_IRQS, 0, &n));
	n = 96;
	CHECK_ERRNO(dev_attr(gic, KVM_SET_DEVICE_ATTR, KVM_DEV_ARM_VGIC_GRP_NR_IRQS, 0, &n), EBUSY);
	n = 33;
	CHECK_ERRNO(dev_attr(gic, KVM_SET_DEVICE_ATTR, KVM_DEV_ARM_VGIC_GRP_NR_IRQS, 0, &n), EINVAL);
	addr = GICD_GPA;
	CHECK_OK(dev_attr(gic, KVM_SET_DEVICE_ATTR, KVM_DEV_ARM_VGIC_GRP_ADDR, KVM_VGIC_V3_ADDR_TYPE_DIST, &addr));
	CHECK_ERRNO(dev_attr(gic, KVM_SET_DEVICE_ATTR, KVM_DEV_ARM_VGIC_GRP_ADDR, KVM_VGIC_V3_ADDR_TYPE_DIST, &addr),
		    EEXIST);
	addr = RDIST_REGION(2, GICR_GPA, 0);
	CHECK_OK(dev_attr(gic, KVM_SET_DEVICE_ATTR, KVM_DEV_ARM_VGIC_GRP_ADDR, KVM_VGIC_V3_ADDR_TYPE_REDIST_REGION,
			  &addr));
	addr = 0;
	CHECK_OK(dev_attr(gic, KVM_GET_DEVICE_ATTR, KVM_DEV_ARM_VGIC_GRP_ADDR, KVM_VGIC_V3_ADDR_TYPE_REDIST_REGION,
			  &addr));
	CHECK_EQ(RDIST_REGION(2, GICR_GPA, 0), addr);
	addr = 1;
	CHECK_ERRNO(dev_attr(gic, KVM_GET_DEVICE_ATTR, KVM_DEV_ARM_VGIC_GRP_ADDR,
			     KVM_VGIC_V3_ADDR_TYPE_REDIST_REGION, &addr), ENOENT);
	addr = 0x200000;
	CHECK_ERRNO(dev_attr(gic, KVM_SET_DEVICE_ATTR, KVM_DEV_ARM_VGIC_GRP_ADDR, KVM_VGIC_V3_ADDR_TYPE_REDIST,
			     &addr), EINVAL);   /* no mixing with the legacy region */
	CHECK_ERRNO(ioctl(v0.fd, KVM_RUN, 0), EBUSY);   /* a GICv3 is initialized explicitly */
	efd = eventfd(0, EFD_CLOEXEC);
	struct kvm_irqfd irqfd = {.fd = (uint32_t)efd, .gsi = 10};
	CHECK_ERRNO(ioctl(vm->fd, KVM_IRQFD, &irqfd), EAGAIN);   /* the irqchip is not initialized */
	CHECK_OK(dev_attr(gic, KVM_SET_DEVICE_ATTR, KVM_DEV_ARM_VGIC_GRP_CTRL, KVM_DEV_ARM_VGIC_CTRL_INIT, NULL));
	CHECK_OK(dev_attr(gic, KVM_GET_DEVICE_ATTR, KVM_DEV_ARM_VGIC_GRP_NR_IRQS, 0, &n));
	CHECK_EQ(64, n);
	CHECK_ERRNO(ioctl(vm->fd, KVM_CREATE_VCPU, 7), EBUSY);
	/* KVM_IRQFD and the GSI routing (GSI n is SPI 32 + n by default) */
	CHECK_EQ(1, ioctl(vm->fd, KVM_CHECK_EXTENSION, KVM_CAP_IRQFD));
	CHECK_EQ(4096, ioctl(vm->fd, KVM_CHECK_EXTENSION, KVM_CAP_IRQ_ROUTING));
	CHECK_OK(ioctl(vm->fd, KVM_IRQFD, &irqfd));
	CHECK_ERRNO(ioctl(vm->fd, KVM_IRQFD, &irqfd), EBUSY);
	struct kvm_irqfd bad = {.fd = 0, .gsi = 11};
	CHECK_ERRNO(ioctl(vm->fd, KVM_IRQFD, &bad), EINVAL);   /* not an eventfd */
	bad = (struct kvm_irqfd){.fd = (uint32_t)efd, .gsi = 11, .flags = 4};
	CHECK_ERRNO(ioctl(vm->fd, KVM_IRQFD, &bad), EINVAL);
	_Alignas(8) unsigned char buf[sizeof(struct kvm_irq_routing) + 2 * sizeof(struct kvm_irq_routing_entry)] = {0};
	struct kvm_irq_routing *rt = (struct kvm_irq_routing *)buf;
	rt->nr = 1;
	rt->entries[0] = (struct kvm_irq_routing_entry){.gsi = 3, .type = KVM_IRQ_ROUTING_IRQCHIP, .u.irqchip = {0, 988}};
	CHECK_ERRNO(ioctl(vm->fd, KVM_SET_GSI_ROUTING, rt), EINVAL);   /* no such pin */
	rt->nr = 2;
	rt->entries[0].u.irqchip.pin = 10;
	rt->entries[1] = (struct kvm_irq_routing_entry){.gsi = 3, .type = KVM_IRQ_ROUTING_IRQCHIP, .u.irqchip = {0, 11}};
	CHECK_ERRNO(ioctl(vm->fd, KVM_SET_GSI_ROUTING, rt), EINVAL);   /* a GSI twice on the irqchip */
	rt->nr = 1;
	rt->entries[0] = (struct kvm_irq_routing_entry){.gsi = 10, .type = KVM_IRQ_ROUTING_IRQCHIP, .u.irqchip = {0, 10}};
	CHECK_OK(ioctl(vm->fd, KVM_SET_GSI_ROUTING, rt));
	CHECK_ERRNO(ioctl(vm->fd, KVM_SIGNAL_MSI, &(struct kvm_msi){0}), ENODEV);   /* no ITS */
	/* GICR_TYPER of vCPU 1 (MPIDR 1 in bits 63:32): processor 1, Last */
	CHECK_OK(dev_attr(gic, KVM_GET_DEVICE_ATTR, KVM_DEV_ARM_VGIC_GRP_REDIST_REGS, (1ull << 32) | 0x8, &val));
	CHECK_EQ(0x110, val);
	CHECK_ERRNO(dev_attr(gic, KVM_GET_DEVICE_ATTR, KVM_DEV_ARM_VGIC_GRP_REDIST_REGS, (9ull << 32) | 0x8, &val),
		    EINVAL);
	/* KVM_IRQ_LINE with a vGIC */
	CHECK_ERRNO(irq_line(vm->fd, KVM_ARM_IRQ_TYPE_CPU, 0, KVM_ARM_IRQ_CPU_IRQ, 1), ENXIO);
	CHECK_ERRNO(irq_line(vm->fd, KVM_ARM_IRQ_TYPE_SPI, 0, 64, 1), EINVAL);   /* beyond NR_IRQS */
	CHECK_ERRNO(irq_line(vm->fd, KVM_ARM_IRQ_TYPE_SPI, 0, 20, 1), EINVAL);
	CHECK_ERRNO(irq_line(vm->fd, KVM_ARM_IRQ_TYPE_PPI, 0, 5, 1), EINVAL);
	CHECK_ERRNO(irq_line(vm->fd, KVM_ARM_IRQ_TYPE_PPI, 3, 20, 1), EINVAL);
	/* save/restore view: ISPENDR of SPI 42, its latch set and cleared */
	val = 1u << 10;
	CHECK_OK(dev_attr(gic, KVM_SET_DEVICE_ATTR, KVM_DEV_ARM_VGIC_GRP_DIST_REGS, 0x204, &val));
	val = 0;
	CHECK_OK(dev_attr(gic, KVM_GET_DEVICE_ATTR, KVM_DEV_ARM_VGIC_GRP_DIST_REGS, 0x204, &val));
	CHECK_EQ(1u << 10, val);
	val = 0;
	CHECK_OK(dev_attr(gic, KVM_SET_DEVICE_ATTR, KVM_DEV_ARM_VGIC_GRP_DIST_REGS, 0x204, &val));
	/* ICC_PMR_EL1 of vCPU 0 through CPU_SYSREGS */
	uint64_t pmr = 0x80;
	uint64_t pmr_id = (3u << 14) | (4u << 7) | (6u << 3);
	CHECK_OK(dev_attr(gic, KVM_SET_DEVICE_ATTR, KVM_DEV_ARM_VGIC_GRP_CPU_SYSREGS, pmr_id, &pmr));
	pmr = 0;
	CHECK_OK(dev_attr(gic, KVM_GET_DEVICE_ATTR, KVM_DEV_ARM_VGIC_GRP_CPU_SYSREGS, pmr_id, &pmr));
	CHECK_EQ(0x80, pmr);
	pmr = 0;
	CHECK_OK(dev_attr(gic, KVM_SET_DEVICE_ATTR, KVM_DEV_ARM_VGIC_GRP_CPU_SYSREGS, pmr_id, &pmr));
}

static void *secondary(void *arg)
{
	(void)arg;
	for (;;) {
		int handled;
		int r = run_once(&v1, &handled);
		if (handled)
			continue;
		if (r == -EINTR) {
			if (atomic_load(&sec_done))
				break;
			continue;
		}
		sec_exit = r;
		break;
	}
	return NULL;
}

static void on_usr1(int sig)
{
	(void)sig;
}

/* Runs vCPU 0, doing what the guest asks through value(). */
static int run_primary(struct tvm *vm)
{
	int seen = 0;
	for (;;) {
		int handled;
		int r = run_once(&v0, &handled);
		if (r < 0)
			return r;
		CHECK_EQ(0, v0.run->s.regs.device_irq_level);   /* the vGIC has the timer line */
		for (; seen < v0.nvalues; seen++) {
			switch (v0.values[seen]) {
			case 1:
				CHECK_OK(irq_line(vm->fd, KVM_ARM_IRQ_TYPE_SPI, 0, 40, 1));
				CHECK_OK(irq_line(vm->fd, KVM_ARM_IRQ_TYPE_SPI, 0, 40, 0));
				break;
			case 2:
				CHECK_OK(irq_line(vm->fd, KVM_ARM_IRQ_TYPE_SPI, 0, 41, 1));
				break;
			case 3:
				CHECK_OK(irq_line(vm->fd, KVM_ARM_IRQ_TYPE_SPI, 0, 41, 0));
				break;
			case 4:
				CHECK_EQ(8, write(efd, &(uint64_t){1}, 8));
				break;
			}
		}
		if (handled || r == KVM_EXIT_INTR)
			continue;
		return r;
	}
}

int main(int argc, char **argv)
{
	struct tvm vm;
	if (argc < 2 || tvm_create(&vm) < 0 || load_guest(&vm, argv[1]) < 0 ||
	    tvcpu_create(&vm, &v0, 0, 1u << KVM_ARM_VCPU_PSCI_0_2) < 0 ||
	    tvcpu_create(&vm, &v1, 1, (1u << KVM_ARM_VCPU_PSCI_0_2) | (1u << KVM_ARM_VCPU_POWER_OFF)) < 0) {
		perror("setup");
		return 1;
	}
	int gic = create_gic(&vm);
	attributes(&vm, gic);
	CHECK_OK(close(gic));   /* the vGIC lives on with the VM */

	struct sigaction sa = {.sa_handler = on_usr1};
	sigaction(SIGUSR1, &sa, NULL);
	pthread_t th;
	pthread_create(&th, NULL, secondary, NULL);
	set_reg(&v0, CORE_REG(regs.pc), RAM_GPA);
	CHECK_EQ(KVM_EXIT_SYSTEM_EVENT, run_primary(&vm));
	atomic_store(&sec_done, 1);
	pthread_kill(th, SIGUSR1);
	pthread_join(th, NULL);
	CHECK_EQ(0, sec_exit);
	CHECK_EQ(36, v0.checks);
	CHECK_EQ(0, v0.fails);
	return t_done();
}
