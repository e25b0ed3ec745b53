/* Flow "nisv": with KVM_CAP_ARM_NISV_TO_USER, an MMIO access whose syndrome
 * KVM cannot use (LDP/STP, a load/store with base writeback) exits with
 * KVM_EXIT_ARM_NISV instead of failing KVM_RUN. The VMM then does what the
 * hardware could not describe: it reads the instruction at the guest's PC
 * (MMU off in this flow, so the PC is an IPA), decodes it, performs the
 * accesses on its device, writes the registers back with ONE_REG and steps
 * over it. An access no device claims gets an external abort instead
 * (KVM_SET_VCPU_EVENTS ext_dabt_pending). */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>

#include "vmm.h"

#define PSTATE_SP 1ull	/* M[0]: SP_ELx, else SP_EL0 */

/* One decoded load/store: a pair (LDP/STP/LDPSW) or one register with
 * pre/post-index writeback. */
struct ldst {
	const char *form;
	bool load, pair, sign, dst64, wb, post;
	unsigned size, rt, rt2, rn;
	int64_t off;
};

static int64_t sext(uint64_t v, unsigned bits)
{
	uint64_t m = 1ull << (bits - 1);
	v &= (m << 1) - 1;
	return (int64_t)((v ^ m) - m);
}

/* LDP/STP/LDNP/STNP/LDPSW, general registers. */
static bool decode_pair(uint32_t insn, struct ldst *a)
{
	static const char *const forms[4] = {
		"no-allocate", "post-index", "signed-offset", "pre-index",
	};
	unsigned opc = insn >> 30, idx = (insn >> 23) & 3;

	if ((insn & 0x3e000000) != 0x28000000)
		return false;
	a->load = insn & (1u << 22);
	if (opc == 3 || (opc == 1 && !a->load))
		return false;	/* reserved; STGP (MTE) */
	a->pair = true;
	a->sign = opc == 1;
	a->dst64 = opc != 0;
	a->size = opc == 2 ? 8 : 4;
	a->off = sext(insn >> 15, 7) * (int64_t)a->size;
	a->post = idx == 1;
	a->wb = idx == 1 || idx == 3;
	a->form = forms[idx];
	return true;
}

/* LDR/STR (immediate) with pre- or post-index writeback. */
static bool decode_single_wb(uint32_t insn, struct ldst *a)
{
	unsigned size = insn >> 30, opc = (insn >> 22) & 3;

	if ((insn & 0x3f200400) != 0x38000400)
		return false;
	if (opc >= 2 && (size == 3 || (size == 2 && opc == 3)))
		return false;	/* unallocated */
	a->load = opc != 0;
	a->sign = opc >= 2;
	a->dst64 = size == 3 || opc == 2;
	a->size = 1u << size;
	a->off = sext(insn >> 12, 9);
	a->post = !(insn & (1u << 11));
	a->wb = true;
	a->form = a->post ? "post-index" : "pre-index";
	return true;
}

static bool decode(uint32_t insn, struct ldst *a)
{
	memset(a, 0, sizeof(*a));
	a->rt = insn & 31;
	a->rn = (insn >> 5) & 31;
	a->rt2 = (insn >> 10) & 31;
	return decode_pair(insn, a) || decode_single_wb(insn, a);
}

static uint64_t xreg_id(unsigned n)
{
	return vmm_core_reg_id(offsetof(struct kvm_regs, regs.regs[n]));
}

/* Register 31 as a base is the current SP: SP_EL1 in EL1h. */
static uint64_t base_id(struct vmm *vmm, unsigned rn)
{
	uint64_t pstate = 0;

	if (rn != 31)
		return xreg_id(rn);
	vmm_get_reg(vmm, vmm_core_reg_id(offsetof(struct kvm_regs,
						   regs.pstate)), &pstate);
	return (pstate & PSTATE_SP)
		? vmm_core_reg_id(offsetof(struct kvm_regs, sp_el1))
		: vmm_core_reg_id(offsetof(struct kvm_regs, regs.sp));
}

static int get_rt(struct vmm *vmm, unsigned rt, uint64_t *v)
{
	*v = 0;		/* register 31 as data is XZR */
	return rt == 31 ? 0 : vmm_get_reg(vmm, xreg_id(rt), v);
}

static int set_rt(struct vmm *vmm, unsigned rt, uint64_t v)
{
	return rt == 31 ? 0 : vmm_set_reg(vmm, xreg_id(rt), v);
}

static int inject_abort(struct vmm *vmm)
{
	if (vmm_inject_ext_dabt(vmm) < 0)
		return -1;
	vmm->nisv_aborted++;
	return 0;
}

/* Does the accesses; the loaded values in val[]. */
static void do_accesses(struct vmm *vmm, const struct ldst *a, uint64_t addr,
			uint64_t val[2])
{
	for (unsigned i = 0; i < (a->pair ? 2u : 1u); i++) {
		uint8_t data[8] = { 0 };
		uint64_t v = val[i];

		if (!a->load)
			for (unsigned b = 0; b < a->size; b++)
				data[b] = (uint8_t)(v >> (8 * b));
		mmio_access(vmm, addr + i * a->size, !a->load, data, a->size);
		if (!a->load)
			continue;
		v = 0;
		for (unsigned b = 0; b < a->size; b++)
			v |= (uint64_t)data[b] << (8 * b);
		if (a->sign)
			v = (uint64_t)sext(v, 8 * a->size);
		val[i] = a->dst64 ? v : (uint32_t)v;
	}
}

/* 0: emulated; 1: no device there (abort the guest); -1: VMM failure. */
static int emulate(struct vmm *vmm, const struct ldst *a, uint64_t pc)
{
	uint64_t bid = base_id(vmm, a->rn), base, val[2] = { 0, 0 };

	if (vmm_get_reg(vmm, bid, &base) < 0)
		return -1;
	uint64_t addr = a->post ? base : base + (uint64_t)a->off;
	if (!mmio_find(vmm, addr) ||
	    !mmio_find(vmm, addr + (a->pair ? 2 : 1) * a->size - 1))
		return 1;
	if (!a->load && (get_rt(vmm, a->rt, &val[0]) < 0 ||
			 (a->pair && get_rt(vmm, a->rt2, &val[1]) < 0)))
		return -1;
	do_accesses(vmm, a, addr, val);
	if (a->load && (set_rt(vmm, a->rt, val[0]) < 0 ||
			(a->pair && set_rt(vmm, a->rt2, val[1]) < 0)))
		return -1;
	if (a->wb && vmm_set_reg(vmm, bid, base + (uint64_t)a->off) < 0)
		return -1;
	return vmm_set_reg(vmm, vmm_core_reg_id(offsetof(struct kvm_regs,
						 regs.pc)), pc + 4);
}

static int fetch(struct vmm *vmm, uint64_t pc, uint32_t *insn)
{
	if (pc < VMM_RAM_BASE || pc - VMM_RAM_BASE > vmm->mem_size - 4 ||
	    (pc & 3))
		return -1;
	memcpy(insn, vmm->mem + (pc - VMM_RAM_BASE), 4);
	return 0;
}

void nisv_handle(struct vmm *vmm)
{
	uint64_t ipa = vmm->run->arm_nisv.fault_ipa;
	uint64_t iss = vmm->run->arm_nisv.esr_iss;
	uint64_t pc;
	uint32_t insn = 0;
	struct ldst a;
	int r = 1;

	if (vmm_get_reg(vmm, vmm_core_reg_id(offsetof(struct kvm_regs,
						   regs.pc)), &pc) < 0)
		goto failed;
	if (fetch(vmm, pc, &insn) == 0 && decode(insn, &a))
		r = emulate(vmm, &a, pc);
	if (r < 0)
		goto failed;
	printf("vmm: KVM_EXIT_ARM_NISV fault_ipa=%#llx esr_iss=%#llx "
	       "insn=%08x: ", (unsigned long long)ipa,
	       (unsigned long long)iss, insn);
	if (r == 0) {
		vmm->nisv_emulated++;
		printf("%s%s %u-bit %s, emulated\n", a.load ? "ld" : "st",
		       a.pair ? "p" : "r", a.size * 8, a.form);
		return;
	}
	printf("no device, external abort injected\n");
	if (inject_abort(vmm) == 0)
		return;
failed:
	fprintf(stderr, "softkvm-vmm-arm64: cannot handle the NISV exit\n");
	vmm->status = VMM_STATUS_ERROR;
	vmm->done = true;
}

int nisv_init(struct vmm *vmm)
{
	struct kvm_enable_cap cap = { .cap = KVM_CAP_ARM_NISV_TO_USER };

	if (ioctl(vmm->vm_fd, KVM_ENABLE_CAP, &cap) < 0) {
		fprintf(stderr, "softkvm-vmm-arm64: KVM_CAP_ARM_NISV_TO_USER: "
			"%s\n", strerror(errno));
		return -1;
	}
	return scratch_init(vmm);
}

void nisv_report(const struct vmm *vmm)
{
	printf("vmm: %u NISV accesses emulated, %u external aborts injected\n",
	       vmm->nisv_emulated, vmm->nisv_aborted);
}
