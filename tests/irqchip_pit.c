/* KVM_CREATE_PIT2: the in-kernel i8254 on ports 0x40-0x43 drives IRQ0 of
 * the in-kernel PIC at the programmed rate; its state moves through
 * KVM_GET/SET_PIT2; port 0x61 is the kernel's only with
 * KVM_PIT_SPEAKER_DUMMY. */
#include "vm.h"

#include <sys/ioctl.h>
#include <time.h>

#define COUNT "0x600"

/* PIC master at vector 0x20 with only IRQ0 open; PIT channel 0 in mode 2
 * (rate generator), 11932 ticks = 10 ms. Five ticks, then the latched
 * count of channel 0. */
GUEST_CODE(pit_guest, 32,
	"mov $0x11, %al\n"
	"out %al, $0x20\n"
	"mov $0x20, %al\n"
	"out %al, $0x21\n"
	"mov $0x04, %al\n"
	"out %al, $0x21\n"
	"mov $0x01, %al\n"
	"out %al, $0x21\n"
	"mov $0xfe, %al\n"
	"out %al, $0x21\n"
	"mov $0x34, %al\n"
	"out %al, $0x43\n"
	"mov $(11932 & 0xff), %al\n"
	"out %al, $0x40\n"
	"mov $(11932 >> 8), %al\n"
	"out %al, $0x40\n"
	"1: cli\n"
	"cmpl $5, " COUNT "\n"
	"jae 2f\n"
	"sti\n"
	"hlt\n"
	"jmp 1b\n"
	"2: mov " COUNT ", %eax\n"
	"out %eax, $0x10\n"
	"xor %eax, %eax\n"
	"out %al, $0x43\n"
	"in $0x40, %al\n"
	"mov %al, %bl\n"
	"in $0x40, %al\n"
	"mov %al, %bh\n"
	"movzwl %bx, %eax\n"
	"out %eax, $0x11\n"
	"in $0x61, %al\n"
	"out %al, $0x12\n"
	"hlt\n"
	"pit_isr: incl " COUNT "\n"
	"push %eax\n"
	"mov $0x20, %al\n"
	"out %al, $0x20\n"
	"pop %eax\n"
	"iret\n");
GUEST_LABEL(pit_isr);

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void run_pit(uint32_t flags)
{
	struct vm vm;
	struct vcpu v;
	vm_init(&vm);
	CHECK(check_ext(vm.fd, KVM_CAP_PIT2) > 0);
	CHECK(check_ext(vm.fd, KVM_CAP_PIT_STATE2) > 0);
	struct kvm_pit_state2 ps;
	CHECK_ERRNO(ioctl(vm.fd, KVM_GET_PIT2, &ps), ENXIO);
	if (!CHECK_OK(ioctl(vm.fd, KVM_CREATE_IRQCHIP, 0UL)))
		return;
	struct kvm_pit_config cfg = {.flags = flags};
	if (!CHECK_OK(ioctl(vm.fd, KVM_CREATE_PIT2, &cfg)))
		return;
	CHECK_ERRNO(ioctl(vm.fd, KVM_CREATE_PIT2, &cfg), EEXIST);
	vcpu_init(&vm, &v, 0);
	GUEST_LOAD(&vm, pit_guest);
	vcpu_setup(&v, MODE_PROT32, G_CODE);
	idt_set(&v, 0x20, GUEST_ADDR(pit_guest, pit_isr));

	double t0 = now_s();
	/* 5, or more when a tick lands between the ISR's IRET and the
	 * guest's CLI (a slow host: sanitizers, a loaded machine). */
	uint32_t ticks = RUN_EXPECT_OUT(&v, 0x10);
	CHECK(ticks >= 5 && ticks <= 10);
	double dt = now_s() - t0;
	printf("PIT: 5 ticks of 10 ms in %.3f s\n", dt);
	CHECK(dt >= 0.045);
	CHECK(dt < 2.0);
	uint32_t latched = RUN_EXPECT_OUT(&v, 0x11);
	CHECK(latched >= 1 && latched <= 11932);

	if (CHECK_OK(ioctl(vm.fd, KVM_GET_PIT2, &ps))) {
		CHECK_EQ(11932, ps.channels[0].count);
		CHECK_EQ(2, ps.channels[0].mode);
		CHECK_EQ(3, ps.channels[0].rw_mode);
		CHECK_EQ(1, ps.channels[0].gate);
		CHECK_EQ(0x10000, ps.channels[1].count);
		CHECK_EQ(0, ps.channels[2].gate);
		/* A round trip keeps what was set (the load time restarts). */
		ps.channels[1].count = 1234;
		ps.channels[1].mode = 3;
		CHECK_OK(ioctl(vm.fd, KVM_SET_PIT2, &ps));
		struct kvm_pit_state2 ps2;
		CHECK_OK(ioctl(vm.fd, KVM_GET_PIT2, &ps2));
		CHECK_EQ(1234, ps2.channels[1].count);
		CHECK_EQ(3, ps2.channels[1].mode);
		CHECK_EQ(11932, ps2.channels[0].count);
	}

	/* Port 0x61: the kernel's with the dummy speaker, userspace's otherwise. */
	if (flags & KVM_PIT_SPEAKER_DUMMY) {
		uint32_t b = RUN_EXPECT_OUT(&v, 0x12);
		CHECK_EQ(0, b & 1);   /* gate 2 low after reset */
	} else {
		RUN_EXPECT_IN(&v, 0x61, 1, 0x5a);
		CHECK_EQ(0x5a, RUN_EXPECT_OUT(&v, 0x12));
	}
	vcpu_fini(&v);
	vm_fini(&vm);
}

static void pit_speaker_dummy(void)
{
	run_pit(KVM_PIT_SPEAKER_DUMMY);
}

static void pit_no_speaker(void)
{
	run_pit(0);
}

int main(void)
{
	RUN_CASE(pit_speaker_dummy);
	RUN_CASE(pit_no_speaker);
	return t_done();
}
