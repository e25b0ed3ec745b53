/* X10: where RIP is when userspace sees an IO exit (KVM 6.1).
 *
 * - MMIO write (MOV): the instruction has retired, RIP is after it; the
 *   re-entry completes nothing.
 * - MMIO read: RIP stays on the instruction until KVM_RUN completes it.
 * - OUT: RIP on the instruction (completed on re-entry).
 * - OUTS: the emulator retires it first: RIP after it, RSI advanced.
 * - REP OUTS / REP MOVS to MMIO: one element per exit, RCX/RSI/RDI
 *   counted, RIP on the instruction until the last element, after it then.
 * - REP INS: RIP on the instruction and RCX not yet counted at the exit;
 *   KVM reads ahead (io.count elements, up to 1024 bytes, not past RDI's
 *   page) in one exit.
 */
#include "vm.h"

#define MMIO 0xf0000000u
#define SRC 0x20000u
#define DST 0x20100u

GUEST_CODE(x10r, 32,
	"movl $0x11223344, 0xf0000000\n"
	"x10r_read: movl 0xf0000010, %eax\n"
	"x10r_out: out %eax, $0x11\n"
	"mov $0x20000, %esi\n"
	"mov $0x12, %dx\n"
	"x10r_outs: outsb\n"
	"x10r_outs_end: mov $3, %ecx\n"
	"x10r_repouts: rep outsb\n"
	"x10r_repouts_end: mov $0x20100, %edi\n"
	"mov $3, %ecx\n"
	"mov $0x13, %dx\n"
	"x10r_repins: rep insb\n"
	"mov $0x20000, %esi\n"
	"mov $0xf0000020, %edi\n"
	"mov $2, %ecx\n"
	"x10r_repmovs: rep movsb\n"
	"x10r_movs: movsb\n"
	"x10r_movs_end: hlt\n");
GUEST_LABEL(x10r_read);
GUEST_LABEL(x10r_out);
GUEST_LABEL(x10r_outs);
GUEST_LABEL(x10r_outs_end);
GUEST_LABEL(x10r_repouts);
GUEST_LABEL(x10r_repouts_end);
GUEST_LABEL(x10r_repins);
GUEST_LABEL(x10r_repmovs);
GUEST_LABEL(x10r_movs);
GUEST_LABEL(x10r_movs_end);

#define AT(label) GUEST_ADDR(x10r, label)

static bool mmio_exit(struct vcpu *v, uint64_t gpa, int write, int line)
{
	if (!t_check(vcpu_run(v) == 0, __FILE__, line, "KVM_RUN == 0"))
		return false;
	if (!t_check_eq(KVM_EXIT_MMIO, v->run->exit_reason, __FILE__, line, "KVM_EXIT_MMIO",
			exit_str(v)))
		return false;
	bool ok = t_check_eq(gpa, v->run->mmio.phys_addr, __FILE__, line, "gpa", "mmio.phys_addr");
	ok &= t_check_eq((uint64_t)write, v->run->mmio.is_write, __FILE__, line, "is_write",
			 "mmio.is_write");
	return ok;
}

static void rip_at_exits(void)
{
	struct vm vm;
	struct vcpu v;
	vm_init(&vm);
	vcpu_init(&vm, &v, 0);
	GUEST_LOAD(&vm, x10r);
	memcpy(vm.mem + SRC, "\xa1\xb2\xc3\xd4\xe5", 5);
	vcpu_setup(&v, MODE_PROT32, G_CODE);

	/* MOV to MMIO: retired. */
	if (mmio_exit(&v, MMIO, 1, __LINE__))
		CHECK_EQ(AT(x10r_read), get_regs(&v).rip);
	/* MOV from MMIO: on the instruction until completion. */
	if (mmio_exit(&v, MMIO + 0x10, 0, __LINE__)) {
		CHECK_EQ(AT(x10r_read), get_regs(&v).rip);
		uint32_t val = 0xcafef00d;
		memcpy(v.run->mmio.data, &val, 4);
	}
	/* OUT: on the instruction; the read above completed with the data. */
	CHECK_EQ(0xcafef00d, RUN_EXPECT_OUT(&v, 0x11));
	CHECK_EQ(AT(x10r_out), get_regs(&v).rip);
	/* OUTS: retired, RSI advanced. */
	CHECK_EQ(0xa1, RUN_EXPECT_OUT(&v, 0x12) & 0xff);
	struct kvm_regs r = get_regs(&v);
	CHECK_EQ(AT(x10r_outs_end), r.rip);
	CHECK_EQ(SRC + 1, r.rsi);
	/* REP OUTS of 3: per element, on the instruction until the last. */
	for (int k = 0; k < 3; k++) {
		CHECK_EQ(0xb2 + 0x11 * k, RUN_EXPECT_OUT(&v, 0x12) & 0xff);
		r = get_regs(&v);
		CHECK_EQ(2 - k, r.rcx);
		CHECK_EQ(SRC + 2 + k, r.rsi);
		CHECK_EQ(k < 2 ? AT(x10r_repouts) : AT(x10r_repouts_end), r.rip);
	}
	/* REP INS of 3: on the instruction, RCX not counted yet. */
	unsigned got = 0, first = 1;
	while (got < 3) {
		if (!CHECK_OK(vcpu_run(&v)) || !CHECK_EQ(KVM_EXIT_IO, v.run->exit_reason))
			break;
		CHECK_EQ(KVM_EXIT_IO_IN, v.run->io.direction);
		CHECK_EQ(0x13, v.run->io.port);
		if (first) {
			r = get_regs(&v);
			CHECK_EQ(AT(x10r_repins), r.rip);
			CHECK_EQ(3, r.rcx);
			CHECK_EQ(3, v.run->io.count);   /* read ahead in one exit */
			first = 0;
		}
		for (unsigned k = 0; k < v.run->io.count && got < 3; k++, got++)
			((uint8_t *)io_data(&v))[k] = (uint8_t)(0x70 + got);
	}
	/* REP MOVS of 2 into MMIO: per element, like REP OUTS. */
	if (mmio_exit(&v, MMIO + 0x20, 1, __LINE__)) {
		CHECK_EQ(0xa1, v.run->mmio.data[0]);
		r = get_regs(&v);
		CHECK_EQ(AT(x10r_repmovs), r.rip);
		CHECK_EQ(1, r.rcx);
	}
	if (mmio_exit(&v, MMIO + 0x21, 1, __LINE__)) {
		CHECK_EQ(0xb2, v.run->mmio.data[0]);
		r = get_regs(&v);
		CHECK_EQ(AT(x10r_movs), r.rip);
		CHECK_EQ(0, r.rcx);
	}
	/* MOVS into MMIO: retired. */
	if (mmio_exit(&v, MMIO + 0x22, 1, __LINE__)) {
		CHECK_EQ(0xc3, v.run->mmio.data[0]);
		CHECK_EQ(AT(x10r_movs_end), get_regs(&v).rip);
	}
	RUN_EXPECT_EXIT(&v, KVM_EXIT_HLT);
	CHECK(!memcmp(vm.mem + DST, "\x70\x71\x72", 3));
	vcpu_fini(&v);
	vm_fini(&vm);
}

/* A read-modify-write of MMIO: the read exits on the instruction, the
 * write (after completion) exits with the instruction retired. */
GUEST_CODE(x10rmw, 32,
	"addl $5, 0xf0000040\n"
	"x10rmw_done: hlt\n");
GUEST_LABEL(x10rmw_done);

static void rmw(void)
{
	struct vm vm;
	struct vcpu v;
	vm_init(&vm);
	vcpu_init(&vm, &v, 0);
	GUEST_LOAD(&vm, x10rmw);
	vcpu_setup(&v, MODE_PROT32, G_CODE);
	if (mmio_exit(&v, MMIO + 0x40, 0, __LINE__)) {
		CHECK_EQ(G_CODE, get_regs(&v).rip);
		uint32_t val = 37;
		memcpy(v.run->mmio.data, &val, 4);
	}
	if (mmio_exit(&v, MMIO + 0x40, 1, __LINE__)) {
		uint32_t val;
		memcpy(&val, v.run->mmio.data, 4);
		CHECK_EQ(42, val);
		CHECK_EQ(GUEST_ADDR(x10rmw, x10rmw_done), get_regs(&v).rip);
	}
	RUN_EXPECT_EXIT(&v, KVM_EXIT_HLT);
	vcpu_fini(&v);
	vm_fini(&vm);
}

int main(void)
{
	RUN_CASE(rip_at_exits);
	RUN_CASE(rmw);
	return t_done();
}
