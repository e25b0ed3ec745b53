/* Small helpers for test programs: a VM with one low memory slot, vCPUs with
 * their mmap'd kvm_run, the four x86 modes set up through KVM_SET_SREGS, guest
 * code loading, and running until an exit. Everything goes through
 * open("/dev/kvm"), ioctl and mmap, exactly as a user's program does.
 *
 * Guest-physical layout of slot 0 (anonymous memory at gpa 0, G_MEM_SIZE):
 *   0x0000 real-mode IVT          0x0400 result word (hello world)
 *   0x0500 GDT                    0x0600 mailbox words for tests
 *   0x1000 guest code             0x8000 IDT (protected / long mode)
 *   0x9000 PML4 or 32-bit PD      0xa000 PDPT, 0xb000..0xefff four PDs
 *   0x10000..0x1ffff stack (top at G_STACK)   0x20000.. free for tests
 */
#ifndef VM_H
#define VM_H

#include <linux/kvm.h>
#include <stddef.h>
#include <stdint.h>
#include <unistd.h>

#include "t.h"

enum {
	G_MEM_SIZE = 2 << 20,
	G_RESULT = 0x400,
	G_GDT = 0x500,
	G_MAILBOX = 0x600,
	G_CODE = 0x1000,
	G_IDT = 0x8000,
	G_PT = 0x9000,
	G_STACK = 0x20000,
	G_FREE = 0x20000,
};

/* GDT selectors written by vcpu_setup. */
enum { SEL_CODE32 = 0x08, SEL_DATA = 0x10, SEL_CODE64 = 0x18 };

enum guest_mode { MODE_REAL, MODE_PROT32, MODE_PAGED32, MODE_LONG };

struct vm {
	int kvm;       /* the /dev/kvm fd */
	int fd;        /* the VM fd */
	uint8_t *mem;  /* slot 0 host memory, or NULL */
};

struct vcpu {
	struct vm *vm;
	int fd;
	struct kvm_run *run;
	size_t run_size;
	enum guest_mode mode;
};

/* Guest code: a stretch of machine code in .rodata between name and
 * name_end, assembled for the given mode (16, 32 or 64). Use numeric local
 * labels, or names unique in the file; the code is loaded at G_CODE, so an
 * absolute address of a label is G_CODE + (label - name). */
#define GUEST_CODE(name, bits, body)                                    \
	extern const unsigned char name[], name##_end[];                \
	__asm__(".pushsection .rodata." #name ",\"a\"\n" #name ":\n"   \
		".code" #bits "\n" body "\n.code64\n" #name "_end:\n"   \
		".popsection\n")
/* Declare a label defined inside a GUEST_CODE body. */
#define GUEST_LABEL(name) extern const unsigned char name[]
#define GUEST_LOAD(vm, name) guest_load((vm), G_CODE, name, name##_end)
#define GUEST_ADDR(name, label) ((uint64_t)G_CODE + (uint64_t)((label) - (name)))

/* open("/dev/kvm"); exits the program when that is impossible. */
int kvm_open(void);
/* A VM with slot 0 = G_MEM_SIZE of anonymous memory at gpa 0. */
void vm_init(struct vm *vm);
/* A VM without memory. */
void vm_init_bare(struct vm *vm);
void vm_fini(struct vm *vm);
/* Anonymous read/write memory, page aligned; exits on failure. */
void *map_anon(size_t size);
/* KVM_SET_USER_MEMORY_REGION; returns the ioctl's result (errno kept). */
int vm_set_slot(struct vm *vm, uint32_t slot, uint64_t gpa, uint64_t size,
		void *host, uint32_t flags);

/* KVM_CREATE_VCPU + mmap of kvm_run; exits on failure. */
void vcpu_init(struct vm *vm, struct vcpu *v, int id);
void vcpu_fini(struct vcpu *v);
/* Put the vCPU in mode with rip = entry and the stack at G_STACK, writing the
 * GDT and page tables (identity map of 4 GiB) into slot 0. */
void vcpu_setup(struct vcpu *v, enum guest_mode mode, uint64_t entry);
/* Point interrupt vector at handler (an IVT entry in real mode, an
 * interrupt gate otherwise). */
void idt_set(struct vcpu *v, int vector, uint64_t handler);
void guest_load(struct vm *vm, uint64_t gpa, const void *start, const void *end);

/* One KVM_RUN: its return value, errno kept. */
int vcpu_run(struct vcpu *v);
struct kvm_regs get_regs(struct vcpu *v);
void set_regs(struct vcpu *v, const struct kvm_regs *r);
struct kvm_sregs get_sregs(struct vcpu *v);
struct kvm_vcpu_events get_events(struct vcpu *v);
/* The data bytes of the current KVM_EXIT_IO. */
void *io_data(struct vcpu *v);
/* Describe the current exit for a failure message. */
const char *exit_str(struct vcpu *v);
const char *exit_name(uint32_t reason);

/* Run; the exit must be an OUT of any size to port. Returns the value
 * written (first element), or ~0u after reporting a failure. */
uint32_t run_expect_out_at(struct vcpu *v, uint16_t port, const char *file, int line);
/* Run; the exit must be an IN from port with the given size; then the data
 * for it is val (written into kvm_run for the next KVM_RUN). */
bool run_expect_in_at(struct vcpu *v, uint16_t port, int size, uint32_t val,
		      const char *file, int line);
/* Run; the exit reason must be reason. */
bool run_expect_exit_at(struct vcpu *v, uint32_t reason, const char *file, int line);
#define RUN_EXPECT_OUT(v, port) run_expect_out_at((v), (port), __FILE__, __LINE__)
#define RUN_EXPECT_IN(v, port, size, val) \
	run_expect_in_at((v), (port), (size), (val), __FILE__, __LINE__)
#define RUN_EXPECT_EXIT(v, reason) run_expect_exit_at((v), (reason), __FILE__, __LINE__)

/* The probe guest: 32-bit protected mode without paging, in a loop that
 * reads or writes one 32-bit word at a guest-physical address the VMM gives
 * it through IN instructions. probe_init = vm_init + vCPU 0 + the guest. */
void probe_init(struct vm *vm, struct vcpu *v);
/* Feed the guest one request (op 0 = read, 1 = write val); the next KVM_RUN
 * performs the access. */
bool probe_issue(struct vcpu *v, uint32_t gpa, int op, uint32_t val);
/* Read / write gpa through the guest. Return 1 when memory answered (*val
 * is what the guest read), 0 when the access left as KVM_EXIT_MMIO (*mmio is
 * its address; a read is completed with 0), -1 after a reported failure. */
int probe_read_at(struct vcpu *v, uint32_t gpa, uint32_t *val, uint64_t *mmio,
		  const char *file, int line);
int probe_write_at(struct vcpu *v, uint32_t gpa, uint32_t val, uint64_t *mmio,
		   const char *file, int line);
#define probe_read(v, gpa, val, mmio) probe_read_at((v), (gpa), (val), (mmio), __FILE__, __LINE__)
#define probe_write(v, gpa, val, mmio) probe_write_at((v), (gpa), (val), (mmio), __FILE__, __LINE__)
/* The guest reads gpa and must get exp from memory (not MMIO). */
#define CHECK_GUEST_READS(v, gpa, exp) \
	({ uint32_t v_ = 0; uint64_t m_ = 0; \
	   int k_ = probe_read((v), (gpa), &v_, &m_); \
	   if (k_ == 0) t_check(false, __FILE__, __LINE__, "guest read of " #gpa " answered by memory, not KVM_EXIT_MMIO"); \
	   else if (k_ > 0) CHECK_EQ((exp), v_); })
/* The guest reads gpa and it must leave as KVM_EXIT_MMIO at that address. */
#define CHECK_GUEST_READ_IS_MMIO(v, gpa) \
	({ uint32_t v_ = 0; uint64_t m_ = 0; \
	   int k_ = probe_read((v), (gpa), &v_, &m_); \
	   if (k_ > 0) t_check(false, __FILE__, __LINE__, "guest read of " #gpa " exits with KVM_EXIT_MMIO (it read memory)"); \
	   else if (k_ == 0) CHECK_EQ((uint64_t)(gpa), m_); })

/* KVM_SET_SIGNAL_MASK with the first 8 bytes of *set (the kernel's sigset
 * on x86-64) and the given len; set NULL passes a NULL argument. */
int vcpu_set_sigmask(struct vcpu *v, const void *set, uint32_t len);

/* KVM_CHECK_EXTENSION on fd (system or VM). */
int check_ext(int fd, long cap);
/* One MSR through KVM_GET_MSRS / KVM_SET_MSRS on a vCPU or the system fd;
 * true when the ioctl handled it (returned 1). */
bool msr_get(int fd, uint32_t idx, uint64_t *val);
bool msr_set(int fd, uint32_t idx, uint64_t val);
/* KVM_GET_SUPPORTED_CPUID on the /dev/kvm fd (64 entries at most; free()
 * it), and the entry of leaf fn / subleaf idx in c, or NULL. */
struct kvm_cpuid2 *cpuid_supported(int kvm);
struct kvm_cpuid_entry2 *cpuid_entry(struct kvm_cpuid2 *c, uint32_t fn, uint32_t idx);
/* Load code at G_CODE and point the vCPU at it: RIP = G_CODE, RSP =
 * G_STACK, RFLAGS = 2, RBX = rbx (other registers as they are). */
void vcpu_restart(struct vcpu *v, const void *code, const void *end, uint64_t rbx);

#endif
