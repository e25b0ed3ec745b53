/* X10: KVM_EXIT_IO and KVM_EXIT_MMIO complete only when userspace re-enters
 * with KVM_RUN: the data of a read is taken from kvm_run then; re-entering
 * with immediate_exit set, or with a signal pending that KVM_SET_SIGNAL_MASK
 * unblocks, completes the operation first and then returns EINTR. */
#include "vm.h"

#include <signal.h>
#include <sys/ioctl.h>

#define MMIO 0xf0000000u

/* eax starts all ones: IN of 1 and 2 bytes keeps the upper bytes. */
GUEST_CODE(x10_in, 32,
	"mov $0xffffffff, %eax\n"
	"inb $0x10, %al\n"
	"out %eax, $0x11\n"
	"inw $0x12, %ax\n"
	"out %eax, $0x13\n"
	"inl $0x14, %eax\n"
	"out %eax, $0x15\n"
	"hlt\n");

static void in_data_taken_at_reentry(void)
{
	struct vm vm;
	struct vcpu v;
	vm_init(&vm);
	vcpu_init(&vm, &v, 0);
	GUEST_LOAD(&vm, x10_in);
	vcpu_setup(&v, MODE_PROT32, G_CODE);
	if (RUN_EXPECT_IN(&v, 0x10, 1, 0x11)) {
		CHECK_EQ(1, v.run->io.count);
		CHECK(v.run->io.data_offset >= sizeof(struct kvm_run));
		CHECK(v.run->io.data_offset + 4 <= v.run_size);
		/* The guest has not got the data yet. */
		CHECK_EQ(0xffffffff, get_regs(&v).rax & 0xffffffff);
		*(uint8_t *)io_data(&v) = 0x5a;   /* the last value written counts */
	}
	CHECK_EQ(0xffffff5a, RUN_EXPECT_OUT(&v, 0x11));
	RUN_EXPECT_IN(&v, 0x12, 2, 0x1234);
	CHECK_EQ(0xffff1234, RUN_EXPECT_OUT(&v, 0x13));
	RUN_EXPECT_IN(&v, 0x14, 4, 0xdeadbeef);
	CHECK_EQ(0xdeadbeef, RUN_EXPECT_OUT(&v, 0x15));
	RUN_EXPECT_EXIT(&v, KVM_EXIT_HLT);
	vcpu_fini(&v);
	vm_fini(&vm);
}

GUEST_CODE(x10_mmio, 32,
	"mov 0xf0000000, %eax\n"
	"out %eax, $0x11\n"
	"movl $0x12345678, 0xf0000010\n"
	"movw 0xf0000020, %ax\n"
	"out %eax, $0x13\n"
	"movb $0x9a, 0xf0000031\n"
	"hlt\n");

static bool expect_mmio(struct vcpu *v, uint64_t gpa, uint32_t len, int write, int line)
{
	struct kvm_run *run = v->run;
	if (!t_check(vcpu_run(v) == 0, __FILE__, line, "KVM_RUN == 0"))
		return false;
	if (!t_check_eq(KVM_EXIT_MMIO, run->exit_reason, __FILE__, line, "KVM_EXIT_MMIO", exit_str(v)))
		return false;
	bool ok = t_check_eq(gpa, run->mmio.phys_addr, __FILE__, line, "gpa", "mmio.phys_addr");
	ok &= t_check_eq(len, run->mmio.len, __FILE__, line, "len", "mmio.len");
	ok &= t_check_eq((uint64_t)write, run->mmio.is_write, __FILE__, line, "is_write", "mmio.is_write");
	return ok;
}

static void mmio_completion(void)
{
	struct vm vm;
	struct vcpu v;
	vm_init(&vm);
	vcpu_init(&vm, &v, 0);
	GUEST_LOAD(&vm, x10_mmio);
	vcpu_setup(&v, MODE_PROT32, G_CODE);
	if (expect_mmio(&v, MMIO, 4, 0, __LINE__)) {
		uint32_t val = 0xc001d00d;
		memcpy(v.run->mmio.data, &val, 4);
	}
	CHECK_EQ(0xc001d00d, RUN_EXPECT_OUT(&v, 0x11));
	if (expect_mmio(&v, MMIO + 0x10, 4, 1, __LINE__)) {
		uint32_t val = 0;
		memcpy(&val, v.run->mmio.data, 4);
		CHECK_EQ(0x12345678, val);
	}
	if (expect_mmio(&v, MMIO + 0x20, 2, 0, __LINE__)) {
		uint16_t val = 0xbeef;
		memcpy(v.run->mmio.data, &val, 2);
	}
	CHECK_EQ(0xc001beef, RUN_EXPECT_OUT(&v, 0x13));
	if (expect_mmio(&v, MMIO + 0x31, 1, 1, __LINE__))
		CHECK_EQ(0x9a, v.run->mmio.data[0]);
	RUN_EXPECT_EXIT(&v, KVM_EXIT_HLT);
	vcpu_fini(&v);
	vm_fini(&vm);
}

GUEST_CODE(x10_in1, 32,
	"inl $0x10, %eax\n"
	"x10_in1_after: out %eax, $0x11\n"
	"hlt\n");
GUEST_LABEL(x10_in1_after);

static void immediate_exit_completes_in(void)
{
	struct vm vm;
	struct vcpu v;
	vm_init(&vm);
	vcpu_init(&vm, &v, 0);
	GUEST_LOAD(&vm, x10_in1);
	vcpu_setup(&v, MODE_PROT32, G_CODE);
	CHECK(check_ext(vm.kvm, KVM_CAP_IMMEDIATE_EXIT) > 0);
	RUN_EXPECT_IN(&v, 0x10, 4, 0xcafef00d);
	v.run->immediate_exit = 1;
	CHECK_ERRNO(vcpu_run(&v), EINTR);
	struct kvm_regs r = get_regs(&v);
	CHECK_EQ(0xcafef00d, r.rax);
	CHECK_EQ(GUEST_ADDR(x10_in1, x10_in1_after), r.rip);
	/* Again: nothing pending now, still EINTR, nothing moves. */
	CHECK_ERRNO(vcpu_run(&v), EINTR);
	CHECK_EQ(GUEST_ADDR(x10_in1, x10_in1_after), get_regs(&v).rip);
	v.run->immediate_exit = 0;
	CHECK_EQ(0xcafef00d, RUN_EXPECT_OUT(&v, 0x11));
	vcpu_fini(&v);
	vm_fini(&vm);
}

GUEST_CODE(x10_out1, 32,
	"out %al, $0x10\n"
	"x10_out1_after: out %al, $0x11\n"
	"hlt\n");
GUEST_LABEL(x10_out1_after);

/* An OUT is complete once KVM_RUN is entered again, even with immediate_exit:
 * the guest is past it and it is not repeated. */
static void immediate_exit_completes_out(void)
{
	struct vm vm;
	struct vcpu v;
	vm_init(&vm);
	vcpu_init(&vm, &v, 0);
	GUEST_LOAD(&vm, x10_out1);
	vcpu_setup(&v, MODE_PROT32, G_CODE);
	RUN_EXPECT_OUT(&v, 0x10);
	v.run->immediate_exit = 1;
	CHECK_ERRNO(vcpu_run(&v), EINTR);
	CHECK_EQ(GUEST_ADDR(x10_out1, x10_out1_after), get_regs(&v).rip);
	v.run->immediate_exit = 0;
	RUN_EXPECT_OUT(&v, 0x11);
	vcpu_fini(&v);
	vm_fini(&vm);
}

GUEST_CODE(x10_mmio1, 32,
	"mov 0xf0000000, %eax\n"
	"x10_mmio1_after: out %eax, $0x11\n"
	"hlt\n");
GUEST_LABEL(x10_mmio1_after);

static void immediate_exit_completes_mmio(void)
{
	struct vm vm;
	struct vcpu v;
	vm_init(&vm);
	vcpu_init(&vm, &v, 0);
	GUEST_LOAD(&vm, x10_mmio1);
	vcpu_setup(&v, MODE_PROT32, G_CODE);
	if (expect_mmio(&v, MMIO, 4, 0, __LINE__)) {
		uint32_t val = 0x0badcafe;
		memcpy(v.run->mmio.data, &val, 4);
	}
	v.run->immediate_exit = 1;
	CHECK_ERRNO(vcpu_run(&v), EINTR);
	struct kvm_regs r = get_regs(&v);
	CHECK_EQ(0x0badcafe, r.rax);
	CHECK_EQ(GUEST_ADDR(x10_mmio1, x10_mmio1_after), r.rip);
	v.run->immediate_exit = 0;
	CHECK_EQ(0x0badcafe, RUN_EXPECT_OUT(&v, 0x11));
	vcpu_fini(&v);
	vm_fini(&vm);
}

/* String I/O: rep outsb of "ABCDE" to port 0x20, rep insb of 6 bytes from
 * port 0x21 into 0x700, then OUT 0x22. However KVM splits them into exits
 * (count per exit), the bytes and their order are the guest's. */
GUEST_CODE(x10_string, 32,
	"cld\n"
	"mov $(x10_string_msg - x10_string + 0x1000), %esi\n"
	"mov $5, %ecx\n"
	"mov $0x20, %dx\n"
	"rep outsb\n"
	"mov $0x700, %edi\n"
	"mov $6, %ecx\n"
	"mov $0x21, %dx\n"
	"rep insb\n"
	"mov %ecx, %eax\n"
	"out %eax, $0x22\n"
	"hlt\n"
	"x10_string_msg: .ascii \"ABCDE\"\n");

static void string_io(void)
{
	struct vm vm;
	struct vcpu v;
	char out[16] = {0};
	size_t nout = 0, nin = 0;
	const char *in = "uvwxyz";
	vm_init(&vm);
	vcpu_init(&vm, &v, 0);
	GUEST_LOAD(&vm, x10_string);
	vcpu_setup(&v, MODE_PROT32, G_CODE);
	for (int exits = 0; exits < 32; exits++) {
		if (!CHECK_OK(vcpu_run(&v)))
			break;
		struct kvm_run *run = v.run;
		if (run->exit_reason != KVM_EXIT_IO || run->io.size != 1 ||
		    (run->io.port != 0x20 && run->io.port != 0x21)) {
			CHECK_EQ(0x22, run->io.port);
			CHECK_EQ(0, *(uint32_t *)io_data(&v)); /* ecx ran down to 0 */
			break;
		}
		CHECK(run->io.count >= 1);
		CHECK(run->io.data_offset + run->io.count <= v.run_size);
		for (uint32_t i = 0; i < run->io.count; i++) {
			uint8_t *d = (uint8_t *)io_data(&v) + i;
			if (run->io.port == 0x20 && CHECK_EQ(KVM_EXIT_IO_OUT, run->io.direction) && nout < 15)
				out[nout++] = (char)*d;
			if (run->io.port == 0x21 && CHECK_EQ(KVM_EXIT_IO_IN, run->io.direction) && nin < 6)
				*d = (uint8_t)in[nin++];
		}
	}
	if (!CHECK(strcmp(out, "ABCDE") == 0))
		fprintf(stderr, "     rep outsb sent \"%s\", expected \"ABCDE\"\n", out);
	CHECK_EQ(6, nin);
	CHECK(memcmp(vm.mem + 0x700, in, 6) == 0);
	CHECK_EQ(0x700 + 6, get_regs(&v).rdi);
	vcpu_fini(&v);
	vm_fini(&vm);
}

static volatile sig_atomic_t handled;
static void on_usr1(int sig)
{
	(void)sig;
	handled++;
}

/* The thread blocks SIGUSR1 and has one pending; KVM_SET_SIGNAL_MASK
 * unblocks it during KVM_RUN: the IN completes, then EINTR/KVM_EXIT_INTR.
 * Back in userspace the thread's own mask blocks it again, so it is still
 * pending and the handler has not run. */
static void pending_signal_completes_in(void)
{
	struct vm vm;
	struct vcpu v;
	struct sigaction sa;
	sigset_t usr1, none, pend;
	vm_init(&vm);
	vcpu_init(&vm, &v, 0);
	GUEST_LOAD(&vm, x10_in1);
	vcpu_setup(&v, MODE_PROT32, G_CODE);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_usr1;
	sigaction(SIGUSR1, &sa, NULL);
	sigemptyset(&usr1);
	sigaddset(&usr1, SIGUSR1);
	sigemptyset(&none);
	handled = 0;

	RUN_EXPECT_IN(&v, 0x10, 4, 0x600dd00d);
	pthread_sigmask(SIG_BLOCK, &usr1, NULL);
	raise(SIGUSR1);
	CHECK_OK(vcpu_set_sigmask(&v, &none, 8));
	CHECK_ERRNO(vcpu_run(&v), EINTR);
	CHECK_EQ(KVM_EXIT_INTR, v.run->exit_reason);
	struct kvm_regs r = get_regs(&v);
	CHECK_EQ(0x600dd00d, r.rax);
	CHECK_EQ(GUEST_ADDR(x10_in1, x10_in1_after), r.rip);
	CHECK_EQ(0, handled);
	sigpending(&pend);
	CHECK(sigismember(&pend, SIGUSR1));
	struct timespec zero = {0, 0};
	CHECK_EQ(SIGUSR1, sigtimedwait(&usr1, NULL, &zero));
	CHECK_OK(ioctl(v.fd, KVM_SET_SIGNAL_MASK, NULL));
	pthread_sigmask(SIG_UNBLOCK, &usr1, NULL);
	CHECK_EQ(0x600dd00d, RUN_EXPECT_OUT(&v, 0x11));
	vcpu_fini(&v);
	vm_fini(&vm);
}

int main(void)
{
	RUN_CASE(in_data_taken_at_reentry);
	RUN_CASE(mmio_completion);
	RUN_CASE(string_io);
	RUN_CASE(immediate_exit_completes_in);
	RUN_CASE(immediate_exit_completes_mmio);
	RUN_CASE(immediate_exit_completes_out);
	RUN_CASE(pending_signal_completes_in);
	return t_done();
}
