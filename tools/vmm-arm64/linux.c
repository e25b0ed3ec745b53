/* --linux: what an arm64 Linux kernel needs besides RAM and a UART, as on
 * QEMU's virt machine: an in-kernel GICv3 (KVM_CREATE_DEVICE), a device
 * tree built here (memory, the CPU with PSCI, the timer's PPIs, the GIC,
 * the PL011 and its clock, /chosen with bootargs and the initrd), and the
 * initrd in RAM. The DTB's address goes to x0 (boot.c). */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>

#include "fdt.h"
#include "vmm.h"

#define GICD_BASE 0x08000000ull		/* QEMU virt's */
#define GICD_SIZE 0x10000ull
#define GICR_BASE 0x080a0000ull
#define GICR_SIZE 0x20000ull		/* one redistributor: RD + SGI frames */
#define GIC_NR_IRQS 128
#define PL011_SPI 1
#define DTB_MAX (64u << 10)

/* Device tree interrupt specifiers (GIC binding): type, number, flags. */
#define GIC_SPI 0
#define GIC_PPI 1
#define IRQ_LEVEL_HIGH 4

enum { PHANDLE_GIC = 1, PHANDLE_CLK = 2 };

static int fail(const char *what)
{
	fprintf(stderr, "softkvm-vmm-arm64: %s: %s\n", what, strerror(errno));
	return -1;
}

static int gic_attr(int fd, uint32_t group, uint64_t attr, void *addr)
{
	struct kvm_device_attr a = {.group = group, .attr = attr, .addr = (uintptr_t)addr};
	return ioctl(fd, KVM_SET_DEVICE_ATTR, &a);
}

/* The vGIC: created, placed, sized and initialised after the vCPU. */
static int create_gic(struct vmm *vmm)
{
	struct kvm_create_device cd = {.type = KVM_DEV_TYPE_ARM_VGIC_V3};
	if (ioctl(vmm->vm_fd, KVM_CREATE_DEVICE, &cd) < 0)
		return fail("KVM_CREATE_DEVICE(VGIC_V3)");
	uint64_t dist = GICD_BASE, redist = GICR_BASE;
	uint32_t nr = GIC_NR_IRQS;
	if (gic_attr(cd.fd, KVM_DEV_ARM_VGIC_GRP_ADDR, KVM_VGIC_V3_ADDR_TYPE_DIST, &dist) < 0 ||
	    gic_attr(cd.fd, KVM_DEV_ARM_VGIC_GRP_ADDR, KVM_VGIC_V3_ADDR_TYPE_REDIST, &redist) < 0)
		return fail("vGIC addresses");
	if (gic_attr(cd.fd, KVM_DEV_ARM_VGIC_GRP_NR_IRQS, 0, &nr) < 0)
		return fail("vGIC NR_IRQS");
	if (gic_attr(cd.fd, KVM_DEV_ARM_VGIC_GRP_CTRL, KVM_DEV_ARM_VGIC_CTRL_INIT, NULL) < 0)
		return fail("vGIC CTRL_INIT");
	return 0;
}

static void reg(struct fdt *f, uint64_t base, uint64_t size)
{
	uint32_t c[4] = {(uint32_t)(base >> 32), (uint32_t)base, (uint32_t)(size >> 32), (uint32_t)size};
	fdt_prop_cells(f, "reg", c, 4);
}

static void chosen(struct fdt *f, const char *cmdline, uint64_t initrd, uint64_t initrd_len)
{
	fdt_begin_node(f, "chosen");
	fdt_prop_str(f, "bootargs", cmdline ? cmdline : "");
	fdt_prop_str(f, "stdout-path", "/pl011@9000000");
	if (initrd_len) {
		uint32_t s[2] = {(uint32_t)(initrd >> 32), (uint32_t)initrd};
		uint32_t e[2] = {(uint32_t)((initrd + initrd_len) >> 32), (uint32_t)(initrd + initrd_len)};
		fdt_prop_cells(f, "linux,initrd-start", s, 2);
		fdt_prop_cells(f, "linux,initrd-end", e, 2);
	}
	fdt_end_node(f);
}

static void cpus_and_psci(struct fdt *f)
{
	fdt_begin_node(f, "cpus");
	fdt_prop_u32(f, "#address-cells", 1);
	fdt_prop_u32(f, "#size-cells", 0);
	fdt_begin_node(f, "cpu@0");
	fdt_prop_str(f, "device_type", "cpu");
	fdt_prop_str(f, "compatible", "arm,cortex-a57");
	fdt_prop_u32(f, "reg", 0);
	fdt_prop_str(f, "enable-method", "psci");
	fdt_end_node(f);
	fdt_end_node(f);

	static const char psci[] = "arm,psci-1.0\0arm,psci-0.2";
	fdt_begin_node(f, "psci");
	fdt_prop_strs(f, "compatible", psci, sizeof(psci));
	fdt_prop_str(f, "method", "hvc");
	fdt_end_node(f);
}

static void timer_and_gic(struct fdt *f)
{
	/* secure phys, non-secure phys, virtual, hypervisor PPIs (13, 14, 11, 10) */
	uint32_t t[12] = {GIC_PPI, 13, IRQ_LEVEL_HIGH, GIC_PPI, 14, IRQ_LEVEL_HIGH,
			  GIC_PPI, 11, IRQ_LEVEL_HIGH, GIC_PPI, 10, IRQ_LEVEL_HIGH};
	fdt_begin_node(f, "timer");
	fdt_prop_str(f, "compatible", "arm,armv8-timer");
	fdt_prop_cells(f, "interrupts", t, 12);
	fdt_prop(f, "always-on", NULL, 0);
	fdt_end_node(f);

	uint32_t r[8] = {0, (uint32_t)GICD_BASE, 0, (uint32_t)GICD_SIZE,
			 0, (uint32_t)GICR_BASE, 0, (uint32_t)GICR_SIZE};
	fdt_begin_node(f, "intc@8000000");
	fdt_prop_str(f, "compatible", "arm,gic-v3");
	fdt_prop_u32(f, "#interrupt-cells", 3);
	fdt_prop(f, "interrupt-controller", NULL, 0);
	fdt_prop_cells(f, "reg", r, 8);
	fdt_prop_u32(f, "phandle", PHANDLE_GIC);
	fdt_end_node(f);
}

static void uart(struct fdt *f)
{
	fdt_begin_node(f, "apb-pclk");
	fdt_prop_str(f, "compatible", "fixed-clock");
	fdt_prop_u32(f, "#clock-cells", 0);
	fdt_prop_u32(f, "clock-frequency", 24000000);
	fdt_prop_str(f, "clock-output-names", "clk24mhz");
	fdt_prop_u32(f, "phandle", PHANDLE_CLK);
	fdt_end_node(f);

	static const char compat[] = "arm,pl011\0arm,primecell";
	static const char clock_names[] = "uartclk\0apb_pclk";
	uint32_t irq[3] = {GIC_SPI, PL011_SPI, IRQ_LEVEL_HIGH};
	uint32_t clocks[2] = {PHANDLE_CLK, PHANDLE_CLK};
	fdt_begin_node(f, "pl011@9000000");
	fdt_prop_strs(f, "compatible", compat, sizeof(compat));
	reg(f, VMM_PL011_BASE, VMM_PL011_SIZE);
	fdt_prop_cells(f, "interrupts", irq, 3);
	fdt_prop_cells(f, "clocks", clocks, 2);
	fdt_prop_strs(f, "clock-names", clock_names, sizeof(clock_names));
	fdt_end_node(f);
}

static size_t build_dtb(struct vmm *vmm, const char *cmdline, uint64_t initrd,
			uint64_t initrd_len, void *out)
{
	struct fdt f = {0};
	fdt_begin_node(&f, "");
	fdt_prop_str(&f, "compatible", "linux,dummy-virt");
	fdt_prop_u32(&f, "#address-cells", 2);
	fdt_prop_u32(&f, "#size-cells", 2);
	fdt_prop_u32(&f, "interrupt-parent", PHANDLE_GIC);
	chosen(&f, cmdline, initrd, initrd_len);
	fdt_begin_node(&f, "memory@40000000");
	fdt_prop_str(&f, "device_type", "memory");
	reg(&f, VMM_RAM_BASE, vmm->mem_size);
	fdt_end_node(&f);
	cpus_and_psci(&f);
	timer_and_gic(&f);
	uart(&f);
	fdt_end_node(&f);
	return fdt_finish(&f, out, DTB_MAX);
}

/* The initrd at the middle of RAM (above any kernel image that fits in
 * the lower half), the DTB in the last 64 KiB. */
static int load_initrd(struct vmm *vmm, const char *path, uint64_t *gpa, uint64_t *len)
{
	*gpa = *len = 0;
	if (!path)
		return 0;
	FILE *fp = fopen(path, "rb");
	if (!fp)
		return fail(path);
	size_t off = (vmm->mem_size / 2) & ~(size_t)0xfffff;
	size_t room = vmm->mem_size - DTB_MAX - off;
	size_t n = fread(vmm->mem + off, 1, room, fp);
	int extra = fgetc(fp);
	fclose(fp);
	if (extra != EOF) {
		fprintf(stderr, "softkvm-vmm-arm64: %s: no room for the initrd\n", path);
		return -1;
	}
	*gpa = VMM_RAM_BASE + off;
	*len = n;
	return 0;
}

int linux_setup(struct vmm *vmm, const char *initrd, const char *cmdline, uint64_t *dtb)
{
	uint64_t initrd_gpa, initrd_len;
	if (create_gic(vmm) < 0 || load_initrd(vmm, initrd, &initrd_gpa, &initrd_len) < 0)
		return -1;
	size_t off = vmm->mem_size - DTB_MAX;
	size_t n = build_dtb(vmm, cmdline, initrd_gpa, initrd_len, vmm->mem + off);
	if (!n) {
		fprintf(stderr, "softkvm-vmm-arm64: the device tree did not fit\n");
		return -1;
	}
	*dtb = VMM_RAM_BASE + off;
	return 0;
}
