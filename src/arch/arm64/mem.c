/* Guest data accesses: software TLB fast path, the slow path through the
 * walker, and accesses outside every memslot (KVM_EXIT_MMIO when the
 * syndrome is valid, KVM_EXIT_ARM_NISV or ENOSYS when it is not).
 */
#include <errno.h>

#include "arch/arm64/a64.h"
#include "mem/guest_access.h"

static inline unsigned perm_for(int acc, unsigned el)
{
	unsigned p = acc == ACC_R ? P_R0 : acc == ACC_W ? P_W0 : P_X0;
	return el ? p << 3 : p;
}

/* The plain loads and stores of guest RAM (mem/guest_access.h says why
 * TSan does not watch them); the guest's atomics are in exec_mem.c. */
static inline uint64_t load_le(const uint8_t *h, unsigned size)
{
	return sk_guest_load(h, size);
}

static inline void store_le(uint8_t *h, unsigned size, uint64_t v)
{
	sk_guest_store(h, size, v);
}

_Noreturn void a64_mmio_exit(struct a64 *c, uint64_t ipa, uint64_t va, bool write, unsigned size,
			     uint64_t data, uint32_t iss)
{
	struct kvm_run *run = a64_run(c);
	c->abort_va = va;
	c->abort_fsc = FSC_EXT;
	if (!(iss & ISS_ISV)) {
		if (!c->avm->nisv_to_user)
			a64_fail(c, -ENOSYS);
		run->exit_reason = KVM_EXIT_ARM_NISV;
		/* What KVM passes on: CM, WnR and the stage-2 fault status
		 * (translation fault, level 1: no stage-2 table below). */
		run->arm_nisv.esr_iss = (iss & ISS_CM) | (write ? ISS_WNR : 0) | (FSC_TRANS + 1);
		run->arm_nisv.fault_ipa = ipa;
		c->nisv_exit = true;
		a64_exit(c);
	}
	run->exit_reason = KVM_EXIT_MMIO;
	run->mmio.phys_addr = ipa;
	run->mmio.len = size;
	run->mmio.is_write = write;
	memset(run->mmio.data, 0, sizeof(run->mmio.data));
	if (write)
		store_le(run->mmio.data, size, data);
	c->mmio.pending = true;
	c->mmio.is_write = write;
	c->mmio.rt = (uint8_t)BITS(iss, 20, 16);
	c->mmio.size = (uint8_t)size;
	c->mmio.sse = !!(iss & ISS_SSE);
	c->mmio.sf = !!(iss & ISS_SF);
	a64_exit(c);
}

/* On re-entry after KVM_EXIT_MMIO: the load takes run->mmio.data as the
 * syndrome says (size, sign extension, register width); the instruction
 * retires. */
void a64_complete_mmio(struct a64 *c)
{
	if (!c->mmio.pending)
		return;
	c->mmio.pending = false;
	if (!c->mmio.is_write) {
		uint64_t v = load_le(a64_run(c)->mmio.data, c->mmio.size);
		if (c->mmio.sse && c->mmio.size < 8)
			v = (uint64_t)sext(v, c->mmio.size * 8);
		if (!c->mmio.sf)
			v = (uint32_t)v;
		set_x(c, c->mmio.rt, v);
	}
	c->pc += 4;
}

_Noreturn void a64_align_fault(struct a64 *c, uint64_t va, bool write)
{
	a64_exception(c, c->el ? EC_DABT_CUR : EC_DABT_LOW, FSC_ALIGN | (write ? ISS_WNR : 0), va, true,
		      c->pc);
}

static void *resolve(struct a64 *c, uint64_t va, int acc, bool unpriv, uint32_t iss, uint64_t *pa)
{
	unsigned el = unpriv ? 0 : c->el;
	void *h = a64_tlb_hit(c, va, perm_for(acc, el));
	if (h) {
		*pa = 0;
		return h;
	}
	return a64_xlate_slow(c, va, acc, unpriv, iss, pa);
}

static void mark(struct a64 *c, uint64_t va)
{
	struct a64_tlbe *e = &c->tlb[(va >> 12) & (TLB_SIZE - 1)];
	if (e->slot && e->slot->dirty && e->tag == ((va & ~0xfffull) | 1))
		sk_mem_mark_dirty(e->slot, e->pa | (va & 0xfff));
}

uint64_t a64_ld(struct a64 *c, uint64_t va, unsigned size, uint32_t iss, bool unpriv)
{
	if ((va & 0xfff) + size > 0x1000) {
		uint64_t v = 0;
		for (unsigned i = 0; i < size; i++)
			v |= a64_ld(c, va + i, 1, 0, unpriv) << (8 * i);
		return v;
	}
	uint64_t pa;
	uint8_t *h = resolve(c, va, ACC_R, unpriv, iss, &pa);
	uint64_t gic;
	if (!h && a64_vgic_mmio(c, pa, false, size, &gic))
		return gic;
	if (!h)
		a64_mmio_exit(c, pa, va, false, size, 0, iss);
	return load_le(h, size);
}

void a64_st(struct a64 *c, uint64_t va, unsigned size, uint64_t v, uint32_t iss, bool unpriv)
{
	if ((va & 0xfff) + size > 0x1000) {
		/* Translate both pages first so a fault leaves memory alone. */
		uint64_t pa;
		resolve(c, va, ACC_W, unpriv, 0, &pa);
		resolve(c, va + size - 1, ACC_W, unpriv, 0, &pa);
		for (unsigned i = 0; i < size; i++)
			a64_st(c, va + i, 1, v >> (8 * i), 0, unpriv);
		return;
	}
	uint64_t pa;
	uint8_t *h = resolve(c, va, ACC_W, unpriv, iss | ISS_WNR, &pa);
	if (!h && a64_vgic_mmio(c, pa, true, size, &v))
		return;
	if (!h)
		a64_mmio_exit(c, pa, va, true, size, v, iss | ISS_WNR);
	store_le(h, size, v);
	mark(c, va);
}

void *a64_atomic_ptr(struct a64 *c, uint64_t va, unsigned size, bool write)
{
	if (va & (size - 1))
		a64_align_fault(c, va, write);
	uint64_t pa;
	void *h = resolve(c, va, write ? ACC_W : ACC_R, false, write ? ISS_WNR : 0, &pa);
	if (!h)
		a64_mmio_exit(c, pa, va, write, size, 0, 0);
	if (write)
		mark(c, va);
	return h;
}
