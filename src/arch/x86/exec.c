/* The block cache and the execution loop.
 *
 * A block is a run of decoded instructions inside one guest-physical page
 * (it goes on past a conditional branch, which leaves it when taken),
 * keyed by its start address and the mode bits that change decoding. It
 * keeps a copy of the bytes it was decoded from. A block is trusted while
 * its stamps are current: the cache epoch (bumped on every KVM_RUN entry,
 * as userspace may have written guest memory) and its page's version
 * (bumped by every guest write to the page). A stale block is compared
 * with guest memory and re-decoded only if the bytes differ, so data
 * written next to code costs a memcmp, not a decode.
 *
 * Blocks live until x86_blocks_flush (or the cache grows past BLK_LIMIT);
 * a flush requested while a block runs is deferred to the block's end.
 * An instruction that crosses a page is decoded afresh each time into a
 * scratch block that is never cached.
 */
#include <stdlib.h>
#include <string.h>

#include "arch/x86/insn.h"
#include "kvm/kvm.h"
#include "mem/guest_access.h"

#define BLK_HASH 8192
#define PAGE_HASH 2048
#define BLK_MAX_INSNS 64
#define BLK_LIMIT 65536

struct x86_code_page {
	struct x86_code_page *next;
	uint64_t pg;
	uint32_t ver;
};

struct x86_block {
	struct x86_block *next;
	struct x86_code_page *page;   /* NULL for the scratch block */
	uint64_t gpa;
	uint32_t epoch, ver;
	uint16_t n, nbytes;
	const struct x86_insn *last;  /* insn[n - 1] */
	uint64_t ripmask;             /* RIP's width in the block's mode */
	uint8_t mkey;
	uint8_t chain_next;
	/* Successors in the same linear page, found without a translation. */
	struct x86_block *chain[2];
	uint8_t *bytes;
	struct x86_insn insn[];
};

struct x86_block_cache {
	struct x86_block *hash[BLK_HASH];
	struct x86_code_page *pages[PAGE_HASH];
	uint32_t epoch;
	unsigned nblocks;
	struct x86_block *cur;       /* the block executing, or NULL */
	bool cur_stale;              /* its page was written: leave it now */
	/* The last instruction the running block may start without a check
	 * (NULL once it is stale), so the loop tests its end and staleness
	 * with one compare. */
	const struct x86_insn *cur_last;
	bool flush_pending;
	struct x86_block *scratch;   /* page-crossing instruction */
	struct x86_block *dead;      /* replaced blocks: chains may still point here */
};

static inline unsigned blk_hash(uint64_t gpa, unsigned mkey)
{
	return (unsigned)((gpa * 0x9e3779b97f4a7c15ull) >> 40 ^ mkey) & (BLK_HASH - 1);
}

static inline unsigned page_hash(uint64_t pg)
{
	return (unsigned)((pg >> 12) * 0x9e3779b1u) >> 21 & (PAGE_HASH - 1);
}

struct x86_block_cache *x86_blocks_new(void)
{
	struct x86_block_cache *bc = calloc(1, sizeof(*bc));
	if (!bc)
		return NULL;
	/* Its instruction and the zeroed one x86_thread may look at. */
	bc->scratch = calloc(1, sizeof(struct x86_block) + 2 * sizeof(struct x86_insn));
	if (!bc->scratch) {
		free(bc);
		return NULL;
	}
	bc->epoch = 1;
	return bc;
}

static void do_flush(struct x86_block_cache *bc)
{
	while (bc->dead) {
		struct x86_block *n = bc->dead->next;
		free(bc->dead);
		bc->dead = n;
	}
	for (unsigned h = 0; h < BLK_HASH; h++) {
		struct x86_block *b = bc->hash[h];
		while (b) {
			struct x86_block *n = b->next;
			free(b);
			b = n;
		}
		bc->hash[h] = NULL;
	}
	for (unsigned h = 0; h < PAGE_HASH; h++) {
		struct x86_code_page *p = bc->pages[h];
		while (p) {
			struct x86_code_page *n = p->next;
			free(p);
			p = n;
		}
		bc->pages[h] = NULL;
	}
	bc->nblocks = 0;
	bc->flush_pending = false;
}

void x86_blocks_free(struct x86_block_cache *bc)
{
	if (!bc)
		return;
	do_flush(bc);
	free(bc->scratch);
	free(bc);
}

/* Leave the running block after the instruction in progress. */
static void mark_stale(struct x86_block_cache *bc)
{
	bc->cur_stale = true;
	bc->cur_last = NULL;
}

void x86_blocks_flush(struct x86_block_cache *bc)
{
	if (!bc)
		return;
	if (bc->cur) {
		bc->flush_pending = true;
		mark_stale(bc);
		return;
	}
	do_flush(bc);
}

static struct x86_code_page *page_find(struct x86_block_cache *bc, uint64_t pg)
{
	for (struct x86_code_page *p = bc->pages[page_hash(pg)]; p; p = p->next)
		if (p->pg == pg)
			return p;
	return NULL;
}

void x86_blocks_invalidate_page(struct x86_block_cache *bc, uint64_t gpa)
{
	if (!bc)
		return;
	struct x86_code_page *p = page_find(bc, gpa & ~(SK_PAGE_SIZE - 1));
	if (!p)
		return;
	p->ver++;
	if (bc->cur && bc->cur->page == p)
		mark_stale(bc);
}

bool x86_blocks_is_code_page(struct x86_block_cache *bc, uint64_t gpa)
{
	return bc && page_find(bc, gpa & ~(SK_PAGE_SIZE - 1));
}

bool x86_blocks_stale(const struct x86_block_cache *bc)
{
	return bc->cur_stale;
}

void x86_blocks_new_epoch(struct x86_block_cache *bc)
{
	/* 0 marks retired blocks. */
	if (bc && !++bc->epoch)
		bc->epoch = 1;
}

void x86_blocks_stop(struct x86_block_cache *bc)
{
	if (bc && bc->cur)
		mark_stale(bc);
}

/* ---- building blocks ---- */

static const struct x86_insn ud_insn = { .fn = x86_h_ud, .len = 0 };

/* The mode bits a decoded block depends on. */
static inline unsigned mode_key(const struct x86_cpu *cpu)
{
	return cpu->mode * 2 + cpu->seg[X86_CS].db;
}

/* Decode the instruction at the page end that crosses into the next page. */
static struct x86_block *build_crossing(struct x86_cpu *cpu, struct x86_block_cache *bc,
					const uint8_t *p, uint64_t lin)
{
	uint8_t buf[16];
	unsigned first = SK_PAGE_SIZE - (lin & (SK_PAGE_SIZE - 1));
	uint64_t gpa2;
	sk_guest_copy(buf, p, first);
	const uint8_t *p2 = x86_fetch_ptr(cpu, (lin + first) & (x86_long64(cpu) ? ~0ull : 0xffffffffull), &gpa2);
	if (!p2)
		x86_emulation_failure(cpu);
	sk_guest_copy(buf + first, p2, 15 - first);
	struct x86_block *b = bc->scratch;
	bool ends, more;
	if (!x86_decode(cpu, buf, 15, &b->insn[0], &ends, &more))
		b->insn[0] = ud_insn;
	b->n = 1;
	b->last = &b->insn[0];
	b->ripmask = x86_long64(cpu) ? ~0ull : 0xffffffffull;
	return b;
}

static struct x86_code_page *page_get(struct x86_cpu *cpu, struct x86_block_cache *bc, uint64_t pg)
{
	struct x86_code_page *p = page_find(bc, pg);
	if (p)
		return p;
	p = calloc(1, sizeof(*p));
	if (!p)
		x86_emulation_failure(cpu);
	p->pg = pg;
	unsigned h = page_hash(pg);
	p->next = bc->pages[h];
	bc->pages[h] = p;
	/* No write TLB entry may survive for a page that now holds code. */
	x86_tlb_flush(cpu);
	return p;
}

/* Whether handler f ends in x86_thread. The exec files answer by scanning
 * their tables, so the answers are remembered (per thread: no locking). */
static bool fn_threads(x86_fn f)
{
	static _Thread_local struct {
		x86_fn f;
		bool threads;
	} memo[512];
	unsigned h = (unsigned)((uintptr_t)f >> 4) & 511;
	if (memo[h].f != f) {
		memo[h].threads = x86_alu_threads(f) || x86_data_threads(f) || x86_ctl_threads(f);
		memo[h].f = f;
	}
	return memo[h].threads;
}

/* Mark the instructions whose handlers thread to the next one (64-bit
 * mode only: x86_thread does not wrap RIP) and count each run. */
static void mark_threaded(const struct x86_cpu *cpu, struct x86_insn *in, unsigned n)
{
	bool long64 = x86_long64(cpu);
	for (unsigned k = n; k-- > 0;) {
		in[k].thread = long64 && fn_threads(in[k].fn);
		in[k].run = in[k].thread && k + 1 < n && in[k + 1].thread ? in[k + 1].run + 1 : 0;
	}
}

static struct x86_block *build(struct x86_cpu *cpu, struct x86_block_cache *bc,
			       const uint8_t *p, uint64_t gpa, uint64_t lin, unsigned mkey)
{
	struct x86_insn tmp[BLK_MAX_INSNS];
	unsigned n = 0, off = 0;
	unsigned avail = SK_PAGE_SIZE - (gpa & (SK_PAGE_SIZE - 1));
	while (n < BLK_MAX_INSNS && off < avail) {
		bool ends, more;
		unsigned left = avail - off;
		if (!x86_decode(cpu, p + off, left < 15 ? left : 15, &tmp[n], &ends, &more)) {
			if (more) {
				if (n == 0)
					return build_crossing(cpu, bc, p, lin);
				break;
			}
			/* Invalid: #UD when (if) execution gets here. Its bytes
			 * are kept too, so that rewriting them is noticed. */
			tmp[n++] = ud_insn;
			off += left < 15 ? left : 15;
			break;
		}
		off += tmp[n].len;
		n++;
		if (ends)
			break;
	}
	mark_threaded(cpu, tmp, n);
	/* The instructions, a zeroed one after them (x86_thread reads it),
	 * then the bytes. */
	struct x86_block *b = malloc(sizeof(*b) + (n + 1) * sizeof(struct x86_insn) + off);
	if (!b)
		x86_emulation_failure(cpu);
	memcpy(b->insn, tmp, n * sizeof(struct x86_insn));
	memset(&b->insn[n], 0, sizeof(struct x86_insn));
	b->bytes = (uint8_t *)(b->insn + n + 1);
	sk_guest_copy(b->bytes, p, off);
	b->n = n;
	b->last = &b->insn[n - 1];
	b->ripmask = x86_long64(cpu) ? ~0ull : 0xffffffffull;
	b->nbytes = off;
	b->chain[0] = b->chain[1] = NULL;
	b->chain_next = 0;
	b->gpa = gpa;
	b->mkey = mkey;
	b->page = page_get(cpu, bc, gpa & ~(SK_PAGE_SIZE - 1));
	b->epoch = bc->epoch;
	b->ver = b->page->ver;
	unsigned h = blk_hash(gpa, mkey);
	b->next = bc->hash[h];
	bc->hash[h] = b;
	bc->nblocks++;
	return b;
}

/* Retire a block whose bytes changed; chains may still point at it. */
static void kill_block(struct x86_block_cache *bc, struct x86_block *b)
{
	struct x86_block **pp = &bc->hash[blk_hash(b->gpa, b->mkey)];
	while (*pp != b)
		pp = &(*pp)->next;
	*pp = b->next;
	b->epoch = 0;   /* never current: chains skip it on the stamps alone */
	b->next = bc->dead;
	bc->dead = b;
}

static inline bool stamps_ok(const struct x86_block_cache *bc, struct x86_block *b)
{
	return b->epoch == bc->epoch && b->ver == b->page->ver;
}

/* The block at cpu->rip, decoded if needed. May raise (#GP, #PF). */
static struct x86_block *lookup(struct x86_cpu *cpu, struct x86_block_cache *bc, uint64_t *linp)
{
	uint64_t rip = cpu->rip, lin;
	cpu->insn_rip = rip;
	if (x86_long64(cpu)) {
		lin = rip;
	} else {
		if (rip > cpu->seg[X86_CS].limit)
			x86_raise(cpu, X86_GP, true, 0);
		lin = (cpu->seg[X86_CS].base + rip) & 0xffffffffull;
	}
	*linp = lin;
	uint64_t gpa;
	const uint8_t *p = x86_fetch_ptr(cpu, lin, &gpa);
	if (!p)
		x86_emulation_failure(cpu);
	unsigned mkey = mode_key(cpu);
	for (struct x86_block *b = bc->hash[blk_hash(gpa, mkey)]; b; b = b->next) {
		if (b->gpa != gpa || b->mkey != mkey)
			continue;
		if (__builtin_expect(stamps_ok(bc, b), 1))
			return b;
		if (sk_guest_equal(p, b->bytes, b->nbytes)) {
			b->epoch = bc->epoch;
			b->ver = b->page->ver;
			return b;
		}
		kill_block(bc, b);
		break;
	}
	return build(cpu, bc, p, gpa, lin, mkey);
}

/* ---- the loop ---- */

/* The successor of prev when it starts in the same linear page (so the
 * same translation holds) and is still current; else NULL. A chain entry
 * always has prev's mode key (both were found under the same one), and a
 * retired block's epoch is 0, so the stamps are the only other check. */
static inline struct x86_block *chained(struct x86_cpu *cpu, struct x86_block_cache *bc,
					 struct x86_block *prev, uint64_t prev_lin, uint64_t *linp)
{
	uint64_t lin = x86_long64(cpu) ? cpu->rip
				       : (cpu->seg[X86_CS].base + cpu->rip) & 0xffffffffull;
	if ((lin ^ prev_lin) & ~(SK_PAGE_SIZE - 1))
		return NULL;
	uint64_t gpa = (prev->gpa & ~(SK_PAGE_SIZE - 1)) | (lin & (SK_PAGE_SIZE - 1));
	*linp = lin;
	struct x86_block *b = prev->chain[0];
	if (b && b->gpa == gpa && stamps_ok(bc, b))
		return b;
	b = prev->chain[1];
	if (b && b->gpa == gpa && stamps_ok(bc, b))
		return b;
	return NULL;
}

/* The single-step trap after an instruction executed with TF = 1. */
static void tf_trap(struct x86_cpu *cpu)
{
	cpu->dr6 |= 1u << 14;   /* BS */
	if (!x86_deliver(cpu, X86_DB, false, 0, false, cpu->rip))
		x86_exit_to_user(cpu);
}

/* Run the first instruction of b alone (single step, TF, interrupt
 * shadow). Returns the handler's result. */
static int run_one(struct x86_cpu *cpu, struct x86_block_cache *bc, struct x86_block *b)
{
	uint64_t ripmask = x86_long64(cpu) ? ~0ull : 0xffffffffull;
	/* A copy ending the block after it, so a threaded handler does not
	 * go on to the next instruction. */
	struct x86_insn one[2];
	one[0] = b->insn[0];
	memset(&one[1], 0, sizeof(one[1]));
	const struct x86_insn *i = one;
	uint64_t rip = cpu->rip;
	bc->cur = b;
	bc->cur_stale = false;
	bc->cur_last = NULL;
	cpu->insn_rip = rip;
	cpu->rip = (rip + i->len) & ripmask;
	int r = i->fn(cpu, i);
	bc->cur = NULL;
	return r;
}

/* Run b from its first instruction until one ends it; returns the last
 * handler's result. RIP is carried in a register from one instruction to
 * the next (not reloaded from cpu->rip, which would chain every
 * instruction behind a store-to-load round trip); a handler that moves RIP
 * and still returns X86_NEXT ends the block. */
static inline int run_block(struct x86_cpu *cpu, struct x86_block_cache *bc, struct x86_block *b)
{
	/* The block was found under the current mode key. */
	uint64_t ripmask = b->ripmask;
	const struct x86_insn *i = b->insn;
	uint64_t rip = cpu->rip;
	int r;
	bc->cur = b;
	bc->cur_stale = false;
	bc->cur_last = b->last;
	for (;; i++) {
		uint64_t next = (rip + i->len) & ripmask;
		cpu->insn_rip = rip;
		cpu->rip = next;
		r = i->fn(cpu, i);
		if (r != X86_NEXT || cpu->rip != next) {
			/* A threaded handler went on through i->run more (or
			 * stopped early in a block now stale, which the check
			 * below ends); anything else that moved RIP ends the
			 * block. */
			if (r != X86_NEXT || !i->run)
				break;
			i += i->run;
			next = cpu->rip;
		}
		if (i >= bc->cur_last)
			break;
		rip = next;
	}
	bc->cur = NULL;
	return r;
}

/* The block that follows b, which ended with result r and is not stale,
 * may be looked for in b's chain (same translation, same mode): near
 * branches (which change no mode) and running off the end keep the
 * translation; a taken Jcc may leave from the middle of a block. */
static inline bool may_chain(const struct x86_cpu *cpu, const struct x86_block *b, int r)
{
	return b->page && (r == X86_BRANCH || (r == X86_NEXT && b->mkey == mode_key(cpu)));
}

/* The block at cpu->rip: prev's successor through its chain, or looked up
 * (and chained to prev when it may be). */
static inline struct x86_block *next_block(struct x86_cpu *cpu, struct x86_block_cache *bc,
					   struct x86_block *prev, uint64_t prev_lin,
					   uint64_t *linp)
{
	struct x86_block *b = prev ? chained(cpu, bc, prev, prev_lin, linp) : NULL;
	if (b)
		return b;
	/* Only a lookup builds blocks, so the cache grows only here. */
	if (bc->nblocks > BLK_LIMIT) {
		do_flush(bc);
		prev = NULL;
	}
	b = lookup(cpu, bc, linp);
	if (prev && b->page && !((*linp ^ prev_lin) & ~(SK_PAGE_SIZE - 1))) {
		prev->chain[prev->chain_next] = b;
		prev->chain_next ^= 1;
	}
	return b;
}

/* Run b's first instruction alone (single step, TF, an interrupt
 * shadow). Returns the stop, or -1 to go on. */
static int step_block(struct x86_cpu *cpu, struct x86_block_cache *bc, struct x86_block *b,
		      bool single_step)
{
	bool tf = cpu->rflags & X86_TF;
	/* Read before the run: a flush may free b. */
	bool is_int = b->insn[0].fn == x86_h_int;
	int r = run_one(cpu, bc, b);
	if (bc->flush_pending)
		do_flush(bc);
	if (__builtin_expect(cpu->io_exit_retire, 0))
		x86_io_exit_retired(cpu);
	/* The shadow covered exactly the instruction that just retired. */
	if (cpu->shadow && cpu->shadow_rip == cpu->insn_rip)
		cpu->shadow = 0;
	/* INT n clears TF on delivery and takes no step trap. */
	if (tf && r != X86_HALT && !is_int)
		tf_trap(cpu);
	if (r == X86_HALT)
		return X86_STOP_HLT;
	if (single_step)
		return X86_STOP_STEP;
	return -1;
}

enum x86_stop x86_execute(struct x86_cpu *cpu, bool single_step)
{
	struct x86_block_cache *bc = cpu->blocks;
	_Atomic uint32_t *req = &cpu->vcpu->requests;
	bc->cur = NULL;
	cpu->io_exit_retire = false;
	if (bc->flush_pending)
		do_flush(bc);
	uint64_t lin;
	/* A single step always runs its instruction (the run loop uses it to
	 * finish an instruction whose IO completed). */
	if (single_step) {
		if (cpu->shadow && cpu->rip != cpu->shadow_rip)
			cpu->shadow = 0;
		return (enum x86_stop)step_block(cpu, bc, next_block(cpu, bc, NULL, 0, &lin), true);
	}
	struct x86_block *prev = NULL;   /* may chain to the next block */
	uint64_t prev_lin = 0;
	for (;;) {
		if (__builtin_expect(cpu->shadow, 0) && cpu->rip != cpu->shadow_rip)
			cpu->shadow = 0;
		if (atomic_load_explicit(req, memory_order_relaxed))
			return X86_STOP_REQUEST;
		if (cpu->event_waiting && (cpu->rflags & X86_IF) && !cpu->shadow)
			return X86_STOP_EVENT_WINDOW;
		struct x86_block *b = next_block(cpu, bc, prev, prev_lin, &lin);
		prev = NULL;
		if (__builtin_expect((cpu->rflags & X86_TF) || cpu->shadow, 0)) {
			int s = step_block(cpu, bc, b, false);
			if (s >= 0)
				return (enum x86_stop)s;
			continue;
		}
		int r = run_block(cpu, bc, b);
		/* A flush request and an exit waiting for the instruction's
		 * end both make the block stale. */
		if (__builtin_expect(bc->cur_stale, 0)) {
			if (bc->flush_pending)
				do_flush(bc);
			if (cpu->io_exit_retire)
				x86_io_exit_retired(cpu);
		} else if (may_chain(cpu, b, r)) {
			prev = b;
			prev_lin = lin;
		}
		if (r == X86_HALT)
			return X86_STOP_HLT;
	}
}
