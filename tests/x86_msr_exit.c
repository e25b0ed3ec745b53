/* User-space MSR exits and the MSR filter (KVM_CAP_X86_USER_SPACE_MSR,
 * KVM_X86_SET_MSR_FILTER), and the feature MSRs of the system fd.
 *
 * A guest RDMSR/WRMSR that fails for a reason userspace asked for (UNKNOWN
 * MSR, INVAL access, FILTER denial) exits with KVM_EXIT_X86_RDMSR/WRMSR,
 * RIP on the instruction; on re-entry the guest gets run->msr.data (RDMSR)
 * or #GP when run->msr.error is set, and RIP advances only on success. A
 * reason not asked for is #GP as before. KVM_GET/SET_MSRS ignore the filter.
 */
#include "vm.h"

#include <stdlib.h>
#include <sys/ioctl.h>

#define MSR_UNKNOWN 0xdeadbeefu
#define MSR_PAT 0x277u
#define MSR_STAR 0xc0000081u
#define MSR_PERF_CAPABILITIES 0x345u
#define ALL_REASONS (KVM_MSR_EXIT_REASON_INVAL | KVM_MSR_EXIT_REASON_UNKNOWN | \
		     KVM_MSR_EXIT_REASON_FILTER)

/* Each step reports on a port; #GP reports the faulting EIP on 0x1f and
 * skips the 2-byte RDMSR/WRMSR. */
GUEST_CODE(mx_guest, 32,
	"mov $0xdeadbeef, %ecx\n"
	"mx_rd1: rdmsr\n"
	"out %eax, $0x10\n"
	"mov %edx, %eax\n"
	"out %eax, $0x11\n"
	"mov $0x1234, %eax\n"
	"mov $0x5678, %edx\n"
	"mx_wr1: wrmsr\n"
	"out %al, $0x12\n"
	"mx_rd2: rdmsr\n"
	"out %al, $0x12\n"
	"mov $0x277, %ecx\n"          /* PAT with invalid memory types: INVAL */
	"mov $0x08080808, %eax\n"
	"mov %eax, %edx\n"
	"mx_wr2: wrmsr\n"
	"out %al, $0x13\n"            /* sync: the host installs a filter */
	"mov $0xc0000081, %ecx\n"
	"mov $0x11112222, %eax\n"
	"mov $0x00100008, %edx\n"
	"wrmsr\n"                     /* STAR writes are allowed: no exit */
	"xor %eax, %eax\n"
	"xor %edx, %edx\n"
	"rdmsr\n"                     /* STAR reads are denied: FILTER exit */
	"out %eax, $0x10\n"
	"out %al, $0x14\n"            /* sync: the host turns exits off */
	"mx_rd3: rdmsr\n"             /* filtered, no exit: #GP */
	"mov $0xdeadbeef, %ecx\n"
	"mx_rd4: rdmsr\n"             /* unknown, no exit: #GP */
	"out %al, $0x15\n"
	"hlt\n"
	"mx_gp: mov 4(%esp), %eax\n"
	"out %eax, $0x1f\n"
	"addl $2, 4(%esp)\n"
	"add $4, %esp\n"
	"iret\n");
GUEST_LABEL(mx_rd1);
GUEST_LABEL(mx_wr1);
GUEST_LABEL(mx_rd2);
GUEST_LABEL(mx_wr2);
GUEST_LABEL(mx_rd3);
GUEST_LABEL(mx_rd4);
GUEST_LABEL(mx_gp);

/* Reads MSR_PLATFORM_INFO: the value on 0x10, or #GP on 0x1f. */
GUEST_CODE(pi_guest, 32,
	"mov $0xce, %ecx\n"
	"rdmsr\n"
	"out %eax, $0x10\n"
	"hlt\n"
	"pi_gp: out %al, $0x1f\n"
	"hlt\n");
GUEST_LABEL(pi_gp);

static int enable_user_msr(struct vm *vm, uint64_t mask)
{
	struct kvm_enable_cap cap = {.cap = KVM_CAP_X86_USER_SPACE_MSR, .args = {mask}};
	return ioctl(vm->fd, KVM_ENABLE_CAP, &cap);
}


/* Run; the exit must be RDMSR/WRMSR of idx for reason, RIP at rip. */
static bool expect_msr_exit(struct vcpu *v, uint32_t exit, uint32_t idx, uint32_t reason,
			    uint64_t rip, int line)
{
	if (!t_check(run_expect_exit_at(v, exit, __FILE__, line), __FILE__, line, "MSR exit"))
		return false;
	t_check_eq(idx, v->run->msr.index, __FILE__, line, "index", "run->msr.index");
	t_check_eq(reason, v->run->msr.reason, __FILE__, line, "reason", "run->msr.reason");
	t_check_eq(0, v->run->msr.error, __FILE__, line, "0", "run->msr.error");
	t_check_eq(rip, get_regs(v).rip, __FILE__, line, "rip", "regs.rip");
	return true;
}
#define EXPECT_RDMSR(v, idx, reason, rip) \
	expect_msr_exit((v), KVM_EXIT_X86_RDMSR, (idx), (reason), (rip), __LINE__)
#define EXPECT_WRMSR(v, idx, reason, rip) \
	expect_msr_exit((v), KVM_EXIT_X86_WRMSR, (idx), (reason), (rip), __LINE__)

static void caps_and_errors(void)
{
	struct vm vm;
	vm_init(&vm);
	CHECK_EQ(1, check_ext(vm.kvm, KVM_CAP_X86_USER_SPACE_MSR));
	CHECK_EQ(1, check_ext(vm.kvm, KVM_CAP_X86_MSR_FILTER));
	CHECK_ERRNO(enable_user_msr(&vm, 1u << 3), EINVAL);
	CHECK_OK(enable_user_msr(&vm, ALL_REASONS));
	CHECK_OK(enable_user_msr(&vm, 0));

	uint8_t bits[KVM_MSR_FILTER_MAX_BITMAP_SIZE];
	memset(bits, 0xff, sizeof(bits));
	struct kvm_msr_filter f;
	memset(&f, 0, sizeof(f));
	f.flags = 2;
	CHECK_ERRNO(ioctl(vm.fd, KVM_X86_SET_MSR_FILTER, &f), EINVAL);
	f.flags = KVM_MSR_FILTER_DEFAULT_DENY;   /* deny everything: refused */
	CHECK_ERRNO(ioctl(vm.fd, KVM_X86_SET_MSR_FILTER, &f), EINVAL);
	f.flags = KVM_MSR_FILTER_DEFAULT_ALLOW;
	CHECK_OK(ioctl(vm.fd, KVM_X86_SET_MSR_FILTER, &f));
	f.ranges[3] = (struct kvm_msr_filter_range){.flags = 0, .nmsrs = 8, .base = 0, .bitmap = bits};
	CHECK_ERRNO(ioctl(vm.fd, KVM_X86_SET_MSR_FILTER, &f), EINVAL);
	f.ranges[3].flags = 4;
	CHECK_ERRNO(ioctl(vm.fd, KVM_X86_SET_MSR_FILTER, &f), EINVAL);
	f.ranges[3].flags = KVM_MSR_FILTER_READ;
	f.ranges[3].nmsrs = KVM_MSR_FILTER_MAX_BITMAP_SIZE * 8 + 1;
	CHECK_ERRNO(ioctl(vm.fd, KVM_X86_SET_MSR_FILTER, &f), EINVAL);
	f.ranges[3].nmsrs = KVM_MSR_FILTER_MAX_BITMAP_SIZE * 8;
	CHECK_OK(ioctl(vm.fd, KVM_X86_SET_MSR_FILTER, &f));
	/* The bitmap is the caller's memory, read through a checked copy. */
	f.ranges[3].bitmap = (uint8_t *)8;
	CHECK_ERRNO(ioctl(vm.fd, KVM_X86_SET_MSR_FILTER, &f), EFAULT);
	f.ranges[3].bitmap = bits;
	f.ranges[3].nmsrs = 0;   /* an empty range is skipped, whatever its flags */
	f.ranges[3].flags = 0;
	f.flags = KVM_MSR_FILTER_DEFAULT_DENY;
	f.ranges[5] = (struct kvm_msr_filter_range){.flags = KVM_MSR_FILTER_WRITE, .nmsrs = 1,
						    .base = MSR_STAR, .bitmap = bits};
	CHECK_OK(ioctl(vm.fd, KVM_X86_SET_MSR_FILTER, &f));
	vm_fini(&vm);
}

static void exits(void)
{
	struct vm vm;
	struct vcpu v;
	vm_init(&vm);
	vcpu_init(&vm, &v, 0);
	GUEST_LOAD(&vm, mx_guest);
	vcpu_setup(&v, MODE_PROT32, G_CODE);
	idt_set(&v, 13, GUEST_ADDR(mx_guest, mx_gp));
	CHECK_OK(enable_user_msr(&vm, ALL_REASONS));

	/* An unknown MSR: userspace supplies the value. */
	if (EXPECT_RDMSR(&v, MSR_UNKNOWN, KVM_MSR_EXIT_REASON_UNKNOWN, GUEST_ADDR(mx_guest, mx_rd1))) {
		CHECK_EQ(0, v.run->msr.data);
		v.run->msr.data = 0x1122334455667788ull;
	}
	CHECK_EQ(0x55667788, RUN_EXPECT_OUT(&v, 0x10));
	CHECK_EQ(0x11223344, RUN_EXPECT_OUT(&v, 0x11));

	/* A write userspace refuses: #GP at the WRMSR. */
	if (EXPECT_WRMSR(&v, MSR_UNKNOWN, KVM_MSR_EXIT_REASON_UNKNOWN, GUEST_ADDR(mx_guest, mx_wr1))) {
		CHECK_EQ(0x0000567800001234ull, v.run->msr.data);
		v.run->msr.error = 1;
	}
	CHECK_EQ(GUEST_ADDR(mx_guest, mx_wr1), RUN_EXPECT_OUT(&v, 0x1f));
	RUN_EXPECT_OUT(&v, 0x12);
	/* A read userspace refuses: #GP, EDX:EAX untouched. */
	if (EXPECT_RDMSR(&v, MSR_UNKNOWN, KVM_MSR_EXIT_REASON_UNKNOWN, GUEST_ADDR(mx_guest, mx_rd2)))
		v.run->msr.error = 1;
	CHECK_EQ(GUEST_ADDR(mx_guest, mx_rd2), RUN_EXPECT_OUT(&v, 0x1f));
	RUN_EXPECT_OUT(&v, 0x12);

	/* A known MSR refusing the value: INVAL; userspace takes it, the
	 * MSR keeps its value. */
	uint64_t pat0 = 0, pat = 0;
	CHECK(msr_get(v.fd, MSR_PAT, &pat0));
	if (EXPECT_WRMSR(&v, MSR_PAT, KVM_MSR_EXIT_REASON_INVAL, GUEST_ADDR(mx_guest, mx_wr2)))
		CHECK_EQ(0x0808080808080808ull, v.run->msr.data);
	RUN_EXPECT_OUT(&v, 0x13);
	CHECK(msr_get(v.fd, MSR_PAT, &pat));
	CHECK_EQ(pat0, pat);

	/* The filter: STAR readable only through userspace. */
	static uint8_t deny[1] = {0};
	struct kvm_msr_filter f;
	memset(&f, 0, sizeof(f));
	f.flags = KVM_MSR_FILTER_DEFAULT_ALLOW;
	f.ranges[0] = (struct kvm_msr_filter_range){.flags = KVM_MSR_FILTER_READ, .nmsrs = 1,
						    .base = MSR_STAR, .bitmap = deny};
	CHECK_OK(ioctl(vm.fd, KVM_X86_SET_MSR_FILTER, &f));
	if (run_expect_exit_at(&v, KVM_EXIT_X86_RDMSR, __FILE__, __LINE__)) {
		CHECK_EQ(MSR_STAR, v.run->msr.index);
		CHECK_EQ(KVM_MSR_EXIT_REASON_FILTER, v.run->msr.reason);
		v.run->msr.data = 0xabcd;
	}
	CHECK_EQ(0xabcd, RUN_EXPECT_OUT(&v, 0x10));
	/* The guest's write went to the MSR; the host's access is not filtered. */
	uint64_t star = 0;
	CHECK(msr_get(v.fd, MSR_STAR, &star));
	CHECK_EQ(0x0010000811112222ull, star);
	RUN_EXPECT_OUT(&v, 0x14);

	/* No reason asked for: #GP, as without the capability. */
	CHECK_OK(enable_user_msr(&vm, 0));
	CHECK_EQ(GUEST_ADDR(mx_guest, mx_rd3), RUN_EXPECT_OUT(&v, 0x1f));
	CHECK_EQ(GUEST_ADDR(mx_guest, mx_rd4), RUN_EXPECT_OUT(&v, 0x1f));
	RUN_EXPECT_OUT(&v, 0x15);
	vcpu_fini(&v);
	vm_fini(&vm);
}

/* KVM_GET_MSR_FEATURE_INDEX_LIST / system KVM_GET_MSRS: PERF_CAPABILITIES
 * is there and 0 (no PMU); the vCPU's copy takes only what it offers. */
static void feature_msrs(void)
{
	struct vm vm;
	struct vcpu v;
	vm_init(&vm);
	struct kvm_msr_list *l = calloc(1, sizeof(*l) + 64 * sizeof(uint32_t));
	if (!l)
		abort();
	l->nmsrs = 64;
	if (CHECK_OK(ioctl(vm.kvm, KVM_GET_MSR_FEATURE_INDEX_LIST, l))) {
		bool found = false;
		for (uint32_t i = 0; i < l->nmsrs && i < 64; i++)
			found = found || l->indices[i] == MSR_PERF_CAPABILITIES;
		CHECK(found);
	}
	free(l);
	uint64_t val = 1;
	CHECK(msr_get(vm.kvm, MSR_PERF_CAPABILITIES, &val));
	CHECK_EQ(0, val);
	vcpu_init(&vm, &v, 0);
	CHECK(msr_set(v.fd, MSR_PERF_CAPABILITIES, 0));
	CHECK(!msr_set(v.fd, MSR_PERF_CAPABILITIES, 1ull << 13));
	vcpu_fini(&v);
	vm_fini(&vm);
}

/* KVM_CAP_MSR_PLATFORM_INFO: the host sets the value, the guest reads it
 * until the VMM turns the capability off. */
static int platform_info_read(bool readable)
{
	struct vm vm;
	struct vcpu v;
	vm_init(&vm);
	vcpu_init(&vm, &v, 0);
	GUEST_LOAD(&vm, pi_guest);
	vcpu_setup(&v, MODE_PROT32, G_CODE);
	idt_set(&v, 13, GUEST_ADDR(pi_guest, pi_gp));
	CHECK(msr_set(v.fd, 0xce, 0xff00));
	CHECK(!msr_set(v.fd, 0xce, 1ull << 31));   /* no CPUID faulting */
	struct kvm_enable_cap cap = {.cap = KVM_CAP_MSR_PLATFORM_INFO, .args = {readable}};
	CHECK_OK(ioctl(vm.fd, KVM_ENABLE_CAP, &cap));
	uint64_t val = 0;
	CHECK(msr_get(v.fd, 0xce, &val));   /* the host always may */
	CHECK_EQ(0xff00, val);
	int port = -1;
	if (vcpu_run(&v) == 0 && v.run->exit_reason == KVM_EXIT_IO) {
		port = v.run->io.port;
		if (port == 0x10)
			CHECK_EQ(0xff00, *(uint32_t *)io_data(&v));
	}
	vcpu_fini(&v);
	vm_fini(&vm);
	return port;
}

static void platform_info(void)
{
	int kvm = kvm_open();
	CHECK_EQ(1, check_ext(kvm, KVM_CAP_MSR_PLATFORM_INFO));
	close(kvm);
	CHECK_EQ(0x10, platform_info_read(true));
	CHECK_EQ(0x1f, platform_info_read(false));
}

int main(void)
{
	RUN_CASE(caps_and_errors);
	RUN_CASE(exits);
	RUN_CASE(feature_msrs);
	RUN_CASE(platform_info);
	return t_done();
}
