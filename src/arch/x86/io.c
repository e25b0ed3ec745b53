/* Port IO and MMIO exits, with the replay log that lets an instruction
 * interrupted by an exit run again on re-entry.
 *
 * Protocol: every IO access of an instruction is looked up in cpu->io_log
 * in order (io_log_pos). A record found there is the earlier attempt's:
 * a write is not repeated, a read returns the data userspace supplied. An
 * access past the log's end is new: it is recorded, described in kvm_run,
 * and the vCPU leaves for userspace with RIP at the instruction. The run
 * loop executes the instruction once more on re-entry and clears the log
 * after it retires (x86_io_retire in x86.h for each REP iteration).
 */
#include <string.h>

#include "arch/x86/irq.h"
#include "arch/x86/pit.h"
#include "arch/x86/sys.h"

void x86_io_log_clear(struct x86_cpu *cpu)
{
	cpu->io_log_len = 0;
	cpu->io_log_pos = 0;
}

static struct x86_io_rec *replay(struct x86_cpu *cpu, uint64_t addr, unsigned size,
				 bool is_write, bool is_pio)
{
	if (cpu->io_log_pos < cpu->io_log_len) {
		struct x86_io_rec *r = &cpu->io_log[cpu->io_log_pos];
		if (r->addr == addr && r->size == size && r->is_write == is_write &&
		    r->is_pio == is_pio) {
			cpu->io_log_pos++;
			return r;
		}
		/* The instruction took another path this time (memory it read
		 * changed): what follows in the log is stale. */
		cpu->io_log_len = cpu->io_log_pos;
	}
	return NULL;
}

static struct x86_io_rec *record(struct x86_cpu *cpu, uint64_t addr, unsigned size, bool is_write,
				 bool is_pio)
{
	if (cpu->io_log_len >= X86_IO_LOG_MAX)
		x86_emulation_failure(cpu);
	struct x86_io_rec *r = &cpu->io_log[cpu->io_log_len++];
	cpu->io_log_pos = cpu->io_log_len;
	r->addr = addr;
	r->size = size;
	r->is_write = is_write;
	r->is_pio = is_pio;
	r->count = 1;
	r->data = 0;
	return r;
}

/* A write of this instruction waits to be reported after it retires, and
 * the instruction makes another access: report the write now with RIP on
 * the instruction, which runs again (replaying the write) on re-entry. */
static void flush_retire(struct x86_cpu *cpu)
{
	if (cpu->io_exit_retire)
		x86_exit_to_user(cpu);
}

_Noreturn void x86_io_exit_retired(struct x86_cpu *cpu)
{
	cpu->io_exit_retire = false;
	x86_io_log_clear(cpu);
	longjmp(cpu->unwind, X86_UNWIND_EXIT);
}

/* KVM has retired an instruction when userspace sees its MMIO write (or
 * an OUTS element): the exit is described now and taken once the
 * instruction ends (x86_execute calls x86_io_exit_retired). */
static void defer_exit(struct x86_cpu *cpu)
{
	cpu->vcpu->io_pending = true;
	cpu->io_exit_retire = true;
	x86_blocks_stop(cpu->blocks);
}

_Noreturn void x86_exit_to_user(struct x86_cpu *cpu)
{
	cpu->io_exit_retire = false;
	cpu->rip = cpu->insn_rip;
	longjmp(cpu->unwind, X86_UNWIND_EXIT);
}

static uint8_t *pio_data(struct x86_cpu *cpu)
{
	return (uint8_t *)x86_run(cpu) + sk_arch_x86.pio_page * 4096;
}

static void pio_fill(struct x86_cpu *cpu, uint16_t port, unsigned size, bool out, uint32_t val)
{
	struct kvm_run *run = x86_run(cpu);
	run->exit_reason = KVM_EXIT_IO;
	run->io.direction = out ? KVM_EXIT_IO_OUT : KVM_EXIT_IO_IN;
	run->io.size = size;
	run->io.port = port;
	run->io.count = 1;
	run->io.data_offset = sk_arch_x86.pio_page * 4096;
	if (out)
		memcpy(pio_data(cpu), &val, size);
}

_Noreturn static void pio_exit(struct x86_cpu *cpu, uint16_t port, unsigned size, bool out,
			       uint32_t val)
{
	pio_fill(cpu, port, size, out, val);
	cpu->vcpu->io_pending = true;
	x86_exit_to_user(cpu);
}

/* IN/OUT are allowed at CPL <= IOPL; otherwise (and in VM86 mode) each
 * byte's bit in the TSS I/O bitmap must be clear. */
static void pio_check(struct x86_cpu *cpu, uint16_t port, unsigned size)
{
	if (!(cpu->cr0 & X86_CR0_PE))
		return;
	unsigned iopl = (cpu->rflags & X86_IOPL) >> 12;
	if (cpu->mode != X86_MODE_VM86 && cpu->cpl <= iopl)
		return;
	const struct x86_seg *tr = &cpu->tr;
	/* Only a 32/64-bit TSS (type 9/11) has a bitmap. */
	if (tr->unusable || !tr->present || (tr->type & 7) != 3 || tr->limit < 0x67)
		x86_raise(cpu, X86_GP, true, 0);
	uint16_t base;
	x86_sys_read(cpu, tr->base + 0x66, &base, 2);
	uint32_t off = base + port / 8;
	if (off + 1 > tr->limit)
		x86_raise(cpu, X86_GP, true, 0);
	uint16_t bits;
	x86_sys_read(cpu, tr->base + off, &bits, 2);
	if ((bits >> (port & 7)) & ((1u << size) - 1))
		x86_raise(cpu, X86_GP, true, 0);
}

/* Devices of the in-kernel irqchip answer before userspace is asked. */
static bool pic_port(uint16_t port)
{
	return port == 0x20 || port == 0x21 || port == 0xa0 || port == 0xa1 || port == 0x4d0 ||
	       port == 0x4d1;
}

static bool irqchip_port(struct x86_cpu *cpu, uint16_t port, unsigned size)
{
	return size == 1 && ((x86_irqchip(cpu->vm) && pic_port(port)) ||
			     x86_pit_claims_port(cpu->vm, port));
}

static void irqchip_pio(struct x86_cpu *cpu, uint16_t port, bool write, uint32_t *val)
{
	if (pic_port(port))
		x86_pic_pio(x86_irqchip(cpu->vm), port, write, val);
	else
		x86_pit_pio(cpu->vm, port, write, val);
}

static bool irqchip_mmio(struct x86_cpu *cpu, uint64_t gpa, unsigned size, bool write,
			 uint64_t *val)
{
	struct x86_irqchip *ic = x86_irqchip(cpu->vm);
	if (!ic)
		return false;
	return x86_lapic_mmio(cpu, gpa, size, write, val) ||
	       x86_ioapic_mmio(ic, gpa, size, write, val);
}

/* An ioeventfd takes the write (after the I/O permission check). */
static bool ioeventfd_pio(struct x86_cpu *cpu, uint16_t port, unsigned size, uint32_t val)
{
	struct x86_vm *xv = cpu->vm->arch_vm;
	if (!atomic_load_explicit(&xv->nr_ioeventfds, memory_order_relaxed))
		return false;
	pio_check(cpu, port, size);
	return x86_ioeventfd_write(cpu->vm, true, port, size, val);
}

uint32_t x86_pio_in(struct x86_cpu *cpu, uint16_t port, unsigned size)
{
	if (irqchip_port(cpu, port, size)) {
		uint32_t dev = 0;
		pio_check(cpu, port, size);
		irqchip_pio(cpu, port, false, &dev);
		return dev;
	}
	struct x86_io_rec *r = replay(cpu, port, size, false, true);
	if (r)
		return (uint32_t)r->data;
	flush_retire(cpu);
	pio_check(cpu, port, size);
	record(cpu, port, size, false, true);
	pio_exit(cpu, port, size, false, 0);
}

void x86_pio_out(struct x86_cpu *cpu, uint16_t port, unsigned size, uint32_t val)
{
	if (irqchip_port(cpu, port, size)) {
		pio_check(cpu, port, size);
		irqchip_pio(cpu, port, true, &val);
		return;
	}
	if (replay(cpu, port, size, true, true) || ioeventfd_pio(cpu, port, size, val))
		return;
	flush_retire(cpu);
	pio_check(cpu, port, size);
	record(cpu, port, size, true, true);
	pio_exit(cpu, port, size, true, val);
}

void x86_pio_in_batch(struct x86_cpu *cpu, uint16_t port, unsigned size, unsigned n)
{
	if (irqchip_port(cpu, port, size) || n <= 1) {
		uint32_t v = x86_pio_in(cpu, port, size);
		memcpy(cpu->pio_batch, &v, size);
		return;
	}
	if (replay(cpu, port, size, false, true))
		return;   /* x86_io_take_result filled pio_batch */
	flush_retire(cpu);
	pio_check(cpu, port, size);
	struct x86_io_rec *r = record(cpu, port, size, false, true);
	r->count = (uint16_t)n;
	pio_fill(cpu, port, size, false, 0);
	x86_run(cpu)->io.count = n;
	cpu->vcpu->io_pending = true;
	x86_exit_to_user(cpu);
}

/* An OUTS element: KVM's emulator retires OUTS before the exit (a REP
 * OUTS with elements left stays on the instruction, RCX counted down). */
void x86_pio_outs(struct x86_cpu *cpu, uint16_t port, unsigned size, uint32_t val)
{
	if (irqchip_port(cpu, port, size) || replay(cpu, port, size, true, true)) {
		x86_pio_out(cpu, port, size, val);
		return;
	}
	if (ioeventfd_pio(cpu, port, size, val))
		return;
	flush_retire(cpu);
	pio_check(cpu, port, size);
	record(cpu, port, size, true, true);
	pio_fill(cpu, port, size, true, val);
	defer_exit(cpu);
}

static void mmio_fill(struct x86_cpu *cpu, uint64_t gpa, unsigned size, bool write, uint64_t val)
{
	struct kvm_run *run = x86_run(cpu);
	run->exit_reason = KVM_EXIT_MMIO;
	run->mmio.phys_addr = gpa;
	run->mmio.len = size;
	run->mmio.is_write = write;
	memset(run->mmio.data, 0, sizeof(run->mmio.data));
	if (write)
		memcpy(run->mmio.data, &val, size);
}

_Noreturn static void mmio_exit(struct x86_cpu *cpu, uint64_t gpa, unsigned size, bool write,
				uint64_t val)
{
	mmio_fill(cpu, gpa, size, write, val);
	cpu->vcpu->io_pending = true;
	x86_exit_to_user(cpu);
}

uint64_t x86_mmio_read(struct x86_cpu *cpu, uint64_t gpa, unsigned size)
{
	if (x86_sys(cpu)->in_delivery)
		return ~0ull;   /* no device answers a stack or IDT in MMIO */
	uint64_t dev;
	if (irqchip_mmio(cpu, gpa, size, false, &dev))
		return dev;
	struct x86_io_rec *r = replay(cpu, gpa, size, false, false);
	if (r)
		return r->data;
	flush_retire(cpu);
	record(cpu, gpa, size, false, false);
	mmio_exit(cpu, gpa, size, false, 0);
}

void x86_mmio_write(struct x86_cpu *cpu, uint64_t gpa, unsigned size, uint64_t val)
{
	if (x86_sys(cpu)->in_delivery || irqchip_mmio(cpu, gpa, size, true, &val) ||
	    replay(cpu, gpa, size, true, false) || x86_ioeventfd_write(cpu->vm, false, gpa, size, val))
		return;
	flush_retire(cpu);
	record(cpu, gpa, size, true, false);
	mmio_fill(cpu, gpa, size, true, val);
	defer_exit(cpu);
}

/* Copy what userspace left for the last read into its record. Returns
 * false when the exit is to be forgotten (userspace moved RIP away). */
bool x86_io_take_result(struct x86_cpu *cpu)
{
	if (!cpu->io_log_len)
		return false;
	if (cpu->rip != cpu->insn_rip) {
		x86_io_log_clear(cpu);
		return false;
	}
	struct x86_io_rec *r = &cpu->io_log[cpu->io_log_len - 1];
	if (r->is_write)
		return true;
	struct kvm_run *run = x86_run(cpu);
	uint64_t v = 0;
	if (r->is_pio) {
		memcpy(&v, pio_data(cpu), r->size);
		memset(cpu->pio_batch, 0, sizeof(cpu->pio_batch));
		memcpy(cpu->pio_batch, pio_data(cpu), (size_t)r->size * r->count);
	} else
		memcpy(&v, run->mmio.data, r->size);
	r->data = v;
	return true;
}

/* KVM_INTERNAL_ERROR_EMULATION as KVM 6.1's prepare_emulation_failure_exit
 * fills it: flags, the instruction bytes, five words of (VMX) exit info
 * that an interpreter does not have (zero). */
_Noreturn void x86_emulation_failure(struct x86_cpu *cpu)
{
	struct kvm_run *run = x86_run(cpu);
	/* As handle_emulation_failure: the guest gets #UD; only at CPL 0
	 * does userspace hear of it (with the #UD left pending). */
	x86_io_log_clear(cpu);
	if (cpu->cpl != 0)
		x86_raise(cpu, X86_UD, false, 0);
	cpu->exc_pending = true;
	cpu->exc_nr = X86_UD;
	cpu->exc_has_error = false;
	cpu->exc_error = 0;
	uint8_t bytes[15];
	unsigned n = 0;
	uint64_t lin = cpu->seg[X86_CS].base + cpu->insn_rip;
	if (cpu->mode != X86_MODE_LONG64)
		lin &= 0xffffffffull;
	while (n < sizeof(bytes)) {
		uint64_t gpa;
		if (!x86_translate_nofault(cpu, lin + n, &gpa, NULL, NULL))
			break;
		uint8_t *h = x86_gpa_host(cpu, gpa, NULL);
		if (!h)
			break;
		unsigned chunk = 4096 - ((lin + n) & 0xfff);
		if (chunk > sizeof(bytes) - n)
			chunk = sizeof(bytes) - n;
		memcpy(bytes + n, h, chunk);
		n += chunk;
	}
	memset(&run->internal, 0, sizeof(run->internal));
	run->exit_reason = KVM_EXIT_INTERNAL_ERROR;
	run->emulation_failure.suberror = KVM_INTERNAL_ERROR_EMULATION;
	unsigned info_start = 1;
	run->emulation_failure.flags = 0;
	if (n) {
		info_start += 2;
		run->emulation_failure.flags |= KVM_INTERNAL_ERROR_EMULATION_FLAG_INSTRUCTION_BYTES;
		run->emulation_failure.insn_size = n;
		memset(run->emulation_failure.insn_bytes, 0x90,
		       sizeof(run->emulation_failure.insn_bytes));
		memcpy(run->emulation_failure.insn_bytes, bytes, n);
	}
	run->emulation_failure.ndata = info_start + 5;
	x86_io_log_clear(cpu);
	x86_exit_to_user(cpu);
}
