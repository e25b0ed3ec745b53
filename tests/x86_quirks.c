/* KVM_CAP_DISABLE_QUIRKS / KVM_CAP_DISABLE_QUIRKS2 and the quirks softkvm
 * models: KVM_X86_QUIRK_FIX_HYPERCALL_INSN (the Intel vCPU's VMMCALL is
 * patched into VMCALL, or #UDs; with an AMD vendor in CPUID, VMMCALL is the
 * hypercall and VMCALL is patched into it, as on SVM) and KVM_X86_QUIRK_MWAIT_NEVER_UD_FAULTS
 * (MONITOR/MWAIT are NOPs, or #UD without CPUID.1:ECX.MONITOR); the third,
 * KVM_X86_QUIRK_MISC_ENABLE_NO_MWAIT (CPUID.1:ECX.MONITOR following
 * IA32_MISC_ENABLE.MWAIT), is exercised by the selftest monitor_mwait_test. */
#include "vm.h"

#include <errno.h>
#include <linux/kvm_para.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#define MY_QUIRKS (KVM_X86_QUIRK_FIX_HYPERCALL_INSN | KVM_X86_QUIRK_MWAIT_NEVER_UD_FAULTS | \
		   KVM_X86_QUIRK_MISC_ENABLE_NO_MWAIT)

/* A #UD handler that counts in EBX and skips the 3-byte instruction. */
GUEST_CODE(hc_guest, 32,
	"xor %ebx, %ebx\n"
	"mov $0x7777, %eax\n"
	"hc_insn:\n"
	"vmmcall\n"
	"add %ebx, %eax\n"
	"out %eax, $0x10\n"
	"hlt\n"
	"hc_ud:\n"
	"mov $0x100000, %ebx\n"
	"addl $3, (%esp)\n"
	"iret\n");
GUEST_LABEL(hc_insn);
GUEST_LABEL(hc_ud);

/* hc_guest with VMCALL. */
GUEST_CODE(hc_vmcall_guest, 32,
	"xor %ebx, %ebx\n"
	"mov $0x7777, %eax\n"
	"vmcall\n"
	"add %ebx, %eax\n"
	"out %eax, $0x10\n"
	"hlt\n");

GUEST_CODE(mw_guest, 32,
	"xor %ebx, %ebx\n"
	"xor %ecx, %ecx\n"
	"xor %edx, %edx\n"
	"mov $0x1000, %eax\n"
	"monitor\n"
	"mwait\n"
	"mov %ebx, %eax\n"
	"out %eax, $0x10\n"
	"hlt\n"
	"mw_ud:\n"
	"inc %ebx\n"
	"addl $3, (%esp)\n"
	"iret\n");
GUEST_LABEL(mw_ud);

static int disable(struct vm *vm, uint32_t cap, uint64_t mask, uint32_t flags)
{
	struct kvm_enable_cap c = {.cap = cap, .flags = flags, .args = {mask}};
	return ioctl(vm->fd, KVM_ENABLE_CAP, &c);
}

static void cap_rules(void)
{
	struct vm vm;
	vm_init(&vm);
	CHECK_EQ(MY_QUIRKS, check_ext(vm.kvm, KVM_CAP_DISABLE_QUIRKS2));
	CHECK_EQ(MY_QUIRKS, check_ext(vm.fd, KVM_CAP_DISABLE_QUIRKS2));
	CHECK_EQ(1, check_ext(vm.kvm, KVM_CAP_DISABLE_QUIRKS));
	CHECK_OK(disable(&vm, KVM_CAP_DISABLE_QUIRKS2, MY_QUIRKS, 0));
	CHECK_OK(disable(&vm, KVM_CAP_DISABLE_QUIRKS2, 0, 0));
	CHECK_ERRNO(disable(&vm, KVM_CAP_DISABLE_QUIRKS2, 1ull << 63, 0), EINVAL);
	CHECK_ERRNO(disable(&vm, KVM_CAP_DISABLE_QUIRKS2, 0, 1), EINVAL);
	/* The first version takes any mask. */
	CHECK_OK(disable(&vm, KVM_CAP_DISABLE_QUIRKS, ~0ull, 0));
	CHECK_ERRNO(disable(&vm, KVM_CAP_DISABLE_QUIRKS, 0, 1), EINVAL);
	vm_fini(&vm);
}

/* cap == 0: leave the quirks alone. Returns the guest's OUT value. */
static uint32_t run_hc(uint32_t cap, uint64_t mask, uint64_t mask2, uint8_t insn[3])
{
	struct vm vm;
	struct vcpu v;
	vm_init(&vm);
	if (cap)
		CHECK_OK(disable(&vm, cap, mask, 0));
	if (mask2 != ~0ull)
		CHECK_OK(disable(&vm, KVM_CAP_DISABLE_QUIRKS2, mask2, 0));
	vcpu_init(&vm, &v, 0);
	GUEST_LOAD(&vm, hc_guest);
	vcpu_setup(&v, MODE_PROT32, G_CODE);
	idt_set(&v, 6, GUEST_ADDR(hc_guest, hc_ud));
	uint32_t r = RUN_EXPECT_OUT(&v, 0x10);
	RUN_EXPECT_EXIT(&v, KVM_EXIT_HLT);
	memcpy(insn, vm.mem + GUEST_ADDR(hc_guest, hc_insn), 3);
	vcpu_fini(&v);
	vm_fini(&vm);
	return r;
}

static const uint8_t vmcall[3] = {0x0f, 0x01, 0xc1}, vmmcall[3] = {0x0f, 0x01, 0xd9};

static void fix_hypercall_on(void)
{
	uint8_t insn[3];
	/* Patched into VMCALL, then run: KVM's -KVM_ENOSYS for 0x7777. */
	CHECK_EQ((uint32_t)-KVM_ENOSYS, run_hc(0, 0, ~0ull, insn));
	CHECK(!memcmp(insn, vmcall, 3));
	/* Disabling only the other quirk leaves this one on. */
	CHECK_EQ((uint32_t)-KVM_ENOSYS,
		 run_hc(KVM_CAP_DISABLE_QUIRKS2, KVM_X86_QUIRK_MWAIT_NEVER_UD_FAULTS, ~0ull, insn));
	CHECK(!memcmp(insn, vmcall, 3));
	/* Not cumulative: a later call that omits the quirk turns it back on. */
	CHECK_EQ((uint32_t)-KVM_ENOSYS,
		 run_hc(KVM_CAP_DISABLE_QUIRKS2, KVM_X86_QUIRK_FIX_HYPERCALL_INSN, 0, insn));
	CHECK(!memcmp(insn, vmcall, 3));
}

static void fix_hypercall_off(void)
{
	uint8_t insn[3];
	/* #UD: the handler sets EBX, RAX keeps the hypercall number. */
	CHECK_EQ(0x107777u, run_hc(KVM_CAP_DISABLE_QUIRKS2, KVM_X86_QUIRK_FIX_HYPERCALL_INSN,
				   ~0ull, insn));
	CHECK(!memcmp(insn, vmmcall, 3));
	CHECK_EQ(0x107777u, run_hc(KVM_CAP_DISABLE_QUIRKS, KVM_X86_QUIRK_FIX_HYPERCALL_INSN,
				   ~0ull, insn));
	CHECK(!memcmp(insn, vmmcall, 3));
}

/* Number of #UDs MONITOR + MWAIT took. */
/* CPUID vendor AuthenticAMD: code's hypercall instruction (at G_CODE + 7)
 * after the run, and the guest's OUT value. */
static uint32_t run_hc_amd(const unsigned char *code, const unsigned char *end, uint8_t insn[3])
{
	struct vm vm;
	struct vcpu v;
	vm_init(&vm);
	vcpu_init(&vm, &v, 0);
	struct kvm_cpuid2 *c = cpuid_supported(vm.kvm);
	struct kvm_cpuid_entry2 *e = cpuid_entry(c, 0, 0);
	e->ebx = 0x68747541;   /* "AuthenticAMD" */
	e->edx = 0x69746e65;
	e->ecx = 0x444d4163;
	CHECK_OK(ioctl(v.fd, KVM_SET_CPUID2, c));
	free(c);
	guest_load(&vm, G_CODE, code, end);
	vcpu_setup(&v, MODE_PROT32, G_CODE);
	uint32_t r = RUN_EXPECT_OUT(&v, 0x10);
	memcpy(insn, vm.mem + G_CODE + 7, 3);
	vcpu_fini(&v);
	vm_fini(&vm);
	return r;
}

static void fix_hypercall_amd(void)
{
	uint8_t insn[3];
	/* VMMCALL is native: run as is. */
	CHECK_EQ((uint32_t)-KVM_ENOSYS, run_hc_amd(hc_guest, hc_guest_end, insn));
	CHECK(!memcmp(insn, vmmcall, 3));
	/* VMCALL is patched into VMMCALL. */
	CHECK_EQ((uint32_t)-KVM_ENOSYS, run_hc_amd(hc_vmcall_guest, hc_vmcall_guest_end, insn));
	CHECK(!memcmp(insn, vmmcall, 3));
}

static uint32_t run_mw(uint64_t disabled, bool cpuid_monitor)
{
	struct vm vm;
	struct vcpu v;
	vm_init(&vm);
	CHECK_OK(disable(&vm, KVM_CAP_DISABLE_QUIRKS2, disabled, 0));
	vcpu_init(&vm, &v, 0);
	struct kvm_cpuid2 *c = calloc(1, sizeof(*c) + sizeof(struct kvm_cpuid_entry2));
	c->nent = 1;
	c->entries[0].function = 1;
	c->entries[0].ecx = cpuid_monitor ? 1u << 3 : 0;
	CHECK_OK(ioctl(v.fd, KVM_SET_CPUID2, c));
	free(c);
	GUEST_LOAD(&vm, mw_guest);
	vcpu_setup(&v, MODE_PROT32, G_CODE);
	idt_set(&v, 6, GUEST_ADDR(mw_guest, mw_ud));
	uint32_t r = RUN_EXPECT_OUT(&v, 0x10);
	RUN_EXPECT_EXIT(&v, KVM_EXIT_HLT);
	vcpu_fini(&v);
	vm_fini(&vm);
	return r;
}

static void mwait_never_ud_on(void)
{
	CHECK_EQ(0, run_mw(0, false));
	CHECK_EQ(0, run_mw(0, true));
	CHECK_EQ(0, run_mw(KVM_X86_QUIRK_FIX_HYPERCALL_INSN, false));
}

static void mwait_never_ud_off(void)
{
	CHECK_EQ(2, run_mw(KVM_X86_QUIRK_MWAIT_NEVER_UD_FAULTS, false));
	CHECK_EQ(0, run_mw(KVM_X86_QUIRK_MWAIT_NEVER_UD_FAULTS, true));
}

int main(void)
{
	RUN_CASE(cap_rules);
	RUN_CASE(fix_hypercall_on);
	RUN_CASE(fix_hypercall_off);
	RUN_CASE(fix_hypercall_amd);
	RUN_CASE(mwait_never_ud_on);
	RUN_CASE(mwait_never_ud_off);
	return t_done();
}
