/* The arm64 KVM API of a vCPU and a VM: KVM_ARM_VCPU_INIT,
 * KVM_ARM_PREFERRED_TARGET, ONE_REG (core, FP/SIMD, system, timer and
 * firmware registers), KVM_GET_REG_LIST, MP state, KVM_IRQ_LINE, and the
 * capabilities, with the checks and errno of arch/arm64/kvm.
 */
#include <errno.h>
#include <stddef.h>

#include "arch/arm64/a64.h"
#include "kvm/uaccess.h"

#define CORE(f) (offsetof(struct kvm_regs, f) / sizeof(uint32_t))
#define NR_CORE_WORDS (sizeof(struct kvm_regs) / sizeof(uint32_t))
#define KVM_VCPU_MAX_FEATURES 7
#define PSCI_0_1 0
#define PSCI_0_2 2
#define PSCI_1_0 0x10000
#define PSCI_1_1 0x10001

static struct a64 *cpu_of(void *obj)
{
	return ((struct sk_vcpu *)obj)->arch_vcpu;
}

/* ---- core registers ---- */

/* The size a core register offset names, 0 for none (KVM's table). */
static unsigned core_size(uint64_t off)
{
	if (off < CORE(fp_regs.vregs[0]))
		return off <= CORE(spsr[KVM_NR_SPSR - 1]) && !(off & 1) ? 8 : 0;
	if (off < CORE(fp_regs.fpsr))
		return ((off - CORE(fp_regs.vregs[0])) & 3) ? 0 : 16;
	if (off == CORE(fp_regs.fpsr) || off == CORE(fp_regs.fpcr))
		return 4;
	return 0;
}

static void *core_ptr(struct a64 *c, uint64_t off, uint64_t *tmp)
{
	if (off < CORE(regs.sp))
		return &c->x[off / 2];
	if (off >= CORE(fp_regs.vregs[0]) && off < CORE(fp_regs.fpsr))
		return &c->v[(off - CORE(fp_regs.vregs[0])) / 4];
	return tmp;
}

static uint64_t core_read64(struct a64 *c, uint64_t off)
{
	if (off == CORE(regs.sp))
		return a64_get_sp(c, 0);
	if (off == CORE(regs.pc))
		return c->pc;
	if (off == CORE(regs.pstate))
		return c->pstate;
	if (off == CORE(sp_el1))
		return a64_get_sp(c, 1);
	if (off == CORE(elr_el1))
		return c->sr[SR_ELR];
	if (off == CORE(spsr[0]))
		return c->sr[SR_SPSR];
	return 0;   /* the AArch32 banked SPSRs: there is no AArch32 */
}

static int core_write64(struct a64 *c, uint64_t off, uint64_t v)
{
	if (off == CORE(regs.sp)) {
		a64_set_sp(c, 0, v);
	} else if (off == CORE(regs.pc)) {
		c->pc = v;
	} else if (off == CORE(regs.pstate)) {
		unsigned m = v & 0x1f;
		if (m != 0x0 && m != 0x4 && m != 0x5 && !(a64_has_el2(c) && (m == 0x8 || m == 0x9)))
			return -EINVAL;
		a64_set_pstate(c, (uint32_t)v);
	} else if (off == CORE(sp_el1)) {
		a64_set_sp(c, 1, v);
	} else if (off == CORE(elr_el1)) {
		c->sr[SR_ELR] = v;
	} else if (off == CORE(spsr[0])) {
		c->sr[SR_SPSR] = v;
	}
	return 0;
}

static int core_reg(struct a64 *c, uint64_t id, uint64_t addr, bool set)
{
	uint64_t off = id & ~(KVM_REG_ARCH_MASK | KVM_REG_SIZE_MASK | KVM_REG_ARM_CORE);
	if (off >= NR_CORE_WORDS || off + KVM_REG_SIZE(id) / 4 > NR_CORE_WORDS)
		return -ENOENT;
	unsigned size = core_size(off);
	if (!size || KVM_REG_SIZE(id) != size)
		return -EINVAL;
	uint64_t tmp = 0;
	void *p = core_ptr(c, off, &tmp);
	if (!set) {
		if (p == &tmp) {
			if (size == 4)
				tmp = off == CORE(fp_regs.fpsr) ? c->fpsr : c->fpcr;
			else
				tmp = core_read64(c, off);
		}
		return sk_copy_to_user((void *)(uintptr_t)addr, p, size) ? -EFAULT : 0;
	}
	uint8_t buf[16];
	if (sk_copy_from_user(buf, (void *)(uintptr_t)addr, size))
		return -EFAULT;
	if (p != &tmp) {
		memcpy(p, buf, size);
		return 0;
	}
	if (size == 4) {
		uint32_t w;
		memcpy(&w, buf, 4);
		if (off == CORE(fp_regs.fpsr))
			c->fpsr = w;
		else
			c->fpcr = w;
		return 0;
	}
	memcpy(&tmp, buf, 8);
	return core_write64(c, off, tmp);
}

/* ---- firmware registers ---- */

static const uint64_t fw_ids[] = {
	KVM_REG_ARM_PSCI_VERSION,
	KVM_REG_ARM_SMCCC_ARCH_WORKAROUND_1,
	KVM_REG_ARM_SMCCC_ARCH_WORKAROUND_2,
	KVM_REG_ARM_SMCCC_ARCH_WORKAROUND_3,
	KVM_REG_ARM_STD_BMAP,
	KVM_REG_ARM_STD_HYP_BMAP,
	KVM_REG_ARM_VENDOR_HYP_BMAP,
};

/* An interpreter has no speculation: every workaround is "not required". */
static uint64_t wa_level(uint64_t id)
{
	switch (id) {
	case KVM_REG_ARM_SMCCC_ARCH_WORKAROUND_1: return KVM_REG_ARM_SMCCC_ARCH_WORKAROUND_1_NOT_REQUIRED;
	case KVM_REG_ARM_SMCCC_ARCH_WORKAROUND_2: return KVM_REG_ARM_SMCCC_ARCH_WORKAROUND_2_NOT_REQUIRED;
	default: return KVM_REG_ARM_SMCCC_ARCH_WORKAROUND_3_NOT_REQUIRED;
	}
}

/* The SMCCC service bitmaps: what may be set, and where the VM keeps them. */
static const uint64_t bmap_valid[3] = {
	1ull << KVM_REG_ARM_STD_BIT_TRNG_V1_0,
	1ull << KVM_REG_ARM_STD_HYP_BIT_PV_TIME,
	(1ull << KVM_REG_ARM_VENDOR_HYP_BIT_FUNC_FEAT) | (1ull << KVM_REG_ARM_VENDOR_HYP_BIT_PTP),
};

static int fw_get(struct a64 *c, uint64_t id, uint64_t *v)
{
	switch (id) {
	case KVM_REG_ARM_PSCI_VERSION: *v = c->psci_version; return 0;
	case KVM_REG_ARM_SMCCC_ARCH_WORKAROUND_1:
	case KVM_REG_ARM_SMCCC_ARCH_WORKAROUND_2:
	case KVM_REG_ARM_SMCCC_ARCH_WORKAROUND_3:
		*v = wa_level(id);
		return 0;
	case KVM_REG_ARM_STD_BMAP:
	case KVM_REG_ARM_STD_HYP_BMAP:
	case KVM_REG_ARM_VENDOR_HYP_BMAP:
		*v = a64_fw_bmap(c->avm, (unsigned)(id & 0xffff));
		return 0;
	}
	return -ENOENT;
}

/* A VMM may lower a workaround level it restores (an older host's), never
 * promise more than this one gives. */
static int fw_set_wa(uint64_t id, uint64_t v)
{
	if (id != KVM_REG_ARM_SMCCC_ARCH_WORKAROUND_2)
		return (v & ~0xfull) || v > wa_level(id) ? -EINVAL : 0;
	if (v & ~(0xfull | KVM_REG_ARM_SMCCC_ARCH_WORKAROUND_2_ENABLED))
		return -EINVAL;
	if ((v & KVM_REG_ARM_SMCCC_ARCH_WORKAROUND_2_ENABLED) &&
	    (v & 0xf) != KVM_REG_ARM_SMCCC_ARCH_WORKAROUND_2_AVAIL)
		return -EINVAL;
	switch (v & 0xf) {
	case KVM_REG_ARM_SMCCC_ARCH_WORKAROUND_2_NOT_AVAIL:
	case KVM_REG_ARM_SMCCC_ARCH_WORKAROUND_2_UNKNOWN:
	case KVM_REG_ARM_SMCCC_ARCH_WORKAROUND_2_AVAIL:
	case KVM_REG_ARM_SMCCC_ARCH_WORKAROUND_2_NOT_REQUIRED:
		return 0;
	}
	return -EINVAL;
}

/* Frozen once a vCPU of the VM has run (KVM: EBUSY for another value). */
static int fw_set_bmap(struct a64 *c, unsigned which, uint64_t v)
{
	struct a64_vm *avm = c->avm;
	if (v & ~bmap_valid[which])
		return -EINVAL;
	pthread_mutex_lock(&avm->psci_lock);
	int r = 0;
	if (atomic_load(&avm->has_run))
		r = v == a64_fw_bmap(avm, which) ? 0 : -EBUSY;
	else
		avm->fw_bmap_off[which] = bmap_valid[which] & ~v;
	pthread_mutex_unlock(&avm->psci_lock);
	return r;
}

static int fw_set(struct a64 *c, uint64_t id, uint64_t v)
{
	switch (id) {
	case KVM_REG_ARM_PSCI_VERSION: {
		bool wants_02 = c->features & (1u << KVM_ARM_VCPU_PSCI_0_2);
		switch (v) {
		case PSCI_0_1:
			if (wants_02)
				return -EINVAL;
			c->psci_version = v;
			return 0;
		case PSCI_0_2: case PSCI_1_0: case PSCI_1_1:
			if (!wants_02)
				return -EINVAL;
			c->psci_version = v;
			return 0;
		}
		return -EINVAL;
	}
	case KVM_REG_ARM_SMCCC_ARCH_WORKAROUND_1:
	case KVM_REG_ARM_SMCCC_ARCH_WORKAROUND_2:
	case KVM_REG_ARM_SMCCC_ARCH_WORKAROUND_3:
		return fw_set_wa(id, v);
	case KVM_REG_ARM_STD_BMAP:
	case KVM_REG_ARM_STD_HYP_BMAP:
	case KVM_REG_ARM_VENDOR_HYP_BMAP:
		return fw_set_bmap(c, (unsigned)(id & 0xffff), v);
	}
	return -ENOENT;
}

/* ---- timer registers (note KVM's historical CNT/CVAL encodings) ----
 * Linux 6.1 has only the virtual timer's three: the KVM_REG_ARM_PTIMER_*
 * ids name CNTP_* system registers without userspace access (ENOENT). */

static bool is_timer(uint64_t id)
{
	return id == KVM_REG_ARM_TIMER_CTL || id == KVM_REG_ARM_TIMER_CNT || id == KVM_REG_ARM_TIMER_CVAL;
}

static uint64_t timer_get(struct a64 *c, uint64_t id)
{
	switch (id) {
	case KVM_REG_ARM_TIMER_CTL: return a64_timer_ctl_read(c, 0);
	case KVM_REG_ARM_TIMER_CNT: return a64_cntvct(c);
	default: return c->sr[SR_CNTV_CVAL];
	}
}

/* The VM has one virtual counter: KVM 6.1 moves every vCPU's offset. */
static void set_vm_cntvct(struct a64 *c, uint64_t vct)
{
	struct a64_vm *avm = c->avm;
	a64_timer_set_cnt(c, vct);
	pthread_mutex_lock(&avm->psci_lock);
	for (int i = 0; i < avm->ncpus; i++)
		avm->cpus[i]->cntvoff = c->cntvoff;
	pthread_mutex_unlock(&avm->psci_lock);
}

static void timer_set(struct a64 *c, uint64_t id, uint64_t v)
{
	switch (id) {
	case KVM_REG_ARM_TIMER_CTL: c->sr[SR_CNTV_CTL] = v & 3; break;
	case KVM_REG_ARM_TIMER_CNT: set_vm_cntvct(c, v); break;
	default: c->sr[SR_CNTV_CVAL] = v; break;
	}
}

/* ---- KVM_REG_ARM_DEMUX: CCSIDR_EL1 of each cache CLIDR_EL1 describes ---- */

#define DEMUX_CCSIDR(v) (KVM_REG_ARM64 | KVM_REG_SIZE_U32 | KVM_REG_ARM_DEMUX | KVM_REG_ARM_DEMUX_ID_CCSIDR | (v))
#define CSSELR_MAX 14

static int demux_reg(uint64_t id, uint64_t addr, bool set)
{
	if (id & ~(KVM_REG_ARCH_MASK | KVM_REG_SIZE_MASK | KVM_REG_ARM_COPROC_MASK |
		   ((1ull << KVM_REG_ARM_COPROC_SHIFT) - 1)))
		return -ENOENT;
	if ((id & KVM_REG_ARM_DEMUX_ID_MASK) != KVM_REG_ARM_DEMUX_ID_CCSIDR || KVM_REG_SIZE(id) != 4)
		return -ENOENT;
	unsigned csselr = (id & KVM_REG_ARM_DEMUX_VAL_MASK) >> KVM_REG_ARM_DEMUX_VAL_SHIFT;
	uint32_t val = csselr < CSSELR_MAX ? a64_ccsidr(csselr) : 0;
	if (!val)
		return -ENOENT;
	if (!set)
		return sk_copy_to_user((void *)(uintptr_t)addr, &val, 4) ? -EFAULT : 0;
	uint32_t w;
	if (sk_copy_from_user(&w, (void *)(uintptr_t)addr, 4))
		return -EFAULT;
	return w == val ? 0 : -EINVAL;   /* the caches are what they are */
}

/* ---- ONE_REG ---- */

static int one_reg(struct a64 *c, const struct kvm_one_reg *r, bool set)
{
	uint64_t id = r->id;
	if (!c->initialized)
		return -ENOEXEC;
	a64_apply_pending_reset(c);
	/* nothing arch-specific in the upper 32 bits but the size */
	if ((id & ~KVM_REG_SIZE_MASK) >> 32 != KVM_REG_ARM64 >> 32)
		return -EINVAL;
	if ((id & KVM_REG_ARM_COPROC_MASK) == KVM_REG_ARM_CORE)
		return core_reg(c, id, r->addr, set);
	if ((id & KVM_REG_ARM_COPROC_MASK) == KVM_REG_ARM_DEMUX)
		return demux_reg(id, r->addr, set);
	if (KVM_REG_SIZE(id) != 8)
		return -ENOENT;
	uint64_t v = 0;
	int err;
	if (set && sk_copy_from_user(&v, (void *)(uintptr_t)r->addr, 8))
		return -EFAULT;
	switch (id & KVM_REG_ARM_COPROC_MASK) {
	case KVM_REG_ARM_FW:
	case KVM_REG_ARM_FW_FEAT_BMAP:
		err = set ? fw_set(c, id, v) : fw_get(c, id, &v);
		break;
	case KVM_REG_ARM64_SYSREG:
		if (is_timer(id)) {
			if (set)
				timer_set(c, id, v);
			else
				v = timer_get(c, id);
			err = 0;
			break;
		}
		if (id & ~(KVM_REG_ARCH_MASK | KVM_REG_SIZE_MASK | KVM_REG_ARM_COPROC_MASK | 0xffff))
			return -ENOENT;
		err = set ? a64_sysreg_set_user(c, id & 0xffff, v) : a64_sysreg_get_user(c, id & 0xffff, &v);
		break;
	default:
		return -ENOENT;
	}
	if (err || set)
		return err;
	return sk_copy_to_user((void *)(uintptr_t)r->addr, &v, 8) ? -EFAULT : 0;
}

static long get_one_reg(void *obj, void *arg)
{
	return one_reg(cpu_of(obj), arg, false);
}

static long set_one_reg(void *obj, void *arg)
{
	return one_reg(cpu_of(obj), arg, true);
}

/* ---- KVM_GET_REG_LIST: core, firmware, timer, system registers, then
 * the DEMUX ones (KVM's order); what is listed depends on the features ---- */

static unsigned list_regs(uint32_t features, uint64_t *ids)
{
	unsigned n = 0;
	for (uint64_t off = 0; off < NR_CORE_WORDS; off++) {
		unsigned size = core_size(off);
		if (!size)
			continue;
		uint64_t sz = size == 4 ? KVM_REG_SIZE_U32 : size == 8 ? KVM_REG_SIZE_U64 : KVM_REG_SIZE_U128;
		if (ids)
			ids[n] = KVM_REG_ARM64 | sz | KVM_REG_ARM_CORE | off;
		n++;
	}
	for (unsigned i = 0; i < sizeof(fw_ids) / sizeof(fw_ids[0]); i++, n++)
		if (ids)
			ids[n] = fw_ids[i];
	static const uint64_t timers[] = {KVM_REG_ARM_TIMER_CTL, KVM_REG_ARM_TIMER_CNT, KVM_REG_ARM_TIMER_CVAL};
	for (unsigned i = 0; i < 3; i++, n++)
		if (ids)
			ids[n] = timers[i];
	n += a64_sysreg_list_for(features, ids ? ids + n : NULL);
	for (unsigned v = 0; v < CSSELR_MAX; v++)
		if (a64_ccsidr(v)) {
			if (ids)
				ids[n] = DEMUX_CCSIDR(v);
			n++;
		}
	return n;
}

/* The most any vCPU lists (every optional register bank on). */
static unsigned max_reg_count(void)
{
	static _Atomic unsigned n;
	if (!atomic_load(&n))
		atomic_store(&n, list_regs(~0u, NULL));
	return atomic_load(&n);
}

static size_t reg_list_size(const void *hdr)
{
	const struct kvm_reg_list *l = hdr;
	uint64_t n = l->n < max_reg_count() ? l->n : max_reg_count();
	return sizeof(*l) + n * sizeof(uint64_t);
}

static long get_reg_list(void *obj, void *arg)
{
	struct a64 *c = cpu_of(obj);
	struct kvm_reg_list *l = arg;
	if (!c->initialized)
		return -ENOEXEC;
	unsigned n = list_regs(c->features, NULL);
	uint64_t want = l->n;
	l->n = n;
	if (want < n)
		return -E2BIG;
	list_regs(c->features, (uint64_t *)l->reg);
	return 0;
}

/* ---- KVM_ARM_VCPU_INIT ---- */

static long vcpu_init(void *obj, void *arg)
{
	struct sk_vcpu *vcpu = obj;
	struct a64 *c = vcpu->arch_vcpu;
	const struct kvm_vcpu_init *init = arg;
	if (init->target != KVM_ARM_TARGET_GENERIC_V8)
		return -EINVAL;
	for (unsigned i = 0; i < sizeof(init->features) * 8; i++) {
		bool set = init->features[i / 32] & (1u << (i % 32));
		if (set && i >= A64_MAX_FEATURES)
			return -ENOENT;
	}
	uint32_t f = init->features[0];
	if (c->initialized && f != c->features)
		return -EINVAL;
	/* What is not emulated: AArch32 EL1, SVE, pointer auth. */
	if (f & ((1u << KVM_ARM_VCPU_EL1_32BIT) | (1u << KVM_ARM_VCPU_SVE) |
		 (1u << KVM_ARM_VCPU_PTRAUTH_ADDRESS) | (1u << KVM_ARM_VCPU_PTRAUTH_GENERIC)))
		return -EINVAL;
	c->features = f;
	a64_reset(c);
	c->psci_version = (f & (1u << KVM_ARM_VCPU_PSCI_0_2)) ? PSCI_1_1 : PSCI_0_1;
	atomic_store(&c->power, (f & (1u << KVM_ARM_VCPU_POWER_OFF)) ? PWR_OFF : PWR_ON);
	c->initialized = true;
	return 0;
}

static long preferred_target(void *obj, void *arg)
{
	struct kvm_vcpu_init *init = arg;
	memset(init, 0, sizeof(*init));
	init->target = KVM_ARM_TARGET_GENERIC_V8;
	return 0;
}

/* ---- MP state ---- */

static long get_mp_state(void *obj, void *arg)
{
	struct a64 *c = cpu_of(obj);
	struct kvm_mp_state *mp = arg;
	mp->mp_state = atomic_load(&c->power) == PWR_ON ? KVM_MP_STATE_RUNNABLE : KVM_MP_STATE_STOPPED;
	return 0;
}

static long set_mp_state(void *obj, void *arg)
{
	struct a64 *c = cpu_of(obj);
	const struct kvm_mp_state *mp = arg;
	switch (mp->mp_state) {
	case KVM_MP_STATE_RUNNABLE:
		atomic_store(&c->power, PWR_ON);
		return 0;
	case KVM_MP_STATE_STOPPED:
		atomic_store(&c->power, PWR_OFF);
		return 0;
	case KVM_MP_STATE_SUSPENDED:
		atomic_store(&c->power, PWR_ON);
		c->wfi = true;
		return 0;
	}
	return -EINVAL;
}

/* ---- KVM_IRQ_LINE without an in-kernel irqchip ---- */

static long irq_line(void *obj, void *arg)
{
	struct sk_vm *vm = obj;
	const struct kvm_irq_level *l = arg;
	if (a64_vgic_present(vm))
		return a64_vgic_irq_line(vm, l);
	uint32_t irq = l->irq;
	unsigned type = (irq >> KVM_ARM_IRQ_TYPE_SHIFT) & KVM_ARM_IRQ_TYPE_MASK;
	unsigned idx = ((irq >> KVM_ARM_IRQ_VCPU_SHIFT) & KVM_ARM_IRQ_VCPU_MASK) |
		       (((irq >> KVM_ARM_IRQ_VCPU2_SHIFT) & KVM_ARM_IRQ_VCPU2_MASK) << 8);
	unsigned num = (irq >> KVM_ARM_IRQ_NUM_SHIFT) & KVM_ARM_IRQ_NUM_MASK;
	if (type != KVM_ARM_IRQ_TYPE_CPU)
		return type == KVM_ARM_IRQ_TYPE_SPI || type == KVM_ARM_IRQ_TYPE_PPI ? -ENXIO : -EINVAL;
	pthread_mutex_lock(&vm->lock);
	struct sk_vcpu *vcpu = (int)idx < vm->nr_vcpus ? vm->vcpus[idx] : NULL;
	pthread_mutex_unlock(&vm->lock);
	if (!vcpu)
		return -EINVAL;
	if (num > KVM_ARM_IRQ_CPU_FIQ)
		return -EINVAL;
	struct a64 *c = vcpu->arch_vcpu;
	uint32_t bit = 1u << num;
	uint32_t old = l->level ? atomic_fetch_or(&c->lines, bit) : atomic_fetch_and(&c->lines, ~bit);
	if (!(old & bit) && l->level) {
		sk_vcpu_request(vcpu, SK_REQ_EVENT);
		a64_kick(c);
	}
	return 0;
}

/* ---- KVM_GET/SET_VCPU_EVENTS: SError and external data abort injection ---- */

static long get_events(void *obj, void *arg)
{
	struct a64 *c = cpu_of(obj);
	struct kvm_vcpu_events *e = arg;
	memset(e, 0, sizeof(*e));
	e->exception.serror_pending = c->serror_pending;
	/* a pending external abort is never reported back */
	return 0;
}

static long set_events(void *obj, void *arg)
{
	struct a64 *c = cpu_of(obj);
	const struct kvm_vcpu_events *e = arg;
	for (unsigned i = 0; i < sizeof(e->reserved) / sizeof(e->reserved[0]); i++)
		if (e->reserved[i])
			return -EINVAL;
	for (unsigned i = 0; i < sizeof(e->exception.pad); i++)
		if (e->exception.pad[i])
			return -EINVAL;
	if (e->exception.serror_pending && e->exception.serror_has_esr)
		return -EINVAL;   /* an ESR needs RAS (KVM_CAP_ARM_INJECT_SERROR_ESR): not offered */
	if (e->exception.serror_pending) {
		c->serror_pending = true;
		c->serror_iss = ISS_ISV;
	}
	if (e->exception.ext_dabt_pending) {
		/* The access the last exit reported does not complete: the
		 * instruction takes a synchronous external abort instead. */
		c->mmio.pending = false;
		a64_raise(c, c->el ? EC_DABT_CUR : EC_DABT_LOW, c->abort_fsc ? c->abort_fsc : FSC_EXT,
			  c->abort_va, true, c->pc);
	}
	return 0;
}

/* ---- KVM_ARM_VCPU_PVTIME_CTRL: where the guest's stolen time lives ---- */

/* Is gpa in a memslot? The authoritative map (a snapshot may lag). */
static bool gpa_mapped(struct sk_vm *vm, uint64_t gpa)
{
	bool found = false;
	pthread_mutex_lock(&vm->lock);
	const struct sk_slotmap *mp = &vm->mem.map[0];
	for (int i = 0; i < mp->n && !found; i++)
		found = sk_slot_contains(&mp->slots[i], gpa);
	pthread_mutex_unlock(&vm->lock);
	return found;
}

static int pvtime_set_attr(struct a64 *c, const struct kvm_device_attr *a)
{
	uint64_t ipa;
	if (a->attr != KVM_ARM_VCPU_PVTIME_IPA)
		return -ENXIO;
	if (sk_copy_from_user(&ipa, (void *)(uintptr_t)a->addr, sizeof(ipa)))
		return -EFAULT;
	if (ipa & 63)
		return -EINVAL;
	if (c->steal_set)
		return -EEXIST;
	if (!gpa_mapped(c->vm, ipa))
		return -EINVAL;
	c->steal_base = ipa;
	c->steal_set = true;
	return 0;
}

static int pvtime_get_attr(struct a64 *c, const struct kvm_device_attr *a)
{
	if (a->attr != KVM_ARM_VCPU_PVTIME_IPA)
		return -ENXIO;
	uint64_t ipa = c->steal_set ? c->steal_base : ~0ull;   /* GPA_INVALID */
	return sk_copy_to_user((void *)(uintptr_t)a->addr, &ipa, sizeof(ipa)) ? -EFAULT : 0;
}

/* ---- KVM_{SET,GET,HAS}_DEVICE_ATTR on the vCPU: PMU, timer, PV time ---- */

static long set_dev_attr(void *obj, void *arg)
{
	struct a64 *c = cpu_of(obj);
	const struct kvm_device_attr *a = arg;
	switch (a->group) {
	case KVM_ARM_VCPU_PMU_V3_CTRL: return a64_pmu_set_attr(c, a);
	case KVM_ARM_VCPU_TIMER_CTRL: return a64_timer_set_attr(c, a);
	case KVM_ARM_VCPU_PVTIME_CTRL: return pvtime_set_attr(c, a);
	}
	return -ENXIO;
}

static long get_dev_attr(void *obj, void *arg)
{
	struct a64 *c = cpu_of(obj);
	const struct kvm_device_attr *a = arg;
	switch (a->group) {
	case KVM_ARM_VCPU_PMU_V3_CTRL: return a64_pmu_get_attr(c, a);
	case KVM_ARM_VCPU_TIMER_CTRL: return a64_timer_get_attr(c, a);
	case KVM_ARM_VCPU_PVTIME_CTRL: return pvtime_get_attr(c, a);
	}
	return -ENXIO;
}

static long has_dev_attr(void *obj, void *arg)
{
	struct a64 *c = cpu_of(obj);
	const struct kvm_device_attr *a = arg;
	switch (a->group) {
	case KVM_ARM_VCPU_PMU_V3_CTRL: return a64_pmu_has_attr(c, a);
	case KVM_ARM_VCPU_TIMER_CTRL: return a64_timer_has_attr(c, a);
	case KVM_ARM_VCPU_PVTIME_CTRL: return a->attr == KVM_ARM_VCPU_PVTIME_IPA ? 0 : -ENXIO;
	}
	return -ENXIO;
}

/* ---- KVM_SET_GUEST_DEBUG ---- */

static long set_guest_debug(void *obj, void *arg)
{
	return a64_dbg_set_guest_debug(cpu_of(obj), arg);
}

/* ---- capabilities ---- */

long a64_check_extension(struct sk_vm *vm, long ext)
{
	switch (ext) {
	case KVM_CAP_ONE_REG:
	case KVM_CAP_ARM_PSCI:
	case KVM_CAP_ARM_PSCI_0_2:
	case KVM_CAP_MP_STATE:
	case KVM_CAP_ARM_NISV_TO_USER:
	case KVM_CAP_ARM_IRQ_LINE_LAYOUT_2:
	case KVM_CAP_ARM_USER_IRQ:
	case KVM_CAP_VCPU_EVENTS:
	case KVM_CAP_ARM_INJECT_EXT_DABT:
	case KVM_CAP_SET_GUEST_DEBUG:
	case KVM_CAP_ARM_SEA_TO_USER:
	case KVM_CAP_ARM_EL2:
	case KVM_CAP_ARM_PMU_V3:
	case KVM_CAP_VCPU_ATTRIBUTES:
	case KVM_CAP_PTP_KVM:
	case KVM_CAP_ARM_SYSTEM_SUSPEND:
	case KVM_CAP_STEAL_TIME:
		return 1;
	case KVM_CAP_ARM_VM_IPA_SIZE:
		return 40;
	case KVM_CAP_GUEST_DEBUG_HW_BPS:
		return A64_NBRP;
	case KVM_CAP_GUEST_DEBUG_HW_WPS:
		return A64_NWRP;
	default:
		return 0;
	}
}

const struct sk_ioctl a64_vcpu_ioctls[] = {
	{KVM_ARM_VCPU_INIT, vcpu_init, NULL, 0},
	{KVM_GET_ONE_REG, get_one_reg, NULL, 0},
	{KVM_SET_ONE_REG, set_one_reg, NULL, 0},
	{KVM_GET_REG_LIST, get_reg_list, reg_list_size, SK_IOC_COPYOUT_ON_ERROR},
	{KVM_GET_MP_STATE, get_mp_state, NULL, 0},
	{KVM_SET_MP_STATE, set_mp_state, NULL, 0},
	{KVM_GET_VCPU_EVENTS, get_events, NULL, 0},
	{KVM_SET_VCPU_EVENTS, set_events, NULL, 0},
	{KVM_SET_GUEST_DEBUG, set_guest_debug, NULL, 0},
	{KVM_SET_DEVICE_ATTR, set_dev_attr, NULL, 0},
	{KVM_GET_DEVICE_ATTR, get_dev_attr, NULL, 0},
	{KVM_HAS_DEVICE_ATTR, has_dev_attr, NULL, 0},
	{0, NULL, NULL, 0},
};

const struct sk_ioctl a64_vm_ioctls[] = {
	{KVM_ARM_PREFERRED_TARGET, preferred_target, NULL, 0},
	{KVM_IRQ_LINE, irq_line, NULL, 0},
	{0, NULL, NULL, 0},
};

const struct sk_ioctl a64_sys_ioctls[] = {
	{0, NULL, NULL, 0},
};
