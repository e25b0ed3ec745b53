/* X5: KVM_MEM_LOG_DIRTY_PAGES. KVM_GET_DIRTY_LOG returns exactly the pages
 * the guest wrote since the last call (not pages it only read, not pages the
 * VMM wrote) and resets them; with KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2 enabled
 * GET no longer resets and KVM_CLEAR_DIRTY_LOG does, page by page. */
#include "vm.h"

#include <sys/ioctl.h>
#include <sys/mman.h>

#define PAGE 4096u
#define GPA 0x40000000u
#define PAGES 64u

struct dirty {
	struct vm vm;
	struct vcpu v;
	uint8_t *mem;
};

static void setup(struct dirty *d)
{
	probe_init(&d->vm, &d->v);
	d->mem = map_anon(PAGES * PAGE);
	CHECK_OK(vm_set_slot(&d->vm, 1, GPA, PAGES * PAGE, d->mem, KVM_MEM_LOG_DIRTY_PAGES));
}

static void teardown(struct dirty *d)
{
	vcpu_fini(&d->v);
	vm_fini(&d->vm);
	munmap(d->mem, PAGES * PAGE);
}

static void guest_writes(struct dirty *d, uint32_t page, uint32_t val)
{
	uint64_t mmio = 0;
	CHECK_EQ(1, probe_write(&d->v, GPA + page * PAGE + 4 * (page % 7), val, &mmio));
}

/* KVM_GET_DIRTY_LOG of slot 1; the word after the bitmap must stay as it was. */
static uint64_t get_log(struct dirty *d)
{
	uint64_t buf[2] = {0x5a5a5a5a5a5a5a5aull, 0xa5a5a5a5a5a5a5a5ull};
	struct kvm_dirty_log log = {.slot = 1, .dirty_bitmap = buf};
	CHECK_OK(ioctl(d->vm.fd, KVM_GET_DIRTY_LOG, &log));
	CHECK_EQ(0xa5a5a5a5a5a5a5a5ull, buf[1]);
	return buf[0];
}

static void exact_and_reset(void)
{
	struct dirty d;
	setup(&d);
	CHECK_EQ(0, get_log(&d));
	guest_writes(&d, 1, 0x101);
	guest_writes(&d, 5, 0x105);
	guest_writes(&d, 6, 0x106);
	guest_writes(&d, 6, 0x206);
	guest_writes(&d, 63, 0x13f);
	CHECK_GUEST_READS(&d.v, GPA + 10 * PAGE, 0);     /* a read is not a write */
	memset(d.mem + 20 * PAGE, 0x77, PAGE);          /* the VMM's write does not count */
	CHECK_EQ((1ull << 1) | (1ull << 5) | (1ull << 6) | (1ull << 63), get_log(&d));
	CHECK_EQ(0, get_log(&d));                        /* reset by the first GET */
	guest_writes(&d, 5, 0x305);
	CHECK_EQ(1ull << 5, get_log(&d));
	CHECK_EQ(0x305, ((uint32_t *)d.mem)[(5 * PAGE + 4 * 5) / 4]);
	teardown(&d);
}

static void no_log_enoent(void)
{
	struct dirty d;
	setup(&d);
	uint64_t buf = 0;
	struct kvm_dirty_log log = {.slot = 0, .dirty_bitmap = &buf};
	CHECK_ERRNO(ioctl(d.vm.fd, KVM_GET_DIRTY_LOG, &log), ENOENT);
	log.slot = 7;
	CHECK_ERRNO(ioctl(d.vm.fd, KVM_GET_DIRTY_LOG, &log), ENOENT);
	log.slot = 1;
	log.dirty_bitmap = (void *)1;
	guest_writes(&d, 2, 1);
	CHECK_ERRNO(ioctl(d.vm.fd, KVM_GET_DIRTY_LOG, &log), EFAULT);
	teardown(&d);
}

/* Writes KVM makes for the guest count too: here rep insb into page 7 (the
 * data comes from the VMM through KVM_EXIT_IO, KVM stores it). */
GUEST_CODE(x5_ins, 32,
	"cld\n"
	"mov $0x40007000, %edi\n"
	"mov $4, %ecx\n"
	"mov $0x21, %dx\n"
	"rep insb\n"
	"out %al, $0x10\n"
	"hlt\n");

static void emulated_writes_logged(void)
{
	struct vm vm;
	struct vcpu v;
	vm_init(&vm);
	vcpu_init(&vm, &v, 0);
	GUEST_LOAD(&vm, x5_ins);
	vcpu_setup(&v, MODE_PROT32, G_CODE);
	uint8_t *mem = map_anon(PAGES * PAGE);
	CHECK_OK(vm_set_slot(&vm, 1, GPA, PAGES * PAGE, mem, KVM_MEM_LOG_DIRTY_PAGES));
	for (int exits = 0; exits < 8; exits++) {
		if (!CHECK_OK(vcpu_run(&v)) || v.run->exit_reason != KVM_EXIT_IO ||
		    v.run->io.port != 0x21)
			break;
		memset(io_data(&v), 0xee, v.run->io.count);
	}
	CHECK_EQ(0x10, v.run->io.port);
	CHECK_EQ(0xeeeeeeee, *(uint32_t *)(mem + 7 * PAGE));
	uint64_t buf = 0;
	struct kvm_dirty_log log = {.slot = 1, .dirty_bitmap = &buf};
	CHECK_OK(ioctl(vm.fd, KVM_GET_DIRTY_LOG, &log));
	CHECK_EQ(1ull << 7, buf);
	vcpu_fini(&v);
	vm_fini(&vm);
	munmap(mem, PAGES * PAGE);
}

static int clear_log(struct dirty *d, uint32_t first, uint32_t num, uint64_t bits)
{
	struct kvm_clear_dirty_log c = {.slot = 1, .num_pages = num, .first_page = first,
					.dirty_bitmap = &bits};
	return ioctl(d->vm.fd, KVM_CLEAR_DIRTY_LOG, &c);
}

static void manual_protect(void)
{
	struct dirty d;
	setup(&d);
	int caps = check_ext(d.vm.fd, KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2);
	CHECK(caps & KVM_DIRTY_LOG_MANUAL_PROTECT_ENABLE);
	struct kvm_enable_cap cap = {.cap = KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2};
	cap.args[0] = 1ull << 5;
	CHECK_ERRNO(ioctl(d.vm.fd, KVM_ENABLE_CAP, &cap), EINVAL);
	cap.args[0] = KVM_DIRTY_LOG_MANUAL_PROTECT_ENABLE;
	if (!CHECK_OK(ioctl(d.vm.fd, KVM_ENABLE_CAP, &cap))) {
		teardown(&d);
		return;
	}
	guest_writes(&d, 2, 1);
	guest_writes(&d, 3, 1);
	guest_writes(&d, 4, 1);
	const uint64_t all = (1ull << 2) | (1ull << 3) | (1ull << 4);
	CHECK_EQ(all, get_log(&d));
	CHECK_EQ(all, get_log(&d));                       /* GET does not reset now */
	CHECK_OK(clear_log(&d, 0, PAGES, (1ull << 2) | (1ull << 3) | (1ull << 9)));
	CHECK_EQ(1ull << 4, get_log(&d));
	guest_writes(&d, 2, 2);                           /* cleared pages log again */
	CHECK_EQ((1ull << 2) | (1ull << 4), get_log(&d));

	/* first_page must be a multiple of 64; num_pages too unless it ends
	 * the slot; the range must lie in the slot. */
	CHECK_ERRNO(clear_log(&d, 1, 63, 0), EINVAL);
	CHECK_ERRNO(clear_log(&d, 0, 32, 1), EINVAL);
	CHECK_ERRNO(clear_log(&d, 0, 65, 1), EINVAL);
	CHECK_ERRNO(clear_log(&d, 64, 64, 1), EINVAL);
	CHECK_EQ((1ull << 2) | (1ull << 4), get_log(&d));
	teardown(&d);
}

int main(void)
{
	RUN_CASE(exact_and_reset);
	RUN_CASE(no_log_enoent);
	RUN_CASE(emulated_writes_logged);
	RUN_CASE(manual_protect);
	return t_done();
}
