/* X3: KVM_GET/SET_DEBUGREGS move db[0..3], dr6 and dr7; SET with flags != 0
 * (or bits above 31 in DR6/DR7) fails with EINVAL and changes nothing; the
 * values act: a breakpoint enabled in DR7 raises #DB in the guest at the
 * right place and DR6 records which one hit. */
#include "vm.h"

#include <sys/ioctl.h>

#define DR6_FIXED 0xffff0ff0u

/* #DB handler: report DR6 on port 0x11 and the faulting/next EIP on 0x12. */
GUEST_CODE(x3_exec, 32,
	"nop\n"
	"nop\n"
	"x3_exec_target: out %al, $0x10\n"
	"hlt\n"
	"x3_exec_db: mov %dr6, %eax\n"
	"out %eax, $0x11\n"
	"mov (%esp), %eax\n"
	"out %eax, $0x12\n"
	"hlt\n");
GUEST_LABEL(x3_exec_target);
GUEST_LABEL(x3_exec_db);

GUEST_CODE(x3_data, 32,
	"nop\n"
	"movl $1, 0x600\n"
	"x3_data_after: out %al, $0x10\n"
	"hlt\n"
	"x3_data_db: mov %dr6, %eax\n"
	"out %eax, $0x11\n"
	"mov (%esp), %eax\n"
	"out %eax, $0x12\n"
	"hlt\n");
GUEST_LABEL(x3_data_after);
GUEST_LABEL(x3_data_db);

static struct kvm_debugregs get_dbg(struct vcpu *v)
{
	struct kvm_debugregs d;
	memset(&d, 0xa5, sizeof(d));
	CHECK_OK(ioctl(v->fd, KVM_GET_DEBUGREGS, &d));
	return d;
}

static void round_trip(void)
{
	struct vm vm;
	struct vcpu v;
	vm_init(&vm);
	vcpu_init(&vm, &v, 0);
	CHECK(check_ext(vm.kvm, KVM_CAP_DEBUGREGS) > 0);

	struct kvm_debugregs d = get_dbg(&v);
	CHECK_EQ(0, d.flags);
	CHECK_EQ(0x400, d.dr7);       /* reset values */
	CHECK_EQ(DR6_FIXED, d.dr6);

	memset(&d, 0, sizeof(d));
	d.db[0] = 0x1000;
	d.db[1] = 0x2008;
	d.db[2] = 0xfffff000;
	d.db[3] = 0x7f0000000000ull;
	d.dr6 = DR6_FIXED | 0x1;
	d.dr7 = 0x400 | 0x55;
	CHECK_OK(ioctl(v.fd, KVM_SET_DEBUGREGS, &d));
	struct kvm_debugregs g = get_dbg(&v);
	for (int i = 0; i < 4; i++)
		CHECK_EQ(d.db[i], g.db[i]);
	CHECK_EQ(d.dr6, g.dr6);
	CHECK_EQ(d.dr7, g.dr7);
	CHECK_EQ(0, g.flags);

	/* Failed SETs leave everything as it was. */
	struct kvm_debugregs bad = d;
	bad.db[0] = 0x5000;
	bad.flags = 1;
	CHECK_ERRNO(ioctl(v.fd, KVM_SET_DEBUGREGS, &bad), EINVAL);
	bad.flags = 0;
	bad.dr6 = d.dr6 | (1ull << 32);
	CHECK_ERRNO(ioctl(v.fd, KVM_SET_DEBUGREGS, &bad), EINVAL);
	bad.dr6 = d.dr6;
	bad.dr7 = d.dr7 | (1ull << 40);
	CHECK_ERRNO(ioctl(v.fd, KVM_SET_DEBUGREGS, &bad), EINVAL);
	g = get_dbg(&v);
	CHECK_EQ(0x1000, g.db[0]);
	CHECK_EQ(d.dr6, g.dr6);
	CHECK_EQ(d.dr7, g.dr7);
	vcpu_fini(&v);
	vm_fini(&vm);
}

static void breakpoint(const unsigned char *code, const unsigned char *end,
		       uint64_t handler, uint64_t addr, uint64_t dr7, int bp,
		       uint64_t expect_eip)
{
	struct vm vm;
	struct vcpu v;
	vm_init(&vm);
	vcpu_init(&vm, &v, 0);
	guest_load(&vm, G_CODE, code, end);
	vcpu_setup(&v, MODE_PROT32, G_CODE);
	idt_set(&v, 1, handler);

	struct kvm_debugregs d;
	memset(&d, 0, sizeof(d));
	d.db[bp] = addr;
	d.dr6 = DR6_FIXED;
	d.dr7 = dr7;
	CHECK_OK(ioctl(v.fd, KVM_SET_DEBUGREGS, &d));

	uint32_t dr6 = RUN_EXPECT_OUT(&v, 0x11);
	CHECK_EQ(1u << bp, dr6 & 0xf);
	CHECK_EQ(DR6_FIXED, dr6 & DR6_FIXED);
	CHECK_EQ(0, dr6 & 0x4000); /* not a single step */
	CHECK_EQ(expect_eip, RUN_EXPECT_OUT(&v, 0x12));
	CHECK_EQ(1u << bp, get_dbg(&v).dr6 & 0xf);
	RUN_EXPECT_EXIT(&v, KVM_EXIT_HLT);
	vcpu_fini(&v);
	vm_fini(&vm);
}

/* An instruction breakpoint is a fault: EIP is the breakpoint address. */
static void exec_breakpoint(void)
{
	uint64_t target = GUEST_ADDR(x3_exec, x3_exec_target);
	breakpoint(x3_exec, x3_exec_end, GUEST_ADDR(x3_exec, x3_exec_db), target,
		   0x400 | 0x1 /* L0, RW0=exec, LEN0=1 */, 0, target);
}

/* A data write breakpoint is a trap: EIP is the next instruction. */
static void data_write_breakpoint(void)
{
	uint64_t dr7 = 0x400 | (1u << 2) /* L1 */ | (1u << 20) /* RW1=write */ |
		       (3u << 22) /* LEN1=4 */;
	breakpoint(x3_data, x3_data_end, GUEST_ADDR(x3_data, x3_data_db), G_MAILBOX,
		   dr7, 1, GUEST_ADDR(x3_data, x3_data_after));
}

int main(void)
{
	RUN_CASE(round_trip);
	RUN_CASE(exec_breakpoint);
	RUN_CASE(data_write_breakpoint);
	return t_done();
}
