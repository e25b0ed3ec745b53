/* Helpers of vm.h: VM, memory, vCPU and mode set-up for test programs. */
#include "vm.h"

#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#define CR0_PE 1u
#define CR0_MP (1u << 1)
#define CR0_ET (1u << 4)
#define CR0_NE (1u << 5)
#define CR0_WP (1u << 16)
#define CR0_PG (1u << 31)
#define CR4_PSE (1u << 4)
#define CR4_PAE (1u << 5)
#define EFER_LME (1u << 8)
#define EFER_LMA (1u << 10)

static void die(const char *what)
{
	fprintf(stderr, "FATAL: %s: %s\n", what, strerror(errno));
	t_failures++;
	t_done();
	exit(1);
}

int kvm_open(void)
{
	int fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (fd < 0)
		die("open /dev/kvm (is LD_PRELOAD set to libsoftkvm-preload.so?)");
	return fd;
}

void *map_anon(size_t size)
{
	void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		die("mmap anonymous");
	return p;
}

int vm_set_slot(struct vm *vm, uint32_t slot, uint64_t gpa, uint64_t size,
		void *host, uint32_t flags)
{
	struct kvm_userspace_memory_region r = {
		.slot = slot, .flags = flags, .guest_phys_addr = gpa,
		.memory_size = size, .userspace_addr = (uintptr_t)host,
	};
	return ioctl(vm->fd, KVM_SET_USER_MEMORY_REGION, &r);
}

void vm_init_bare(struct vm *vm)
{
	vm->kvm = kvm_open();
	vm->fd = ioctl(vm->kvm, KVM_CREATE_VM, 0UL);
	if (vm->fd < 0)
		die("KVM_CREATE_VM");
	vm->mem = NULL;
}

void vm_init(struct vm *vm)
{
	vm_init_bare(vm);
	vm->mem = map_anon(G_MEM_SIZE);
	if (vm_set_slot(vm, 0, 0, G_MEM_SIZE, vm->mem, 0) < 0)
		die("KVM_SET_USER_MEMORY_REGION slot 0");
}

void vm_fini(struct vm *vm)
{
	close(vm->fd);
	close(vm->kvm);
	if (vm->mem)
		munmap(vm->mem, G_MEM_SIZE);
}

void vcpu_init(struct vm *vm, struct vcpu *v, int id)
{
	v->vm = vm;
	v->mode = MODE_REAL;
	v->fd = ioctl(vm->fd, KVM_CREATE_VCPU, (unsigned long)id);
	if (v->fd < 0)
		die("KVM_CREATE_VCPU");
	int sz = ioctl(vm->kvm, KVM_GET_VCPU_MMAP_SIZE, 0UL);
	if (sz < (int)sizeof(struct kvm_run))
		die("KVM_GET_VCPU_MMAP_SIZE");
	v->run_size = (size_t)sz;
	v->run = mmap(NULL, v->run_size, PROT_READ | PROT_WRITE, MAP_SHARED, v->fd, 0);
	if (v->run == MAP_FAILED)
		die("mmap vCPU fd");
}

void vcpu_fini(struct vcpu *v)
{
	munmap(v->run, v->run_size);
	close(v->fd);
}

void guest_load(struct vm *vm, uint64_t gpa, const void *start, const void *end)
{
	memcpy(vm->mem + gpa, start, (size_t)((const uint8_t *)end - (const uint8_t *)start));
}

static void put64(struct vm *vm, uint64_t gpa, uint64_t val)
{
	memcpy(vm->mem + gpa, &val, 8);
}

static void put32(struct vm *vm, uint64_t gpa, uint32_t val)
{
	memcpy(vm->mem + gpa, &val, 4);
}

static void write_gdt(struct vm *vm)
{
	put64(vm, G_GDT + 0x00, 0);
	put64(vm, G_GDT + SEL_CODE32, 0x00cf9b000000ffffull);
	put64(vm, G_GDT + SEL_DATA, 0x00cf93000000ffffull);
	put64(vm, G_GDT + SEL_CODE64, 0x00af9b000000ffffull);
}

/* 32-bit paging: 1024 4-MiB pages mapping all of 4 GiB onto itself. */
static void write_pd32(struct vm *vm)
{
	for (uint32_t i = 0; i < 1024; i++)
		put32(vm, G_PT + 4 * i, (i << 22) | 0x87); /* P RW US PS */
}

/* 4-level paging: 2-MiB pages mapping the low 4 GiB onto itself. */
static void write_pml4(struct vm *vm)
{
	const uint64_t pdpt = G_PT + 0x1000, pd = G_PT + 0x2000;
	memset(vm->mem + G_PT, 0, 0x6000);
	put64(vm, G_PT, pdpt | 7);
	for (uint64_t i = 0; i < 4; i++)
		put64(vm, pdpt + 8 * i, (pd + 0x1000 * i) | 7);
	for (uint64_t i = 0; i < 4 * 512; i++)
		put64(vm, pd + 8 * i, (i << 21) | 0x87);
}

static struct kvm_segment flat_seg(uint16_t sel, int code, int bits)
{
	struct kvm_segment s = {
		.base = 0, .limit = 0xffffffff, .selector = sel, .present = 1,
		.type = code ? 11 : 3, .dpl = 0, .db = bits == 32, .s = 1,
		.l = bits == 64, .g = 1,
	};
	return s;
}

void vcpu_setup(struct vcpu *v, enum guest_mode mode, uint64_t entry)
{
	struct vm *vm = v->vm;
	struct kvm_sregs s = get_sregs(v);
	struct kvm_regs r;

	v->mode = mode;
	write_gdt(vm);
	s.gdt.base = G_GDT;
	s.gdt.limit = 0x1f;
	if (mode == MODE_REAL) {
		s.cs.base = 0;
		s.cs.selector = 0;
		s.ds = s.es = s.fs = s.gs = s.ss = s.cs;
		s.ds.type = s.es.type = s.fs.type = s.gs.type = s.ss.type = 3;
		s.idt.base = 0;
		s.idt.limit = 0x3ff;
	} else {
		int bits = mode == MODE_LONG ? 64 : 32;
		s.cs = flat_seg(bits == 64 ? SEL_CODE64 : SEL_CODE32, 1, bits);
		s.ds = s.es = s.fs = s.gs = s.ss = flat_seg(SEL_DATA, 0, 32);
		s.idt.base = G_IDT;
		s.idt.limit = bits == 64 ? 256 * 16 - 1 : 256 * 8 - 1;
		s.cr0 |= CR0_PE | CR0_MP | CR0_ET | CR0_NE;
	}
	if (mode == MODE_PAGED32) {
		write_pd32(vm);
		s.cr3 = G_PT;
		s.cr4 |= CR4_PSE;
		s.cr0 |= CR0_PG | CR0_WP;
	} else if (mode == MODE_LONG) {
		write_pml4(vm);
		s.cr3 = G_PT;
		s.cr4 |= CR4_PAE;
		s.cr0 |= CR0_PG | CR0_WP;
		s.efer |= EFER_LME | EFER_LMA;
	}
	if (ioctl(v->fd, KVM_SET_SREGS, &s) < 0)
		die("KVM_SET_SREGS");
	memset(&r, 0, sizeof(r));
	r.rflags = 2;
	r.rip = entry;
	r.rsp = mode == MODE_REAL ? 0xfff0 : G_STACK;
	set_regs(v, &r);
}

void idt_set(struct vcpu *v, int vector, uint64_t handler)
{
	struct vm *vm = v->vm;
	if (v->mode == MODE_REAL) {
		put32(vm, 4 * (uint64_t)vector, (uint32_t)handler & 0xffff); /* segment 0 */
	} else if (v->mode == MODE_LONG) {
		uint64_t lo = (handler & 0xffff) | ((uint64_t)SEL_CODE64 << 16) |
			      (0x8e00ull << 32) | ((handler >> 16 & 0xffff) << 48);
		put64(vm, G_IDT + 16 * (uint64_t)vector, lo);
		put64(vm, G_IDT + 16 * (uint64_t)vector + 8, handler >> 32);
	} else {
		uint64_t g = (handler & 0xffff) | ((uint64_t)SEL_CODE32 << 16) |
			     (0x8e00ull << 32) | ((handler >> 16 & 0xffff) << 48);
		put64(vm, G_IDT + 8 * (uint64_t)vector, g);
	}
}

int vcpu_run(struct vcpu *v)
{
	return ioctl(v->fd, KVM_RUN, 0UL);
}

struct kvm_regs get_regs(struct vcpu *v)
{
	struct kvm_regs r;
	memset(&r, 0, sizeof(r));
	if (ioctl(v->fd, KVM_GET_REGS, &r) < 0)
		die("KVM_GET_REGS");
	return r;
}

void set_regs(struct vcpu *v, const struct kvm_regs *r)
{
	if (ioctl(v->fd, KVM_SET_REGS, r) < 0)
		die("KVM_SET_REGS");
}

struct kvm_sregs get_sregs(struct vcpu *v)
{
	struct kvm_sregs s;
	memset(&s, 0, sizeof(s));
	if (ioctl(v->fd, KVM_GET_SREGS, &s) < 0)
		die("KVM_GET_SREGS");
	return s;
}

struct kvm_vcpu_events get_events(struct vcpu *v)
{
	struct kvm_vcpu_events e;
	memset(&e, 0, sizeof(e));
	if (ioctl(v->fd, KVM_GET_VCPU_EVENTS, &e) < 0)
		die("KVM_GET_VCPU_EVENTS");
	return e;
}

void *io_data(struct vcpu *v)
{
	return (uint8_t *)v->run + v->run->io.data_offset;
}

const char *exit_name(uint32_t reason)
{
	static const char *const names[] = {
		[KVM_EXIT_UNKNOWN] = "KVM_EXIT_UNKNOWN", [KVM_EXIT_EXCEPTION] = "KVM_EXIT_EXCEPTION",
		[KVM_EXIT_IO] = "KVM_EXIT_IO", [KVM_EXIT_HYPERCALL] = "KVM_EXIT_HYPERCALL",
		[KVM_EXIT_DEBUG] = "KVM_EXIT_DEBUG", [KVM_EXIT_HLT] = "KVM_EXIT_HLT",
		[KVM_EXIT_MMIO] = "KVM_EXIT_MMIO", [KVM_EXIT_IRQ_WINDOW_OPEN] = "KVM_EXIT_IRQ_WINDOW_OPEN",
		[KVM_EXIT_SHUTDOWN] = "KVM_EXIT_SHUTDOWN", [KVM_EXIT_FAIL_ENTRY] = "KVM_EXIT_FAIL_ENTRY",
		[KVM_EXIT_INTR] = "KVM_EXIT_INTR", [KVM_EXIT_SET_TPR] = "KVM_EXIT_SET_TPR",
		[KVM_EXIT_INTERNAL_ERROR] = "KVM_EXIT_INTERNAL_ERROR",
		[KVM_EXIT_SYSTEM_EVENT] = "KVM_EXIT_SYSTEM_EVENT",
	};
	if (reason < sizeof(names) / sizeof(names[0]) && names[reason])
		return names[reason];
	return "KVM_EXIT_?";
}

const char *exit_str(struct vcpu *v)
{
	static _Thread_local char buf[256];
	struct kvm_run *run = v->run;
	struct kvm_regs r;
	int n = snprintf(buf, sizeof(buf), "%s (%u)", exit_name(run->exit_reason), run->exit_reason);
	switch (run->exit_reason) {
	case KVM_EXIT_IO: {
		uint32_t val = 0;
		memcpy(&val, io_data(v), run->io.size <= 4 ? run->io.size : 4);
		n += snprintf(buf + n, sizeof(buf) - (size_t)n, " %s port %#x size %u count %u data %#x",
			      run->io.direction == KVM_EXIT_IO_OUT ? "out" : "in",
			      run->io.port, run->io.size, run->io.count, val);
		break;
	}
	case KVM_EXIT_MMIO:
		n += snprintf(buf + n, sizeof(buf) - (size_t)n, " %s gpa %#llx len %u",
			      run->mmio.is_write ? "write" : "read",
			      (unsigned long long)run->mmio.phys_addr, run->mmio.len);
		break;
	case KVM_EXIT_INTERNAL_ERROR:
		n += snprintf(buf + n, sizeof(buf) - (size_t)n, " suberror %u", run->internal.suberror);
		break;
	case KVM_EXIT_FAIL_ENTRY:
		n += snprintf(buf + n, sizeof(buf) - (size_t)n, " reason %#llx",
			      (unsigned long long)run->fail_entry.hardware_entry_failure_reason);
		break;
	default:
		break;
	}
	memset(&r, 0, sizeof(r));
	if (ioctl(v->fd, KVM_GET_REGS, &r) == 0)
		snprintf(buf + n, sizeof(buf) - (size_t)n, ", rip %#llx rax %#llx",
			 (unsigned long long)r.rip, (unsigned long long)r.rax);
	return buf;
}

static bool run_ok(struct vcpu *v, const char *file, int line)
{
	t_checks++;
	if (vcpu_run(v) == 0)
		return true;
	t_failures++;
	fprintf(stderr, "FAIL %s:%d: KVM_RUN: expected 0, got -1/%s (%s)\n", file, line,
		strerrorname_np(errno) ? strerrorname_np(errno) : "?", strerror(errno));
	return false;
}

static bool expect_io(struct vcpu *v, uint16_t port, uint8_t dir, const char *file, int line)
{
	struct kvm_run *run = v->run;
	t_checks++;
	if (run->exit_reason == KVM_EXIT_IO && run->io.port == port && run->io.direction == dir)
		return true;
	t_failures++;
	fprintf(stderr, "FAIL %s:%d: expected KVM_EXIT_IO %s port %#x, got %s\n", file, line,
		dir == KVM_EXIT_IO_OUT ? "out" : "in", port, exit_str(v));
	return false;
}

uint32_t run_expect_out_at(struct vcpu *v, uint16_t port, const char *file, int line)
{
	uint32_t val = 0;
	if (!run_ok(v, file, line) || !expect_io(v, port, KVM_EXIT_IO_OUT, file, line))
		return ~0u;
	memcpy(&val, io_data(v), v->run->io.size <= 4 ? v->run->io.size : 4);
	return val;
}

bool run_expect_in_at(struct vcpu *v, uint16_t port, int size, uint32_t val,
		      const char *file, int line)
{
	if (!run_ok(v, file, line) || !expect_io(v, port, KVM_EXIT_IO_IN, file, line))
		return false;
	if (!t_check_eq((uint64_t)size, v->run->io.size, file, line, "size", "run->io.size"))
		return false;
	memcpy(io_data(v), &val, (size_t)size);
	return true;
}

bool run_expect_exit_at(struct vcpu *v, uint32_t reason, const char *file, int line)
{
	if (!run_ok(v, file, line))
		return false;
	t_checks++;
	if (v->run->exit_reason == reason)
		return true;
	t_failures++;
	fprintf(stderr, "FAIL %s:%d: expected exit %s, got %s\n", file, line,
		exit_name(reason), exit_str(v));
	return false;
}

int vcpu_set_sigmask(struct vcpu *v, const void *set, uint32_t len)
{
	_Alignas(8) uint8_t buf[sizeof(struct kvm_signal_mask) + 16];
	if (!set)
		return ioctl(v->fd, KVM_SET_SIGNAL_MASK, NULL);
	memset(buf, 0, sizeof(buf));
	memcpy(buf, &len, sizeof(len));
	memcpy(buf + sizeof(struct kvm_signal_mask), set, 8);
	return ioctl(v->fd, KVM_SET_SIGNAL_MASK, buf);
}

int check_ext(int fd, long cap)
{
	return ioctl(fd, KVM_CHECK_EXTENSION, cap);
}

GUEST_CODE(probe_guest, 32,
	"1: in $0x11, %eax\n"
	"mov %eax, %ebx\n"
	"in $0x12, %eax\n"
	"test %eax, %eax\n"
	"jnz 2f\n"
	"mov (%ebx), %eax\n"
	"out %eax, $0x10\n"
	"jmp 1b\n"
	"2: in $0x13, %eax\n"
	"mov %eax, (%ebx)\n"
	"out %eax, $0x14\n"
	"jmp 1b\n");

void probe_init(struct vm *vm, struct vcpu *v)
{
	vm_init(vm);
	vcpu_init(vm, v, 0);
	GUEST_LOAD(vm, probe_guest);
	vcpu_setup(v, MODE_PROT32, G_CODE);
}

bool probe_issue(struct vcpu *v, uint32_t gpa, int op, uint32_t val)
{
	if (!RUN_EXPECT_IN(v, 0x11, 4, gpa) || !RUN_EXPECT_IN(v, 0x12, 4, (uint32_t)op))
		return false;
	return op == 0 || RUN_EXPECT_IN(v, 0x13, 4, val);
}

static int probe_finish(struct vcpu *v, uint16_t port, uint32_t *val, uint64_t *mmio,
			const char *file, int line)
{
	struct kvm_run *run = v->run;
	int ram = 1;
	if (!run_ok(v, file, line))
		return -1;
	if (run->exit_reason == KVM_EXIT_MMIO) {
		*mmio = run->mmio.phys_addr;
		if (!run->mmio.is_write)
			memset(run->mmio.data, 0, sizeof(run->mmio.data));
		ram = 0;
		if (!run_ok(v, file, line))
			return -1;
	}
	if (!expect_io(v, port, KVM_EXIT_IO_OUT, file, line))
		return -1;
	memcpy(val, io_data(v), 4);
	return ram;
}

int probe_read_at(struct vcpu *v, uint32_t gpa, uint32_t *val, uint64_t *mmio,
		  const char *file, int line)
{
	if (!probe_issue(v, gpa, 0, 0))
		return -1;
	return probe_finish(v, 0x10, val, mmio, file, line);
}

int probe_write_at(struct vcpu *v, uint32_t gpa, uint32_t val, uint64_t *mmio,
		   const char *file, int line)
{
	uint32_t echo;
	if (!probe_issue(v, gpa, 1, val))
		return -1;
	return probe_finish(v, 0x14, &echo, mmio, file, line);
}

static bool msr_io(int fd, unsigned long req, uint32_t idx, uint64_t *val)
{
	struct kvm_msrs *m = calloc(1, sizeof(*m) + sizeof(struct kvm_msr_entry));
	if (!m)
		abort();
	m->nmsrs = 1;
	m->entries[0].index = idx;
	m->entries[0].data = *val;
	int r = ioctl(fd, req, m);
	*val = m->entries[0].data;
	free(m);
	return r == 1;
}

bool msr_get(int fd, uint32_t idx, uint64_t *val)
{
	*val = 0;
	return msr_io(fd, KVM_GET_MSRS, idx, val);
}

bool msr_set(int fd, uint32_t idx, uint64_t val)
{
	return msr_io(fd, KVM_SET_MSRS, idx, &val);
}

struct kvm_cpuid2 *cpuid_supported(int kvm)
{
	struct kvm_cpuid2 *c = calloc(1, sizeof(*c) + 64 * sizeof(struct kvm_cpuid_entry2));
	if (!c)
		abort();
	c->nent = 64;
	if (ioctl(kvm, KVM_GET_SUPPORTED_CPUID, c) < 0)
		die("KVM_GET_SUPPORTED_CPUID");
	return c;
}

struct kvm_cpuid_entry2 *cpuid_entry(struct kvm_cpuid2 *c, uint32_t fn, uint32_t idx)
{
	for (unsigned k = 0; k < c->nent; k++)
		if (c->entries[k].function == fn && c->entries[k].index == idx)
			return &c->entries[k];
	return NULL;
}

void vcpu_restart(struct vcpu *v, const void *code, const void *end, uint64_t rbx)
{
	guest_load(v->vm, G_CODE, code, end);
	struct kvm_regs r = get_regs(v);
	r.rip = G_CODE;
	r.rsp = G_STACK;
	r.rflags = 2;
	r.rbx = rbx;
	set_regs(v, &r);
}
