/* R1 (real hardware poison): a guest access to host memory that raises
 * SIGBUS BUS_MCEERR_AR is converted exactly like softkvm's own poison:
 * KVM_RUN fails with EINTR and the thread gets SIGBUS BUS_OBJERR with the
 * host address (R2), the instruction does not retire; with
 * KVM_CAP_ARM_SEA_TO_USER it is a KVM_EXIT_ARM_SEA (R5); ext_dabt_pending
 * then delivers the SEA at EL1 (R4).
 *
 *   madvise  the page is poisoned with MADV_HWPOISON (needs root and
 *            CONFIG_MEMORY_FAILURE): skipped, with the errno, when the
 *            kernel refuses.
 *   uffd     the kernel's SIGBUS BUS_MCEERR_AR is stood in for: the page
 *            is missing under userfaultfd and, while the vCPU thread waits
 *            in that fault, the main thread sends SIGBUS BUS_MCEERR_AR
 *            for the address (what memory_failure() sends) to the process
 *            with itself blocking SIGBUS, so the vCPU thread takes it.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/userfaultfd.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "a64t.h"

#ifndef MADV_HWPOISON
#define MADV_HWPOISON 100
#endif
#ifndef KVM_CAP_ARM_SEA_TO_USER
#define KVM_CAP_ARM_SEA_TO_USER 245
#define KVM_EXIT_ARM_SEA 41
#endif

/* On x86-64 these programs see arm64's <asm/unistd.h>: the host's numbers. */
#ifdef __x86_64__
#define NR_userfaultfd 323
#define NR_rt_sigqueueinfo 129
#else
#define NR_userfaultfd SYS_userfaultfd
#define NR_rt_sigqueueinfo SYS_rt_sigqueueinfo
#endif

#define BAD_OFF 0x100000ull   /* the poisoned page, in RAM */
#define BAD_GPA (RAM_GPA + BAD_OFF + 0x18)

static struct tvm vm;
static struct tvcpu v;
static volatile sig_atomic_t sigbus_count;
static volatile int sig_code;
static void *volatile sig_addr;

static void on_sigbus(int sig, siginfo_t *si, void *uc)
{
	(void)sig;
	(void)uc;
	sigbus_count++;
	sig_code = si->si_code;
	sig_addr = si->si_addr;
}

/* ldr x1, [x0]; b . -- and at VBAR_EL1 + 0x200: str x1, [x2] (x2 = the port) */
static void write_guest(void)
{
	uint32_t code[] = {0xf9400001, 0x14000000};
	memcpy(vm.ram, code, sizeof(code));
	uint32_t vec = 0xf9000041;
	memcpy(vm.ram + 0x800 + 0x200, &vec, 4);
	set_reg(&v, CORE_REG(regs.pc), RAM_GPA);
	set_reg(&v, CORE_REG(regs.regs[0]), BAD_GPA);
	set_reg(&v, CORE_REG(regs.regs[2]), PORT_GPA);
	set_reg(&v, SYS_REG(3, 0, 12, 0, 0), RAM_GPA + 0x800);   /* VBAR_EL1 */
}

static void *vcpu_thread(void *arg)
{
	int *r = arg;
	*r = ioctl(v.fd, KVM_RUN, 0) < 0 ? -errno : 0;
	return NULL;
}

/* Run once on a thread of its own while this (the main) thread serves
 * the userfaultfd and sends the stand-in SIGBUS. */
static int run_with_uffd(int uffd)
{
	pthread_t t;
	int r = 1;
	pthread_create(&t, NULL, vcpu_thread, &r);
	struct pollfd p = {.fd = uffd, .events = POLLIN};
	if (poll(&p, 1, 10000) == 1) {
		struct uffd_msg m;
		if (read(uffd, &m, sizeof(m)) == sizeof(m) && m.event == UFFD_EVENT_PAGEFAULT) {
			siginfo_t si;
			memset(&si, 0, sizeof(si));
			si.si_signo = SIGBUS;
			si.si_code = BUS_MCEERR_AR;
			si.si_addr = (void *)(uintptr_t)m.arg.pagefault.address;
			/* Only a process-directed signal may carry a kernel si_code
			 * when another thread sends it: this thread blocks SIGBUS,
			 * so the vCPU thread takes it, in its fault. */
			sigset_t bus, old;
			sigemptyset(&bus);
			sigaddset(&bus, SIGBUS);
			pthread_sigmask(SIG_BLOCK, &bus, &old);
			if (syscall(NR_rt_sigqueueinfo, getpid(), SIGBUS, &si) < 0)
				perror("rt_sigqueueinfo");
			pthread_join(t, NULL);
			pthread_sigmask(SIG_SETMASK, &old, NULL);
			return r;
		}
	} else {
		printf("FAIL: the guest access never reached the page\n");
		t_failures++;
	}
	pthread_join(t, NULL);
	return r;
}

static int setup_uffd(void)
{
	int uffd = (int)syscall(NR_userfaultfd, O_CLOEXEC | O_NONBLOCK);
	if (uffd < 0)
		return -errno;
	struct uffdio_api api = {.api = UFFD_API};
	if (ioctl(uffd, UFFDIO_API, &api) < 0) {
		perror("UFFDIO_API");
		return -errno;
	}
	madvise(vm.ram + BAD_OFF, 4096, MADV_DONTNEED);
	struct uffdio_register reg = {
		.range = {.start = (uintptr_t)(vm.ram + BAD_OFF), .len = 4096},
		.mode = UFFDIO_REGISTER_MODE_MISSING,
	};
	if (ioctl(uffd, UFFDIO_REGISTER, &reg) < 0) {
		perror("UFFDIO_REGISTER");
		return -errno;
	}
	return uffd;
}

int main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "madvise";
	bool uffd_mode = strcmp(mode, "uffd") == 0;
	if (getenv("SOFTKVM_TEST_QEMU_USER")) {
		printf("SKIP: qemu-user cannot deliver a SIGBUS with a kernel si_code\n");
		return 77;
	}
	struct sigaction sa = {.sa_sigaction = on_sigbus, .sa_flags = SA_SIGINFO};
	sigemptyset(&sa.sa_mask);
	sigaction(SIGBUS, &sa, NULL);
	if (tvm_create(&vm) < 0 || tvcpu_create(&vm, &v, 0, 1u << KVM_ARM_VCPU_PSCI_0_2) < 0) {
		perror("setup");
		return 1;
	}
	write_guest();
	uint8_t *bad = vm.ram + BAD_OFF;
	int r, uffd = -1;
	if (uffd_mode) {
		uffd = setup_uffd();
		if (uffd < 0) {
			printf("SKIP: userfaultfd refused: errno %d (%s)\n", -uffd, strerror(-uffd));
			return 77;
		}
		r = run_with_uffd(uffd);
	} else {
		memset(bad, 0x5a, 4096);
		if (madvise(bad, 4096, MADV_HWPOISON) < 0) {
			int e = errno;
			printf("SKIP: madvise(MADV_HWPOISON) refused: errno %d (%s)\n", e, strerror(e));
			return 77;
		}
		r = ioctl(v.fd, KVM_RUN, 0) < 0 ? -errno : 0;
	}
	/* R2: EINTR, SIGBUS BUS_OBJERR at the host address, nothing retired */
	CHECK_EQ(-EINTR, r);
	CHECK_EQ(1, sigbus_count);
	CHECK_EQ(BUS_OBJERR, sig_code);
	CHECK_EQ((uintptr_t)(bad + 0x18), (uintptr_t)sig_addr);
	CHECK_EQ(RAM_GPA, get_reg(&v, CORE_REG(regs.pc)));

	/* R5: the page stays poisoned; as a KVM_EXIT_ARM_SEA now */
	struct kvm_enable_cap cap = {.cap = KVM_CAP_ARM_SEA_TO_USER};
	CHECK_OK(ioctl(vm.fd, KVM_ENABLE_CAP, &cap));
	CHECK_OK(ioctl(v.fd, KVM_RUN, 0));
	CHECK_EQ(KVM_EXIT_ARM_SEA, v.run->exit_reason);
	uint64_t sea[4];   /* flags, esr, gva, gpa */
	memcpy(sea, &v.run->mmio, sizeof(sea));
	CHECK_EQ(1, sea[0]);
	CHECK_EQ((0x24ull << 26) | (1u << 25) | 0x10, sea[1]);
	CHECK_EQ(BAD_GPA, sea[2]);
	CHECK_EQ(BAD_GPA, sea[3]);
	CHECK_EQ(1, sigbus_count);

	/* R4: the VMM injects the SEA; the guest's handler reports to the port */
	struct kvm_vcpu_events ev;
	memset(&ev, 0, sizeof(ev));
	ev.exception.ext_dabt_pending = 1;
	CHECK_OK(ioctl(v.fd, KVM_SET_VCPU_EVENTS, &ev));
	CHECK_OK(ioctl(v.fd, KVM_RUN, 0));
	CHECK_EQ(KVM_EXIT_MMIO, v.run->exit_reason);
	CHECK_EQ(PORT_GPA, v.run->mmio.phys_addr);
	uint64_t esr = get_reg(&v, SYS_REG(3, 0, 5, 2, 0));
	CHECK_EQ(0x25, esr >> 26);
	CHECK_EQ(0x10, esr & 0x3f);
	CHECK_EQ(BAD_GPA, get_reg(&v, SYS_REG(3, 0, 6, 0, 0)));   /* FAR_EL1 */
	if (uffd >= 0)
		close(uffd);
	printf("R1 hardware poison (%s): converted\n", mode);
	return t_done();
}
