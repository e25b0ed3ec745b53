/* The x86 vCPU model: its state and the interfaces between its parts.
 *
 *   interp  (decode.c, exec*.c): decode once into blocks cached by guest
 *           physical page, execute them; the ISA semantics.
 *   system  (mmu.c, seg.c, except.c, msr.c, cpuid.c, io.c): address
 *           translation and the software TLB, segment loads, exception and
 *           interrupt delivery, MSRs, CPUID, port/MMIO exits.
 *   uapi    (state.c): conversion between this state and the kvm_* structs.
 *   x86.c   the sk_arch_ops of x86: vCPU lifecycle, the run loop, events.
 *
 * A fault inside an instruction never returns: x86_raise() restores RIP to
 * the instruction's start and longjmps to the run loop, which delivers it.
 * An exit to userspace in the middle of an instruction (MMIO, port IO)
 * unwinds the same way and the instruction is executed again on re-entry,
 * replaying the IO results recorded in cpu->io_log (see io.c). As in KVM,
 * an MMIO write or OUTS element is reported after its instruction retires
 * (cpu->io_exit_retire) when nothing else in the instruction needs IO.
 */
#ifndef SK_X86_H
#define SK_X86_H

#include <linux/kvm.h>
#include <setjmp.h>
#include <stdbool.h>
#include <stdint.h>

#include "mem/guest_access.h"
#include "mem/memslot.h"

struct sk_vm;
struct sk_vcpu;
struct x86_block_cache;

enum x86_sreg { X86_ES, X86_CS, X86_SS, X86_DS, X86_FS, X86_GS, X86_NR_SREGS };
enum x86_gpr {
	X86_RAX, X86_RCX, X86_RDX, X86_RBX, X86_RSP, X86_RBP, X86_RSI, X86_RDI,
	X86_R8, X86_R9, X86_R10, X86_R11, X86_R12, X86_R13, X86_R14, X86_R15,
};

/* Exception vectors. */
enum {
	X86_DE = 0, X86_DB = 1, X86_NMI = 2, X86_BP = 3, X86_OF = 4, X86_BR = 5,
	X86_UD = 6, X86_NM = 7, X86_DF = 8, X86_TS = 10, X86_NP = 11, X86_SS_EXC = 12,
	X86_GP = 13, X86_PF = 14, X86_MF = 16, X86_AC = 17, X86_MC = 18, X86_XM = 19,
};

/* RFLAGS bits. */
#define X86_CF (1u << 0)
#define X86_PF_FLAG (1u << 2)
#define X86_AF (1u << 4)
#define X86_ZF (1u << 6)
#define X86_SF (1u << 7)
#define X86_TF (1u << 8)
#define X86_IF (1u << 9)
#define X86_DF_FLAG (1u << 10)
#define X86_OF (1u << 11)
#define X86_IOPL (3u << 12)
#define X86_NT (1u << 14)
#define X86_RF (1u << 16)
#define X86_VM (1u << 17)
#define X86_AC_FLAG (1u << 18)
#define X86_ID (1u << 21)

/* CR0 / CR4 / EFER bits used across parts. */
#define X86_CR0_PE (1ull << 0)
#define X86_CR0_MP (1ull << 1)
#define X86_CR0_EM (1ull << 2)
#define X86_CR0_TS (1ull << 3)
#define X86_CR0_ET (1ull << 4)
#define X86_CR0_NE (1ull << 5)
#define X86_CR0_WP (1ull << 16)
#define X86_CR0_AM (1ull << 18)
#define X86_CR0_NW (1ull << 29)
#define X86_CR0_CD (1ull << 30)
#define X86_CR0_PG (1ull << 31)
#define X86_CR4_VME (1ull << 0)
#define X86_CR4_PVI (1ull << 1)
#define X86_CR4_TSD (1ull << 2)
#define X86_CR4_DE (1ull << 3)
#define X86_CR4_PSE (1ull << 4)
#define X86_CR4_PAE (1ull << 5)
#define X86_CR4_MCE (1ull << 6)
#define X86_CR4_PGE (1ull << 7)
#define X86_CR4_PCE (1ull << 8)
#define X86_CR4_OSFXSR (1ull << 9)
#define X86_CR4_OSXMMEXCPT (1ull << 10)
#define X86_CR4_UMIP (1ull << 11)
#define X86_CR4_LA57 (1ull << 12)
#define X86_CR4_FSGSBASE (1ull << 16)
#define X86_CR4_PCIDE (1ull << 17)
#define X86_CR4_OSXSAVE (1ull << 18)
#define X86_CR4_SMEP (1ull << 20)
#define X86_CR4_SMAP (1ull << 21)
#define X86_EFER_SCE (1ull << 0)
#define X86_EFER_LME (1ull << 8)
#define X86_EFER_LMA (1ull << 10)
#define X86_EFER_NXE (1ull << 11)

/* A segment register, cached part included; fields as struct kvm_segment. */
struct x86_seg {
	uint64_t base;
	uint32_t limit;          /* byte granular (already scaled by G) */
	uint16_t sel;
	uint8_t type, s, dpl, present, avl, l, db, g, unusable;
};

struct x86_dtable {
	uint64_t base;
	uint16_t limit;
};

/* One IO access of the current instruction, kept so that the instruction
 * can be executed again after an exit and find its earlier results. */
struct x86_io_rec {
	uint64_t addr;           /* port or gpa */
	uint64_t data;           /* value read (reads) */
	uint8_t size, is_write, is_pio;
	uint16_t count;          /* elements of a batched INS (x86_pio_in_batch) */
};
#define X86_IO_LOG_MAX 8

/* Software TLB: guest linear page -> host page, per access kind. */
#define X86_TLB_SIZE 256
struct x86_tlb_entry {
	uint64_t tag;            /* linear page | 1 (valid); ~0 = invalid */
	uint8_t *host;           /* host address of the page; NULL: slow path */
	uint64_t gpa;            /* guest-physical page */
};
struct x86_tlb {
	struct x86_tlb_entry read[X86_TLB_SIZE];
	struct x86_tlb_entry write[X86_TLB_SIZE]; /* never for dirty-logged or code pages */
	struct x86_tlb_entry exec[X86_TLB_SIZE];
};

enum x86_access { X86_ACC_READ = 0, X86_ACC_WRITE = 1, X86_ACC_EXEC = 2 };

struct x86_cpu {
	/* Architectural state. */
	uint64_t gpr[16];
	uint64_t rip;
	uint64_t rflags;
	struct x86_seg seg[X86_NR_SREGS];
	struct x86_seg tr, ldt;
	struct x86_dtable gdt, idt;
	uint64_t cr0, cr2, cr3, cr4, cr8, xcr0;
	uint64_t efer, apic_base;
	uint64_t dr[4], dr6, dr7;

	/* x87/SSE, kept in FXSAVE layout (struct kvm_fpu converts from it). */
	_Alignas(64) uint8_t fxsave[512];
	/* AVX: YMM0-15 bits 255:128 (XSAVE component 2, its standard
	 * layout); ymm_inuse is XINUSE[2] (the upper halves may be non-zero).
	 * xss: IA32_XSS (KVM 6.1 accepts only 0). */
	_Alignas(16) uint8_t ymmh[256];
	bool ymm_inuse;
	uint64_t xss;

	/* MSRs without a home above. */
	uint64_t star, lstar, cstar, sfmask, kernel_gs_base, tsc_aux;
	uint64_t sysenter_cs, sysenter_esp, sysenter_eip;
	uint64_t pat, misc_enable, tsc_offset, spec_ctrl;
	uint64_t mtrr_def_type, mtrr_fixed[11], mtrr_var[16];

	/* Events (struct kvm_vcpu_events). */
	uint8_t shadow;          /* KVM_X86_SHADOW_INT_MOV_SS / _STI */
	uint64_t shadow_rip;     /* the shadow covers only the instruction here */
	bool nmi_pending, nmi_injected, nmi_masked;
	bool irq_injected;       /* KVM_INTERRUPT queued an external interrupt */
	uint8_t irq_nr;
	bool exc_pending;        /* an exception waiting for delivery */
	uint8_t exc_nr;
	bool exc_has_error;
	uint32_t exc_error;
	uint32_t sipi_vector;
	uint32_t mp_state;       /* KVM_MP_STATE_* */
	bool halted;

	/* KVM_SET_GUEST_DEBUG. */
	uint32_t guest_debug;    /* KVM_GUESTDBG_* */
	uint64_t guest_dbg_dr[4], guest_dbg_dr7;

	/* CPUID as KVM_SET_CPUID2 set it. */
	struct kvm_cpuid_entry2 *cpuid;
	int ncpuid;
	/* The guest's MAXPHYADDR: CPUID 0x80000008 EAX[7:0], or 36 without
	 * that leaf (KVM's cpuid_query_maxphyaddr). Physical-address bits at
	 * and above it are reserved (x86_rsvd_gpa). */
	uint8_t maxphyaddr;

	/* Derived mode, refreshed by x86_mode_changed() after any write to
	 * CR0/CR4/EFER/CS or a segment load that matters. */
	uint8_t mode;            /* X86_MODE_* */
	uint8_t cpl;

	/* Execution machinery. */
	struct sk_vcpu *vcpu;
	struct sk_vm *vm;
	const struct sk_slotset *slots; /* the set this vCPU runs with */
	struct x86_tlb tlb;
	struct x86_block_cache *blocks;
	uint64_t insn_rip;       /* start of the executing instruction */
	jmp_buf unwind;          /* x86_raise / x86_exit_to_user land here */
	struct x86_io_rec io_log[X86_IO_LOG_MAX];
	int io_log_len;          /* records carried over from an exit */
	int io_log_pos;          /* next record the current attempt replays */
	bool io_exit_retire;     /* an MMIO write / OUTS exit waits for the end of
				  * its instruction (KVM retires it first) */
	/* The data of a batched INS read (KVM's read-ahead of REP INS). */
	uint8_t pio_batch[1024];
	bool single_step_pending;
	/* Set by the run loop while an interrupt/NMI waits for a window (or
	 * userspace asked for one): x86_execute then returns
	 * X86_STOP_EVENT_WINDOW at the first instruction boundary where
	 * RFLAGS.IF = 1 and no interrupt shadow is active. */
	bool event_waiting;
};

enum { X86_MODE_REAL, X86_MODE_VM86, X86_MODE_PROT16, X86_MODE_PROT32, X86_MODE_COMPAT16,
       X86_MODE_COMPAT32, X86_MODE_LONG64 };

/* Unwinding reasons returned by setjmp in the run loop. */
enum { X86_UNWIND_NONE = 0, X86_UNWIND_FAULT = 1, X86_UNWIND_EXIT = 2 };

/* ---- system part: faults and events (except.c) ---- */

/* Raise exception vec (error code err if has_err) for the current
 * instruction: RIP := insn_rip, record it, unwind. Never returns. */
_Noreturn void x86_raise(struct x86_cpu *cpu, int vec, bool has_err, uint32_t err);
/* #PF with CR2 = lin and the given error code. */
_Noreturn void x86_raise_pf(struct x86_cpu *cpu, uint64_t lin, uint32_t err);
/* Deliver the recorded pending exception/NMI/interrupt through the IDT
 * (real-mode IVT or protected/long-mode gates), with double and triple
 * fault escalation. Returns false after a triple fault (exit SHUTDOWN set).
 * `soft` is true for INT n / INT3 / INTO (uses their DPL check and the
 * next instruction's RIP). */
bool x86_deliver(struct x86_cpu *cpu, int vec, bool has_err, uint32_t err, bool soft,
		 uint64_t return_rip);

/* ---- system part: memory (mmu.c) ---- */

/* Translate a linear address for the access kind at privilege cpl; raises
 * #PF on failure. Sets A/D bits. Returns the guest-physical address. */
uint64_t x86_translate(struct x86_cpu *cpu, uint64_t lin, enum x86_access acc, int cpl);
/* Guest-virtual to guest-physical without faulting (KVM_TRANSLATE);
 * returns false when not mapped. */
bool x86_translate_nofault(struct x86_cpu *cpu, uint64_t lin, uint64_t *gpa, bool *writable,
			   bool *user);
/* Linear address of seg:off for an access of size bytes with limit and
 * type checks (#GP/#SS on failure; canonical check in 64-bit mode). */
uint64_t x86_linear(struct x86_cpu *cpu, int sreg, uint64_t off, unsigned size,
		    enum x86_access acc);
/* Read/write size (1,2,4,8,16) bytes at a linear address. Accesses that
 * cross a page are split; guest-physical addresses outside every memslot
 * become MMIO exits (through io.c). */
uint64_t x86_read_lin(struct x86_cpu *cpu, uint64_t lin, unsigned size);
void x86_write_lin(struct x86_cpu *cpu, uint64_t lin, unsigned size, uint64_t val);
void x86_read_lin_buf(struct x86_cpu *cpu, uint64_t lin, void *buf, unsigned size);
void x86_write_lin_buf(struct x86_cpu *cpu, uint64_t lin, const void *buf, unsigned size);
/* seg:off forms: x86_linear + x86_read_lin/x86_write_lin. */
uint64_t x86_read(struct x86_cpu *cpu, int sreg, uint64_t off, unsigned size);
void x86_write(struct x86_cpu *cpu, int sreg, uint64_t off, unsigned size, uint64_t val);

/* Inline TLB-hit paths for x86_read/x86_write in 64-bit mode, where the
 * only segment work is the FS/GS base: a hit needs no canonical check, as
 * the entry's page passed it when it was filled and the access stays in
 * that page. Everything else takes the out-of-line path. */
static inline uint8_t *x86_tlb_hit(const struct x86_tlb_entry *set, const struct x86_cpu *cpu,
				   uint64_t lin, unsigned size)
{
	const struct x86_tlb_entry *e = &set[(lin >> 12) & (X86_TLB_SIZE - 1)];
	uint64_t tag = (lin & ~0xfffull) | 1 | ((uint64_t)(cpu->cpl == 3) << 1);
	if (__builtin_expect(e->tag == tag && (lin & 0xfff) + size <= 4096, 1))
		return e->host + (lin & 0xfff);
	return 0;
}

/* Reads and writes through that path; the _fs forms also report in *slow
 * that the access left it (the interpreter's threaded handlers use it). */
__attribute__((always_inline))
static inline uint64_t x86_read_fs(struct x86_cpu *cpu, int sreg, uint64_t off, unsigned size,
				   bool *slow)
{
	if (__builtin_expect(cpu->mode == X86_MODE_LONG64, 1)) {
		uint64_t lin = off + (sreg >= X86_FS ? cpu->seg[sreg].base : 0);
		const uint8_t *h = x86_tlb_hit(cpu->tlb.read, cpu, lin, size);
		if (__builtin_expect(h != NULL, 1)) {
			switch (size) {
			case 1: return sk_guest_load(h, 1);
			case 2: return sk_guest_load(h, 2);
			case 4: return sk_guest_load(h, 4);
			case 8: return sk_guest_load(h, 8);
			default: break;
			}
		}
	}
	*slow = true;
	return x86_read(cpu, sreg, off, size);
}

__attribute__((always_inline))
static inline void x86_write_fs(struct x86_cpu *cpu, int sreg, uint64_t off, unsigned size,
				uint64_t val, bool *slow)
{
	if (__builtin_expect(cpu->mode == X86_MODE_LONG64, 1)) {
		uint64_t lin = off + (sreg >= X86_FS ? cpu->seg[sreg].base : 0);
		uint8_t *h = x86_tlb_hit(cpu->tlb.write, cpu, lin, size);
		if (__builtin_expect(h != NULL, 1)) {
			switch (size) {
			case 1: sk_guest_store(h, 1, val); return;
			case 2: sk_guest_store(h, 2, val); return;
			case 4: sk_guest_store(h, 4, val); return;
			case 8: sk_guest_store(h, 8, val); return;
			default: break;
			}
		}
	}
	*slow = true;
	x86_write(cpu, sreg, off, size, val);
}

static inline uint64_t x86_read_fast(struct x86_cpu *cpu, int sreg, uint64_t off, unsigned size)
{
	bool slow;
	return x86_read_fs(cpu, sreg, off, size, &slow);
}

static inline void x86_write_fast(struct x86_cpu *cpu, int sreg, uint64_t off, unsigned size,
				  uint64_t val)
{
	bool slow;
	x86_write_fs(cpu, sreg, off, size, val, &slow);
}
/* Host pointer for reading size bytes of guest code at a linear address
 * (instruction fetch); NULL when not RAM (fetching from MMIO gives an
 * emulation failure). May raise #PF. *gpa receives the guest-physical addr. */
const uint8_t *x86_fetch_ptr(struct x86_cpu *cpu, uint64_t lin, uint64_t *gpa);
/* Guest-physical access (page walks, descriptor tables in real memory). */
bool x86_read_phys(struct x86_cpu *cpu, uint64_t gpa, void *buf, unsigned size);
bool x86_write_phys(struct x86_cpu *cpu, uint64_t gpa, const void *buf, unsigned size);
/* Invalidate translations: everything, or one linear page. */
void x86_tlb_flush(struct x86_cpu *cpu);
void x86_tlb_flush_page(struct x86_cpu *cpu, uint64_t lin);
/* A guest write hit a page holding decoded code: drop its blocks. */
void x86_code_written(struct x86_cpu *cpu, uint64_t gpa);

/* ---- system part: IO exits (io.c) ---- */

/* Port IO from the guest: returns the value read, or records the write;
 * exits to userspace (KVM_EXIT_IO) and unwinds when the data is not in the
 * replay log yet. */
uint32_t x86_pio_in(struct x86_cpu *cpu, uint16_t port, unsigned size);
void x86_pio_out(struct x86_cpu *cpu, uint16_t port, unsigned size, uint32_t val);
/* INS: n elements of size bytes at once (one exit, io.count = n, as KVM's
 * REP INS read-ahead); returns the elements' bytes in cpu->pio_batch. */
void x86_pio_in_batch(struct x86_cpu *cpu, uint16_t port, unsigned size, unsigned n);
/* OUTS: as x86_pio_out, but the exit is taken after the instruction
 * retires (or, for REP with elements left, with RCX/RSI counted). */
void x86_pio_outs(struct x86_cpu *cpu, uint16_t port, unsigned size, uint32_t val);
/* Take the exit x86_mmio_write / x86_pio_outs described, RIP where the
 * instruction left it (x86_execute calls this when io_exit_retire). */
_Noreturn void x86_io_exit_retired(struct x86_cpu *cpu);
/* MMIO read/write at a guest-physical address outside the memslots
 * (KVM_EXIT_MMIO), same replay rule; except that the first new write of
 * an instruction exits after the instruction retires, as in KVM, unless
 * another access or a fault follows within it. */
uint64_t x86_mmio_read(struct x86_cpu *cpu, uint64_t gpa, unsigned size);
void x86_mmio_write(struct x86_cpu *cpu, uint64_t gpa, unsigned size, uint64_t val);
/* The replay log belongs to one instruction: after an exit the run loop
 * executes that instruction again with x86_execute(cpu, true) (which must
 * run exactly one instruction) and then clears the log. A REP string
 * instruction that does IO in several iterations must call this after each
 * iteration that completes (RCX/RSI/RDI updated), so that the next
 * iteration's accesses are not mistaken for the replayed ones. */
static inline void x86_io_retire(struct x86_cpu *cpu)
{
	cpu->io_log_len = 0;
	cpu->io_log_pos = 0;
}
/* Fill run->internal for KVM_INTERNAL_ERROR_EMULATION with the bytes at
 * the instruction, then unwind. */
_Noreturn void x86_emulation_failure(struct x86_cpu *cpu);
/* Leave the run loop with run->exit_reason already filled. */
_Noreturn void x86_exit_to_user(struct x86_cpu *cpu);

/* ---- system part: segments and control registers (seg.c) ---- */

/* Load a segment register from a selector with the checks of MOV/POP
 * (protected mode) or the real-mode rule; raises #GP/#SS/#NP. */
void x86_load_seg(struct x86_cpu *cpu, int sreg, uint16_t sel);
/* The cached part of a segment from a descriptor read for selector sel. */
void x86_seg_from_desc(struct x86_seg *s, uint16_t sel, const uint64_t desc[2]);
/* Read a descriptor (8 bytes; 16 for system descriptors in long mode). */
bool x86_read_descriptor(struct x86_cpu *cpu, uint16_t sel, uint64_t desc[2]);
/* MOV to CRn with its #GP checks and side effects (TLB flush, mode). */
void x86_write_cr(struct x86_cpu *cpu, int cr, uint64_t val);
uint64_t x86_read_cr(struct x86_cpu *cpu, int cr);
/* Recompute cpu->mode and cpu->cpl from CR0/EFER/CS/RFLAGS. */
void x86_mode_changed(struct x86_cpu *cpu);

/* ---- system part: hardware task switches (task.c) ---- */

/* JMP/CALL far (protected mode) to the system descriptor sel: a TSS or a
 * task gate switches tasks; faults as the SDM's checks say. cpu->rip is
 * the outgoing task's resume point. */
void x86_task_far(struct x86_cpu *cpu, uint16_t sel, bool call);
/* JMP/CALL far through the call gate sel (descriptor d, 8 bytes, or 16
 * in long mode), except.c: the interrupt gates' stack-switch machinery. */
void x86_call_gate(struct x86_cpu *cpu, uint16_t sel, const uint64_t d[2], bool call);
/* IRET with EFLAGS.NT outside long mode: back to the linked task. */
int x86_task_iret(struct x86_cpu *cpu);
/* Delivery of vector vec through the IDT task gate `gate`. */
void x86_task_gate_deliver(struct x86_cpu *cpu, int vec, uint64_t gate, bool has_err,
			   uint32_t err, bool soft, uint64_t return_rip);

/* ---- system part: MSRs and CPUID (msr.c, cpuid.c) ---- */

/* RDMSR/WRMSR semantics: false means #GP. */
bool x86_msr_read(struct x86_cpu *cpu, uint32_t idx, uint64_t *val);
bool x86_msr_write(struct x86_cpu *cpu, uint32_t idx, uint64_t val);
/* CPUID leaf/subleaf as KVM_SET_CPUID2 set it (KVM's out-of-range rule). */
void x86_cpuid(struct x86_cpu *cpu, uint32_t leaf, uint32_t subleaf, uint32_t out[4]);
/* XCR0 bits softkvm can save (x87, SSE); those the guest's CPUID leaf 0xD
 * allows (KVM's guest_supported_xcr0). */
#define X86_SUPPORTED_XCR0 3ull
uint64_t x86_guest_supported_xcr0(const struct x86_cpu *cpu);
/* The guest's CPUID (exact leaf 0xD subleaf 1, as KVM's guest_cpuid_has)
 * has XSAVES: guest IA32_XSS accesses and XSAVES/XRSTORS need it. */
bool x86_guest_has_xsaves(const struct x86_cpu *cpu);
/* ... XGETBV with ECX = 1 (CPUID.(0xD,1):EAX[2]). */
bool x86_guest_has_xgetbv1(const struct x86_cpu *cpu);
/* XINUSE, the state components not in their initial state (exec_fpstate.c). */
uint64_t x86_xinuse(const struct x86_cpu *cpu);
/* XCR0 bits softkvm can save on this host: x87, SSE, and AVX when the
 * host has it (cpuid.c). */
uint64_t x86_supported_xcr0(void);
/* Bytes of an XSAVE area holding the components in bv (CPUID leaf 0xD's
 * sizes), standard or compacted format. */
uint32_t x86_xstate_size(uint64_t bv, bool compacted);
/* KVM's runtime CPUID updates (leaf 0xD's sizes from XCR0) applied to the
 * table t of n entries (cpuid.c). */
void x86_cpuid_runtime(const struct x86_cpu *cpu, struct kvm_cpuid_entry2 *t, int n);
/* XSETBV / KVM_SET_XCRS with KVM's checks (__kvm_set_xcr); false: refused. */
bool x86_set_xcr(struct x86_cpu *cpu, uint32_t index, uint64_t val);
/* KVM_GET_XSAVE(2) / KVM_SET_XSAVE's standard-format image (exec_fpstate.c);
 * set returns 0 or -EINVAL. */
void x86_xsave_uabi_get(const struct x86_cpu *cpu, uint8_t *region);
int x86_xsave_uabi_set(struct x86_cpu *cpu, const uint8_t *region);
/* A canonical linear address: 48 bits, or 57 with 5-level paging. */
static inline bool x86_canonical(const struct x86_cpu *cpu, uint64_t v)
{
	unsigned s = (cpu->cr4 & X86_CR4_LA57) ? 7 : 16;
	return (uint64_t)((int64_t)(v << s) >> s) == v;
}
/* The physical-address bits the guest's MAXPHYADDR reserves. */
static inline uint64_t x86_rsvd_gpa(const struct x86_cpu *cpu)
{
	return ~0ull << cpu->maxphyaddr;
}
/* TSC as the guest reads it. */
uint64_t x86_rdtsc(struct x86_cpu *cpu);
/* VMCALL/VMMCALL (hypercall.c): KVM's answer in RAX (-KVM_ENOSYS for an
 * unknown number, -KVM_EPERM at CPL > 0); the instruction then retires. */
void x86_hypercall(struct x86_cpu *cpu);

/* ---- interp part (exec.c) ---- */

/* Execute guest instructions from cpu->rip until a block boundary where
 * the vCPU has requests pending, an interrupt window opens that the run
 * loop must look at, HLT, or an unwind. Returns the reason. */
enum x86_stop { X86_STOP_REQUEST, X86_STOP_HLT, X86_STOP_EVENT_WINDOW, X86_STOP_STEP };
enum x86_stop x86_execute(struct x86_cpu *cpu, bool single_step);
struct x86_block_cache *x86_blocks_new(void);
void x86_blocks_free(struct x86_block_cache *bc);
void x86_blocks_flush(struct x86_block_cache *bc);
/* Drop the decoded blocks that start on (or span) guest-physical page gpa. */
void x86_blocks_invalidate_page(struct x86_block_cache *bc, uint64_t gpa);
/* Does page gpa hold decoded code? (Writes to it must go through the slow
 * path, which calls x86_code_written; never cache a write TLB entry for it.)
 * When a page first becomes a code page, the interpreter flushes the TLB. */
bool x86_blocks_is_code_page(struct x86_block_cache *bc, uint64_t gpa);
/* Called on every KVM_RUN entry: userspace may have written guest memory
 * directly, so each block is checked against the guest bytes once before
 * it runs again. */
void x86_blocks_new_epoch(struct x86_block_cache *bc);
/* End the executing block after the current instruction. */
void x86_blocks_stop(struct x86_block_cache *bc);

#endif
