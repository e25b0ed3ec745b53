/* R1-R5, guest memory poison (seed 001), with guests/arm64/poison.c.
 * argv[2] names the checklist ID this run is registered for; every run
 * drives the whole guest, the ID adds its own checks:
 *   R1  poison through the control socket; softkvm_poison's errors
 *   R2  SIGBUS BUS_OBJERR with si_addr = the host address, KVM_RUN EINTR,
 *       the access not retired (a second KVM_RUN consumes it again)
 *   R3  the fault classes: data, walk levels 0-3, parity data / walk L1
 *   R4  ext_dabt_pending then injects the SEA (the guest checks ESR/FAR)
 *   R5  KVM_CAP_ARM_SEA_TO_USER: KVM_EXIT_ARM_SEA with esr/flags/gva/gpa
 */
#include <dlfcn.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "a64t.h"

#ifndef KVM_CAP_ARM_SEA_TO_USER
#define KVM_CAP_ARM_SEA_TO_USER 245
#endif
#ifndef KVM_EXIT_ARM_SEA
#define KVM_EXIT_ARM_SEA 41
#define KVM_EXIT_ARM_SEA_FLAG_GPA_VALID (1ULL << 0)
#endif
struct arm_sea_exit {
	uint64_t flags, esr, gva, gpa;
};

#define DATA 0x41000000ull
#define TT1 0x41110000ull
#define TVA 0xffff000000000000ull
#define POISON_PARITY 1u

static int (*poison_fn)(int, uint64_t, uint64_t, unsigned);
static int (*unpoison_fn)(int, uint64_t, uint64_t);

static struct tvm vm;
static struct tvcpu v;
static const char *id;
/* qemu-user takes a SIGBUS with si_code > 0 for a fault of its own code
 * and aborts, so under it the poison events are checked as
 * KVM_EXIT_ARM_SEA exits (R2, the signal itself, is skipped there). */
static bool sea_exit;

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

static bool is(const char *x)
{
	return strcmp(id, x) == 0;
}

/* What step n poisons and what consuming it must report. */
struct expect {
	uint64_t poison, gpa, gva;
	unsigned flags, fsc;
	bool write;
};

static bool expect_of(int step, struct expect *e)
{
	memset(e, 0, sizeof(*e));
	switch (step) {
	case 1:
		*e = (struct expect){DATA + 8, DATA + 8, DATA + 8, 0, 0x10, false};
		return true;
	case 2:
		*e = (struct expect){DATA, DATA + 16, DATA + 16, 0, 0x10, true};
		return true;
	case 4: case 5: case 6: case 7: {
		uint64_t t = TT1 + 0x1000ull * (unsigned)(step - 4);
		*e = (struct expect){t, t, TVA + 8, 0, 0x14u + (unsigned)(step - 4), false};
		return true;
	}
	case 8:
		*e = (struct expect){DATA, DATA + 8, TVA + 8, POISON_PARITY, 0x18, false};
		return true;
	case 9:
		*e = (struct expect){TT1 + 0x1000, TT1 + 0x1000, TVA + 8, POISON_PARITY, 0x1d, false};
		return true;
	}
	return false;
}

/* R1: the command from outside, as `softkvm poison` sends it. */
static void control(const char *cmd, const char *want_prefix)
{
	int s = socket(AF_UNIX, SOCK_STREAM, 0);
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	snprintf(a.sun_path + 1, sizeof(a.sun_path) - 1, "softkvm-%d", (int)getpid());
	socklen_t len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + strlen(a.sun_path + 1));
	CHECK_OK(connect(s, (struct sockaddr *)&a, len));
	CHECK_EQ((ssize_t)strlen(cmd), write(s, cmd, strlen(cmd)));
	char buf[256] = {0};
	ssize_t n = 0;
	while (n < (ssize_t)sizeof(buf) - 1) {
		ssize_t k = read(s, buf + n, 1);
		if (k <= 0 || buf[n] == '\n')
			break;
		n += k;
	}
	if (strncmp(buf, want_prefix, strlen(want_prefix)) != 0) {
		printf("FAIL control %s-> %s (want %s)\n", cmd, buf, want_prefix);
		t_failures++;
	}
	t_checks++;
	close(s);
}

static void poison_step(int step)
{
	CHECK_OK(unpoison_fn(vm.fd, RAM_GPA, RAM_SIZE));
	struct expect e;
	if (!expect_of(step, &e))
		return;
	if (is("R1") && step == 1) {
		/* from outside: the softkvm command when the build has it */
		char cmd[512];
		const char *tool = getenv("SOFTKVM_TOOL");
		if (tool) {
			snprintf(cmd, sizeof(cmd), "%s poison --pid %d --vm 0 %#llx 8", tool, (int)getpid(),
				 (unsigned long long)e.poison);
			CHECK_EQ(0, system(cmd));
		} else {
			snprintf(cmd, sizeof(cmd), "poison 0 %#llx 8\n", (unsigned long long)e.poison);
			control(cmd, "ok");
		}
		return;
	}
	CHECK_OK(poison_fn(vm.fd, e.poison, 8, e.flags));
}

static void inject_sea(void)
{
	struct kvm_vcpu_events ev;
	memset(&ev, 0, sizeof(ev));
	ev.exception.ext_dabt_pending = 1;
	CHECK_OK(ioctl(v.fd, KVM_SET_VCPU_EVENTS, &ev));
}

/* The guest consumed step's poison: check what KVM_RUN said. */
static void consumed(int step, int r)
{
	struct expect e;
	CHECK(expect_of(step, &e));
	uint64_t pc = get_reg(&v, CORE_REG(regs.pc));
	if (sea_exit) {
		CHECK_EQ(KVM_EXIT_ARM_SEA, r);
		struct arm_sea_exit x;
		memcpy(&x, &v.run->mmio, sizeof(x));
		CHECK_EQ(KVM_EXIT_ARM_SEA_FLAG_GPA_VALID, x.flags);
		CHECK_EQ((0x24ull << 26) | (1ull << 25) | e.fsc | (e.write ? 0x40 : 0), x.esr);
		CHECK_EQ(e.gva, x.gva);
		CHECK_EQ(e.gpa, x.gpa);
		CHECK_EQ(0, sigbus_count);
	} else {
		CHECK_EQ(-EINTR, r);
		CHECK_EQ(KVM_EXIT_INTR, v.run->exit_reason);
		CHECK_EQ(1, sigbus_count);
		CHECK_EQ(BUS_OBJERR, sig_code);
		CHECK(sig_addr == (void *)(vm.ram + (e.gpa - RAM_GPA)));
		if (is("R2")) {
			/* not retired: the same access is consumed again */
			int handled;
			CHECK_EQ(-EINTR, run_once(&v, &handled));
			CHECK_EQ(2, sigbus_count);
			CHECK_EQ(pc, get_reg(&v, CORE_REG(regs.pc)));
		}
	}
	/* the faulting instruction is a load or store */
	uint32_t insn;
	uint64_t ipa = pc;   /* the code runs identity-mapped */
	memcpy(&insn, vm.ram + (ipa - RAM_GPA), 4);
	CHECK_EQ(e.write ? 0xf9000000u : 0xf9400000u, insn & 0xffc00000u);
	sigbus_count = 0;
	inject_sea();
}

static void api_checks(void)
{
	CHECK_EQ(1, ioctl(vm.fd, KVM_CHECK_EXTENSION, KVM_CAP_ARM_SEA_TO_USER));
	CHECK_ERRNO(poison_fn(-1, RAM_GPA, 4096, 0), EBADF);
	CHECK_ERRNO(poison_fn(v.fd, RAM_GPA, 4096, 0), EINVAL);   /* a vCPU fd */
	CHECK_ERRNO(poison_fn(vm.fd, RAM_GPA, 0, 0), EINVAL);
	CHECK_ERRNO(poison_fn(vm.fd, ~0ull - 10, 4096, 0), EINVAL);
	CHECK_ERRNO(poison_fn(vm.fd, RAM_GPA, 4096, 0x80), EINVAL);
	CHECK_OK(poison_fn(vm.fd, RAM_GPA + 0x10000, 1, 0));
	CHECK_OK(unpoison_fn(vm.fd, RAM_GPA + 0x10000, 1));
	control("ping\n", "ok softkvm");
	control("poison 7 0x1000 0x1000\n", "error 2 ");
	control("poison 0 0x1000\n", "error 22 ");
	control("frobnicate\n", "error 22 ");
	control("unpoison all 0x40000000 0x2000000\n", "ok");
#ifdef __x86_64__
	/* x86 VMs take poison too (src/arch/x86/mce.c, tests/x86_mce.c) */
	int x86 = ioctl(vm.kvm, KVM_CREATE_VM, 0);
	CHECK(x86 >= 0);
	CHECK_OK(poison_fn(x86, 0, 4096, 0));
	close(x86);
#endif
}

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: %s guest.bin R1|R2|R3|R4|R5\n", argv[0]);
		return 1;
	}
	id = argv[2];
	poison_fn = (int (*)(int, uint64_t, uint64_t, unsigned))dlsym(RTLD_DEFAULT, "softkvm_poison");
	unpoison_fn = (int (*)(int, uint64_t, uint64_t))dlsym(RTLD_DEFAULT, "softkvm_unpoison");
	if (!poison_fn || !unpoison_fn) {
		printf("SKIP %s: no softkvm fault injection (real KVM?)\n", id);
		return 77;
	}
	sea_exit = is("R5") || getenv("SOFTKVM_TEST_QEMU_USER");
	if (is("R2") && sea_exit) {
		printf("SKIP R2: qemu-user cannot deliver a self-sent SIGBUS BUS_OBJERR\n");
		return 77;
	}
	struct sigaction sa = {.sa_sigaction = on_sigbus, .sa_flags = SA_SIGINFO};
	sigemptyset(&sa.sa_mask);
	sigaction(SIGBUS, &sa, NULL);
	if (tvm_create(&vm) < 0 || load_guest(&vm, argv[1]) < 0 ||
	    tvcpu_create(&vm, &v, 0, 1u << KVM_ARM_VCPU_PSCI_0_2) < 0) {
		perror("setup");
		return 1;
	}
	if (is("R1"))
		api_checks();
	if (sea_exit) {
		struct kvm_enable_cap cap = {.cap = KVM_CAP_ARM_SEA_TO_USER};
		CHECK_OK(ioctl(vm.fd, KVM_ENABLE_CAP, &cap));
	}
	set_reg(&v, CORE_REG(regs.pc), RAM_GPA);
	int step = 0, events = 0;
	for (int guard = 0; guard < 10000; guard++) {
		int handled, n = v.nvalues;
		int r = run_once(&v, &handled);
		if (handled) {
			if (v.nvalues != n) {
				step = (int)v.values[v.nvalues - 1];
				poison_step(step);
			}
			continue;
		}
		if (r == KVM_EXIT_SYSTEM_EVENT)
			break;
		struct expect e;
		if (expect_of(step, &e) && (r == -EINTR || r == KVM_EXIT_ARM_SEA)) {
			consumed(step, r);
			events++;
			step = 0;   /* one event per step */
			continue;
		}
		printf("FAIL unexpected exit %d at step %d, pc %#llx\n", r, step,
		       (unsigned long long)get_reg(&v, CORE_REG(regs.pc)));
		t_failures++;
		break;
	}
	CHECK_EQ(10, step);
	CHECK_EQ(8, events);
	CHECK_EQ(30, v.checks);
	CHECK_EQ(0, v.fails);
	printf("%s: guest memory poison, %d guest checks\n", id, v.checks);
	return t_done();
}
