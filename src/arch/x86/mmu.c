/* Address translation: segmentation limits, the page walk of every paging
 * mode (32-bit with PSE, PAE, 4- and 5-level), the software TLB, and guest memory
 * access through the memslots (outside them: MMIO through io.c).
 */
#include <string.h>

#include "arch/x86/sys.h"
#include "mem/guest_access.h"

#define PTE_P 0x1ull
#define PTE_W 0x2ull
#define PTE_U 0x4ull
#define PTE_A 0x20ull
#define PTE_D 0x40ull
#define PTE_PS 0x80ull
#define PTE_NX (1ull << 63)

#define PF_P 0x1u
#define PF_W 0x2u
#define PF_U 0x4u
#define PF_RSVD 0x8u
#define PF_I 0x10u

/* The guest's MAXPHYADDR (its CPUID) bounds physical addresses: bits of a
 * 64-bit entry between it and bit 51 must be zero. (cpu is in scope.) */
#define PHYS_MASK (~x86_rsvd_gpa(cpu) & ~0xfffull)
#define RSVD_HIGH (((1ull << 52) - 1) & x86_rsvd_gpa(cpu))

struct walk {
	bool implicit;   /* in: an implicit supervisor access (SMAP ignores AC) */
	uint64_t gpa;
	bool writable, user, nx;
};

/* ---- guest-physical memory ---- */

uint8_t *x86_gpa_host(struct x86_cpu *cpu, uint64_t gpa, const struct sk_memslot **slotp)
{
	const struct sk_memslot *s = cpu->slots ? sk_mem_find(cpu->slots, gpa) : NULL;
	if (slotp)
		*slotp = s;
	return s ? s->hva + (gpa - s->gpa) : NULL;
}

/* The memslots the vCPU sees: address space 1 while in SMM, as KVM's
 * kvm_arch_vcpu_memslots_id. */
static const struct sk_slotset *slots_view(struct x86_cpu *cpu, const struct sk_slotset *set)
{
	static const struct sk_slotset none;
	if (!x86_sys(cpu)->smm)
		return set;
	return set->as1 ? set->as1 : &none;
}

void x86_refresh_slots(struct x86_cpu *cpu)
{
	const struct sk_slotset *set = sk_vcpu_ack_slots(cpu->vcpu, &cpu->vm->mem);
	const struct sk_slotset *view = slots_view(cpu, set);
	if (view != cpu->slots || set->gen != x86_sys(cpu)->slots_gen || x86_poison_stale(cpu)) {
		struct x86_vm *xv = cpu->vm->arch_vm;
		x86_sys(cpu)->poison_gen = atomic_load(&xv->poison_gen);
		cpu->slots = view;
		x86_sys(cpu)->slots_gen = set->gen;
		x86_tlb_flush(cpu);
		/* A slot may now map other memory at a gpa holding decoded code. */
		x86_blocks_new_epoch(cpu->blocks);
	}
}

void x86_code_written(struct x86_cpu *cpu, uint64_t gpa)
{
	x86_blocks_invalidate_page(cpu->blocks, gpa & ~0xfffull);
}

static void phys_written(struct x86_cpu *cpu, const struct sk_memslot *slot, uint64_t gpa,
			 unsigned size)
{
	sk_mem_mark_dirty(slot, gpa);
	if (((gpa + size - 1) ^ gpa) >> 12)
		sk_mem_mark_dirty(slot, gpa + size - 1);
	if (x86_blocks_is_code_page(cpu->blocks, gpa & ~0xfffull))
		x86_code_written(cpu, gpa);
}

bool x86_read_phys(struct x86_cpu *cpu, uint64_t gpa, void *buf, unsigned size)
{
	uint8_t *out = buf;
	while (size) {
		unsigned chunk = 4096 - (gpa & 0xfff);
		if (chunk > size)
			chunk = size;
		uint8_t *h = x86_gpa_host(cpu, gpa, NULL);
		if (!h)
			return false;
		sk_guest_copy(out, h, chunk);
		out += chunk;
		gpa += chunk;
		size -= chunk;
	}
	return true;
}

bool x86_write_phys(struct x86_cpu *cpu, uint64_t gpa, const void *buf, unsigned size)
{
	const uint8_t *in = buf;
	while (size) {
		unsigned chunk = 4096 - (gpa & 0xfff);
		if (chunk > size)
			chunk = size;
		const struct sk_memslot *slot;
		uint8_t *h = x86_gpa_host(cpu, gpa, &slot);
		if (!h || (slot->flags & KVM_MEM_READONLY))
			return false;
		sk_guest_copy(h, in, chunk);
		phys_written(cpu, slot, gpa, chunk);
		in += chunk;
		gpa += chunk;
		size -= chunk;
	}
	return true;
}

/* ---- the TLB ---- */

static inline unsigned tlb_idx(uint64_t lin)
{
	return (lin >> 12) & (X86_TLB_SIZE - 1);
}

/* Entries filled for a user access never serve a supervisor one and vice
 * versa: their permissions differ (U/S, CR0.WP). */
static inline uint64_t tlb_tag(uint64_t lin, bool user)
{
	return (lin & ~0xfffull) | 1 | ((uint64_t)user << 1);
}

void x86_tlb_flush(struct x86_cpu *cpu)
{
	memset(&cpu->tlb, 0xff, sizeof(cpu->tlb));
}

void x86_tlb_flush_page(struct x86_cpu *cpu, uint64_t lin)
{
	unsigned i = tlb_idx(lin);
	uint64_t page = lin & ~0xfffull;
	struct x86_tlb_entry *sets[3] = {cpu->tlb.read, cpu->tlb.write, cpu->tlb.exec};
	for (int k = 0; k < 3; k++)
		if ((sets[k][i].tag & ~3ull) == page)
			sets[k][i].tag = ~0ull;
}

static void tlb_fill(struct x86_tlb_entry *e, uint64_t lin, bool user, uint8_t *host, uint64_t gpa)
{
	e->tag = tlb_tag(lin, user);
	e->host = host - (lin & 0xfff);
	e->gpa = gpa & ~0xfffull;
}

/* Data breakpoints see every access only when the TLB is bypassed. */
static inline bool tlb_allowed(struct x86_cpu *cpu)
{
	return !(cpu->dr7 & 0xff) && !(cpu->guest_debug & KVM_GUESTDBG_USE_HW_BP);
}

/* ---- the page walk ---- */

static uint64_t read_entry(uint8_t *h, bool wide)
{
	if (wide)
		return __atomic_load_n((uint64_t *)(void *)h, __ATOMIC_RELAXED);
	return __atomic_load_n((uint32_t *)(void *)h, __ATOMIC_RELAXED);
}

/* A table entry the walk went through, for the accessed/dirty update. */
struct level {
	uint8_t *host;
	const struct sk_memslot *slot;
	uint64_t gpa, val;
};

/* The CPU's own write to a table entry: atomic, and dirty-logged like any
 * guest write (entries in read-only slots are left alone). */
static void set_bits(const struct level *l, bool wide, uint64_t bits)
{
	if ((l->val & bits) == bits || (l->slot->flags & KVM_MEM_READONLY))
		return;
	if (wide)
		__atomic_fetch_or((uint64_t *)(void *)l->host, bits, __ATOMIC_RELAXED);
	else
		__atomic_fetch_or((uint32_t *)(void *)l->host, (uint32_t)bits, __ATOMIC_RELAXED);
	sk_mem_mark_dirty(l->slot, l->gpa);
}

/* SMAP: a supervisor data access to a user-mode page faults, unless it is
 * explicit, at CPL < 3, with EFLAGS.AC set (SDM 4.6.1). */
static bool smap_blocks(const struct x86_cpu *cpu, enum x86_access acc, bool user, bool us,
			bool implicit)
{
	if (user || !us || acc == X86_ACC_EXEC || !(cpu->cr4 & X86_CR4_SMAP))
		return false;
	return implicit || cpu->cpl == 3 || !(cpu->rflags & X86_AC_FLAG);
}

/* Walk the tables for lin. On success fills *w and (if commit) sets the
 * accessed/dirty bits; on failure returns the #PF error code (never 0,
 * bit 31 set as a marker and stripped by the caller). */
static uint32_t walk(struct x86_cpu *cpu, uint64_t lin, enum x86_access acc, bool user,
		     bool commit, struct walk *w)
{
	bool nxe = cpu->efer & X86_EFER_NXE;
	uint32_t err = (acc == X86_ACC_WRITE ? PF_W : 0) | (user ? PF_U : 0) |
		       (acc == X86_ACC_EXEC && (nxe || (cpu->cr4 & X86_CR4_SMEP)) ? PF_I : 0);
	if (!(cpu->cr0 & X86_CR0_PG)) {
		w->gpa = (cpu->efer & X86_EFER_LMA) ? lin : (lin & 0xffffffffull);
		w->writable = w->user = true;
		w->nx = false;
		return 0;
	}

	bool wide, lma = cpu->efer & X86_EFER_LMA;
	int level;        /* 5 = PML5, 4 = PML4 ... 1 = PT */
	uint64_t table;
	struct level lv[5];
	int nh = 0;
	bool wr = true, us = true, nx = false;
	uint64_t rsvd_nx = nxe ? 0 : PTE_NX;

	if (lma) {
		wide = true;
		level = (cpu->cr4 & X86_CR4_LA57) ? 5 : 4;
		table = cpu->cr3 & PHYS_MASK;
	} else if (cpu->cr4 & X86_CR4_PAE) {
		wide = true;
		/* PDPTEs: no access rights, only P and the address. */
		uint64_t pa = (cpu->cr3 & 0xffffffe0ull) + ((lin >> 30) & 3) * 8;
		uint8_t *h = x86_gpa_host(cpu, pa, NULL);
		if (h && commit)
			x86_poison_check(cpu, pa, h);
		uint64_t e = h ? read_entry(h, true) : 0;
		if (!(e & PTE_P))
			return err | 0x80000000u;
		if (e & (RSVD_HIGH | 0x1e6ull | PTE_NX))
			return err | PF_P | PF_RSVD | 0x80000000u;
		level = 2;
		table = e & PHYS_MASK;
	} else {
		wide = false;
		level = 2;
		table = cpu->cr3 & 0xfffff000ull;
	}

	for (;; level--) {
		unsigned shift = wide ? 12 + 9 * (level - 1) : 12 + 10 * (level - 1);
		uint64_t idx = (lin >> shift) & (wide ? 511 : 1023);
		uint64_t pa = table + idx * (wide ? 8 : 4);
		const struct sk_memslot *slot;
		uint8_t *h = x86_gpa_host(cpu, pa, &slot);
		if (h && commit)
			x86_poison_check(cpu, pa, h);
		uint64_t e = h ? read_entry(h, wide) : 0;
		if (!(e & PTE_P))
			return err | 0x80000000u;
		bool large = (e & PTE_PS) && level > 1 &&
			     (wide ? level <= 3 : (cpu->cr4 & X86_CR4_PSE) != 0);
		if (wide) {
			uint64_t rsvd = RSVD_HIGH | rsvd_nx;
			if (level >= 4)
				rsvd |= PTE_PS;
			if (large)
				rsvd |= level == 3 ? 0x3fffe000ull : 0x1fe000ull;
			if (e & rsvd)
				return err | PF_P | PF_RSVD | 0x80000000u;
		} else if (large && (e & 0x200000ull)) {
			return err | PF_P | PF_RSVD | 0x80000000u;
		}
		lv[nh++] = (struct level){h, slot, pa, e};
		wr = wr && (e & PTE_W);
		us = us && (e & PTE_U);
		nx = nx || (nxe && (e & PTE_NX));
		if (level == 1 || large) {
			uint64_t gpa;
			if (!wide && large) {
				gpa = (e & 0xffc00000ull) | ((e >> 13) & 0xffull) << 32 | (lin & 0x3fffffull);
			} else {
				uint64_t off_mask = (1ull << shift) - 1;
				gpa = (e & PHYS_MASK & ~off_mask) | (lin & off_mask);
			}
			if (user && !us)
				return err | PF_P | 0x80000000u;
			if (acc == X86_ACC_WRITE && !wr && (user || (cpu->cr0 & X86_CR0_WP)))
				return err | PF_P | 0x80000000u;
			if (acc == X86_ACC_EXEC && nx)
				return err | PF_P | 0x80000000u;
			if (acc == X86_ACC_EXEC && !user && us && (cpu->cr4 & X86_CR4_SMEP))
				return err | PF_P | 0x80000000u;
			if (commit && smap_blocks(cpu, acc, user, us, w->implicit))
				return err | PF_P | 0x80000000u;
			if (commit) {
				for (int i = 0; i < nh - 1; i++)
					set_bits(&lv[i], wide, PTE_A);
				set_bits(&lv[nh - 1], wide,
					 acc == X86_ACC_WRITE ? PTE_A | PTE_D : PTE_A);
			}
			w->gpa = gpa;
			w->writable = wr || (!user && !(cpu->cr0 & X86_CR0_WP));
			w->user = us;
			w->nx = nx;
			return 0;
		}
		table = e & (wide ? PHYS_MASK : 0xfffff000ull);
	}
}

/* cpl < 0: an implicit supervisor access. *upage: a user-mode page. */
static uint64_t translate(struct x86_cpu *cpu, uint64_t lin, enum x86_access acc, int cpl,
			  bool *upage)
{
	struct walk w = {.implicit = cpl < 0};
	uint32_t err = walk(cpu, lin, acc, cpl == 3, true, &w);
	if (err)
		x86_raise_pf(cpu, lin, err & ~0x80000000u);
	*upage = w.user;
	return w.gpa;
}

uint64_t x86_translate(struct x86_cpu *cpu, uint64_t lin, enum x86_access acc, int cpl)
{
	bool upage;
	return translate(cpu, lin, acc, cpl, &upage);
}

bool x86_translate_nofault(struct x86_cpu *cpu, uint64_t lin, uint64_t *gpa, bool *writable,
			   bool *user)
{
	struct walk w = {.implicit = false};
	if (walk(cpu, lin, X86_ACC_READ, false, false, &w))
		return false;
	*gpa = w.gpa;
	if (writable)
		*writable = w.writable;
	if (user)
		*user = w.user;
	return true;
}

/* ---- segmentation ---- */


_Noreturn static void seg_fault(struct x86_cpu *cpu, int sreg)
{
	x86_raise(cpu, sreg == X86_SS ? X86_SS_EXC : X86_GP, true, 0);
}

uint64_t x86_linear(struct x86_cpu *cpu, int sreg, uint64_t off, unsigned size,
		    enum x86_access acc)
{
	const struct x86_seg *s = &cpu->seg[sreg];
	if (cpu->mode == X86_MODE_LONG64) {
		uint64_t lin = off + (sreg >= X86_FS ? s->base : 0);
		if (!x86_canonical(cpu, lin) || !x86_canonical(cpu, lin + size - 1))
			seg_fault(cpu, sreg);
		return lin;
	}
	if (cpu->mode != X86_MODE_REAL && cpu->mode != X86_MODE_VM86) {
		if (s->unusable)
			seg_fault(cpu, sreg);
		if (acc == X86_ACC_WRITE && (s->type & 0xa) != 0x2)
			seg_fault(cpu, sreg);
		if (acc == X86_ACC_READ && (s->type & 0xa) == 0x8)
			seg_fault(cpu, sreg);
	}
	uint64_t last = off + size - 1;
	if ((s->type & 0xc) == 0x4 && s->s) {
		uint64_t max = s->db ? 0xffffffffull : 0xffffull;
		if (off <= s->limit || last > max)
			seg_fault(cpu, sreg);
	} else if (last > s->limit) {
		seg_fault(cpu, sreg);
	}
	return (s->base + off) & 0xffffffffull;
}

/* ---- linear accesses ---- */

/* One page's worth of a linear access, translated: host memory or MMIO. */
struct piece {
	uint64_t lin, gpa;
	unsigned len;
	bool nofill;     /* a supervisor access to a user page under SMAP */
	uint8_t *host;
	const struct sk_memslot *slot;
};

static void access_bp(struct x86_cpu *cpu, uint64_t lin, unsigned size, enum x86_access acc);

static void mmio_read_buf(struct x86_cpu *cpu, uint64_t gpa, uint8_t *out, unsigned len)
{
	while (len) {
		unsigned n = len >= 8 && !(gpa & 7) ? 8 : len >= 4 && !(gpa & 3) ? 4 :
			     len >= 2 && !(gpa & 1) ? 2 : 1;
		if (len < n)
			n = len;
		uint64_t v = x86_mmio_read(cpu, gpa, n);
		memcpy(out, &v, n);
		out += n;
		gpa += n;
		len -= n;
	}
}

static void mmio_write_buf(struct x86_cpu *cpu, uint64_t gpa, const uint8_t *in, unsigned len)
{
	while (len) {
		unsigned n = len >= 8 && !(gpa & 7) ? 8 : len >= 4 && !(gpa & 3) ? 4 :
			     len >= 2 && !(gpa & 1) ? 2 : 1;
		uint64_t v = 0;
		memcpy(&v, in, n);
		x86_mmio_write(cpu, gpa, n, v);
		in += n;
		gpa += n;
		len -= n;
	}
}

/* Reads and writes of 1..8 bytes in one piece are sent as one MMIO access
 * (KVM splits only at page boundaries); larger ones in aligned pieces. */
static void piece_mmio(struct x86_cpu *cpu, struct piece *p, uint8_t *buf, bool write)
{
	if (p->len <= 8 && (p->len & (p->len - 1)) == 0) {
		if (write) {
			uint64_t v = 0;
			memcpy(&v, buf, p->len);
			x86_mmio_write(cpu, p->gpa, p->len, v);
		} else {
			uint64_t v = x86_mmio_read(cpu, p->gpa, p->len);
			memcpy(buf, &v, p->len);
		}
	} else if (write) {
		mmio_write_buf(cpu, p->gpa, buf, p->len);
	} else {
		mmio_read_buf(cpu, p->gpa, buf, p->len);
	}
}

static void access_slow(struct x86_cpu *cpu, uint64_t lin, void *buf, unsigned size,
			enum x86_access acc, bool user, int cpl)
{
	struct piece pc[3];
	int n = 0;
	bool fill = tlb_allowed(cpu);
	if (!fill)
		access_bp(cpu, lin, size, acc);
	/* Translate every page first: a fault on the second page must leave
	 * memory untouched. */
	for (unsigned done = 0; done < size; n++) {
		struct piece *p = &pc[n];
		p->lin = lin + done;
		if (cpu->mode != X86_MODE_LONG64)
			p->lin &= 0xffffffffull;
		p->len = 4096 - (p->lin & 0xfff);
		if (p->len > size - done)
			p->len = size - done;
		bool upage;
		p->gpa = translate(cpu, p->lin, acc, cpl, &upage);
		/* Under SMAP such an access depends on EFLAGS.AC: never cached. */
		p->nofill = !user && upage && (cpu->cr4 & X86_CR4_SMAP);
		p->host = x86_gpa_host(cpu, p->gpa, &p->slot);
		if (p->host)
			x86_poison_check(cpu, p->gpa, p->host);
		done += p->len;
		if (n == 2 && done < size)
			x86_emulation_failure(cpu);
	}
	uint8_t *b = buf;
	for (int i = 0; i < n; i++) {
		struct piece *p = &pc[i];
		if (acc != X86_ACC_WRITE) {
			if (!p->host) {
				piece_mmio(cpu, p, b, false);
			} else {
				sk_guest_copy(b, p->host, p->len);
				if (fill && !p->nofill)
					tlb_fill(&cpu->tlb.read[tlb_idx(p->lin)], p->lin, user, p->host,
						 p->gpa);
			}
		} else if (!p->host || (p->slot->flags & KVM_MEM_READONLY)) {
			piece_mmio(cpu, p, b, true);
		} else {
			sk_guest_copy(p->host, b, p->len);
			sk_mem_mark_dirty(p->slot, p->gpa);
			uint64_t page = p->gpa & ~0xfffull;
			if (x86_blocks_is_code_page(cpu->blocks, page))
				x86_code_written(cpu, page);
			else if (fill && !p->nofill && !p->slot->dirty)
				tlb_fill(&cpu->tlb.write[tlb_idx(p->lin)], p->lin, user, p->host, p->gpa);
		}
		b += p->len;
	}
}

uint64_t x86_read_lin(struct x86_cpu *cpu, uint64_t lin, unsigned size)
{
	uint64_t v = 0;
	bool user = cpu->cpl == 3;
	if ((lin & 0xfff) + size <= 4096) {
		const struct x86_tlb_entry *e = &cpu->tlb.read[tlb_idx(lin)];
		if (e->tag == tlb_tag(lin, user)) {
			sk_guest_copy(&v, e->host + (lin & 0xfff), size);
			return v;
		}
	}
	access_slow(cpu, lin, &v, size > 8 ? 8 : size, X86_ACC_READ, user, cpu->cpl);
	return v;
}

void x86_write_lin(struct x86_cpu *cpu, uint64_t lin, unsigned size, uint64_t val)
{
	bool user = cpu->cpl == 3;
	if ((lin & 0xfff) + size <= 4096) {
		const struct x86_tlb_entry *e = &cpu->tlb.write[tlb_idx(lin)];
		if (e->tag == tlb_tag(lin, user)) {
			sk_guest_copy(e->host + (lin & 0xfff), &val, size);
			return;
		}
	}
	access_slow(cpu, lin, &val, size > 8 ? 8 : size, X86_ACC_WRITE, user, cpu->cpl);
}

void x86_read_lin_buf(struct x86_cpu *cpu, uint64_t lin, void *buf, unsigned size)
{
	bool user = cpu->cpl == 3;
	if ((lin & 0xfff) + size <= 4096) {
		const struct x86_tlb_entry *e = &cpu->tlb.read[tlb_idx(lin)];
		if (e->tag == tlb_tag(lin, user)) {
			sk_guest_copy(buf, e->host + (lin & 0xfff), size);
			return;
		}
	}
	access_slow(cpu, lin, buf, size, X86_ACC_READ, user, cpu->cpl);
}

void x86_write_lin_buf(struct x86_cpu *cpu, uint64_t lin, const void *buf, unsigned size)
{
	bool user = cpu->cpl == 3;
	if ((lin & 0xfff) + size <= 4096) {
		const struct x86_tlb_entry *e = &cpu->tlb.write[tlb_idx(lin)];
		if (e->tag == tlb_tag(lin, user)) {
			sk_guest_copy(e->host + (lin & 0xfff), buf, size);
			return;
		}
	}
	access_slow(cpu, lin, (void *)buf, size, X86_ACC_WRITE, user, cpu->cpl);
}

uint64_t x86_read(struct x86_cpu *cpu, int sreg, uint64_t off, unsigned size)
{
	return x86_read_lin(cpu, x86_linear(cpu, sreg, off, size, X86_ACC_READ), size);
}

void x86_write(struct x86_cpu *cpu, int sreg, uint64_t off, unsigned size, uint64_t val)
{
	x86_write_lin(cpu, x86_linear(cpu, sreg, off, size, X86_ACC_WRITE), size, val);
}

void x86_access_cpl(struct x86_cpu *cpu, uint64_t lin, void *buf, unsigned size,
		    enum x86_access acc, int cpl)
{
	access_slow(cpu, lin, buf, size, acc, cpl == 3, cpl);
}

void x86_sys_read(struct x86_cpu *cpu, uint64_t lin, void *buf, unsigned size)
{
	access_slow(cpu, lin, buf, size, X86_ACC_READ, false, -1);
}

void x86_sys_write(struct x86_cpu *cpu, uint64_t lin, const void *buf, unsigned size)
{
	access_slow(cpu, lin, (void *)buf, size, X86_ACC_WRITE, false, -1);
}

const uint8_t *x86_fetch_ptr(struct x86_cpu *cpu, uint64_t lin, uint64_t *gpa)
{
	bool user = cpu->cpl == 3;
	struct x86_tlb_entry *e = &cpu->tlb.exec[tlb_idx(lin)];
	if (e->tag == tlb_tag(lin, user)) {
		*gpa = e->gpa | (lin & 0xfff);
		return e->host + (lin & 0xfff);
	}
	uint64_t pa = x86_translate(cpu, lin, X86_ACC_EXEC, cpu->cpl);
	uint8_t *h = x86_gpa_host(cpu, pa, NULL);
	*gpa = pa;
	if (!h)
		return NULL;
	x86_poison_check(cpu, pa, h);
	tlb_fill(e, lin, user, h, pa);
	return h;
}

/* ---- data breakpoints (DR0-3 with R/W = 01 or 11) ---- */

static void access_bp(struct x86_cpu *cpu, uint64_t lin, unsigned size, enum x86_access acc)
{
	if (acc == X86_ACC_EXEC)
		return;
	bool host_bp = cpu->guest_debug & KVM_GUESTDBG_USE_HW_BP;
	uint64_t dr7 = host_bp ? cpu->guest_dbg_dr7 : cpu->dr7;
	const uint64_t *dr = host_bp ? cpu->guest_dbg_dr : cpu->dr;
	for (int i = 0; i < 4; i++) {
		if (!((dr7 >> (2 * i)) & 3))
			continue;
		unsigned rw = (dr7 >> (16 + 4 * i)) & 3;
		unsigned len = (dr7 >> (18 + 4 * i)) & 3;
		if (rw == 0 || rw == 2 || (rw == 1 && acc != X86_ACC_WRITE))
			continue;
		uint64_t blen = len == 0 ? 1 : len == 1 ? 2 : len == 3 ? 4 : 8;
		uint64_t start = dr[i] & ~(blen - 1);
		if (lin < start + blen && start < lin + size)
			x86_sys(cpu)->dr6_hits |= 1u << i;
	}
}
