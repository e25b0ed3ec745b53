/* The KVM API's basic contract and its errors, as real KVM answers them:
 * API version 12, the vCPU mmap (kvm_run, the PIO data page), what each kind
 * of fd says to an ioctl it does not know (system fd: EINVAL, VM fd: ENOTTY,
 * vCPU fd: EINVAL), EBADF after close, EFAULT for bad pointers without
 * crashing, KVM_CREATE_VM's type, KVM_CREATE_VCPU's id rules. */
#include "vm.h"

#include <pthread.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <termios.h>

#define PAGE 4096u
#define UNKNOWN_KVM_IOCTL _IO(KVMIO, 0xfe)
#define UNKNOWN_KVM_IOCTL_RW _IOWR(KVMIO, 0xfe, struct kvm_regs)

static void api_version(void)
{
	int kvm = kvm_open();
	CHECK_EQ(KVM_API_VERSION, 12);
	CHECK_EQ(12, ioctl(kvm, KVM_GET_API_VERSION, 0UL));
	CHECK_EQ(0, check_ext(kvm, 0x7fffff00));
	CHECK(check_ext(kvm, KVM_CAP_USER_MEMORY) > 0);
	close(kvm);
}

GUEST_CODE(api_out, 32,
	"mov $0x44332211, %eax\n"
	"out %eax, $0x10\n"
	"hlt\n");

static void vcpu_mmap(void)
{
	struct vm vm;
	struct vcpu v;
	vm_init(&vm);
	int size = ioctl(vm.kvm, KVM_GET_VCPU_MMAP_SIZE, 0UL);
	CHECK(size >= (int)sizeof(struct kvm_run));
	CHECK_EQ(0, size % (int)PAGE);
	CHECK(size >= 2 * (int)PAGE);  /* kvm_run + the PIO data page on x86 */
	int coalesced = check_ext(vm.kvm, KVM_CAP_COALESCED_MMIO);
	if (coalesced > 0)
		CHECK(size >= (coalesced + 1) * (int)PAGE);
	vcpu_init(&vm, &v, 0);
	GUEST_LOAD(&vm, api_out);
	vcpu_setup(&v, MODE_PROT32, G_CODE);

	/* Two mappings of the vCPU fd are the same kvm_run. */
	struct kvm_run *other = mmap(NULL, (size_t)size, PROT_READ | PROT_WRITE, MAP_SHARED, v.fd, 0);
	if (CHECK(other != MAP_FAILED)) {
		v.run->immediate_exit = 1;
		CHECK_EQ(1, other->immediate_exit);
		other->immediate_exit = 0;
		CHECK_EQ(0, v.run->immediate_exit);
	}
	CHECK_EQ(0x44332211, RUN_EXPECT_OUT(&v, 0x10));
	CHECK_EQ(KVM_PIO_PAGE_OFFSET * PAGE, v.run->io.data_offset);
	CHECK_EQ(4, v.run->io.size);
	CHECK_EQ(1, v.run->io.count);
	if (other != MAP_FAILED) {
		CHECK_EQ(KVM_EXIT_IO, other->exit_reason);
		munmap(other, (size_t)size);
	}
	/* The PIO page on its own, at its page offset. */
	uint8_t *pio = mmap(NULL, PAGE, PROT_READ, MAP_SHARED, v.fd, KVM_PIO_PAGE_OFFSET * PAGE);
	if (CHECK(pio != MAP_FAILED)) {
		uint32_t val = 0;
		memcpy(&val, pio + v.run->io.data_offset % PAGE, 4);
		CHECK_EQ(0x44332211, val);
		munmap(pio, PAGE);
	}
	/* Neither the VM fd nor /dev/kvm can be mapped. */
	errno = 0;
	CHECK(mmap(NULL, PAGE, PROT_READ, MAP_SHARED, vm.fd, 0) == MAP_FAILED);
	CHECK_EQ(ENODEV, errno);
	errno = 0;
	CHECK(mmap(NULL, PAGE, PROT_READ, MAP_SHARED, vm.kvm, 0) == MAP_FAILED);
	CHECK_EQ(ENODEV, errno);
	vcpu_fini(&v);
	vm_fini(&vm);
}

static void unknown_ioctls(void)
{
	struct vm vm;
	struct vcpu v;
	struct termios tio;
	struct kvm_regs regs;
	vm_init(&vm);
	vcpu_init(&vm, &v, 0);
	CHECK_ERRNO(ioctl(vm.kvm, UNKNOWN_KVM_IOCTL, 0UL), EINVAL);
	CHECK_ERRNO(ioctl(vm.kvm, UNKNOWN_KVM_IOCTL_RW, &regs), EINVAL);
	CHECK_ERRNO(ioctl(vm.kvm, TCGETS, &tio), EINVAL);
	CHECK_ERRNO(ioctl(vm.kvm, KVM_GET_REGS, &regs), EINVAL);
	CHECK_ERRNO(ioctl(vm.kvm, KVM_CREATE_VCPU, 0UL), EINVAL);

	CHECK_ERRNO(ioctl(vm.fd, UNKNOWN_KVM_IOCTL, 0UL), ENOTTY);
	CHECK_ERRNO(ioctl(vm.fd, UNKNOWN_KVM_IOCTL_RW, &regs), ENOTTY);
	CHECK_ERRNO(ioctl(vm.fd, TCGETS, &tio), ENOTTY);
	CHECK_ERRNO(ioctl(vm.fd, KVM_GET_REGS, &regs), ENOTTY);
	CHECK_ERRNO(ioctl(vm.fd, KVM_RUN, 0UL), ENOTTY);

	CHECK_ERRNO(ioctl(v.fd, UNKNOWN_KVM_IOCTL, 0UL), EINVAL);
	CHECK_ERRNO(ioctl(v.fd, UNKNOWN_KVM_IOCTL_RW, &regs), EINVAL);
	CHECK_ERRNO(ioctl(v.fd, TCGETS, &tio), EINVAL);
	CHECK_ERRNO(ioctl(v.fd, KVM_CREATE_VCPU, 1UL), EINVAL);
	vcpu_fini(&v);
	vm_fini(&vm);
}

static void closed_fds(void)
{
	struct vm vm;
	struct vcpu v;
	struct kvm_regs regs;
	vm_init(&vm);
	vcpu_init(&vm, &v, 0);
	int vcpufd = v.fd, vmfd = vm.fd, kvm = vm.kvm;
	/* A dup works like the original, and outlives it. */
	int dupfd = dup(vcpufd);
	CHECK(dupfd >= 0);
	vcpu_fini(&v);
	CHECK_OK(ioctl(dupfd, KVM_GET_REGS, &regs));
	CHECK_ERRNO(ioctl(vcpufd, KVM_GET_REGS, &regs), EBADF);
	CHECK_ERRNO(ioctl(vcpufd, KVM_RUN, 0UL), EBADF);
	close(dupfd);
	CHECK_ERRNO(ioctl(dupfd, KVM_GET_REGS, &regs), EBADF);
	close(vmfd);
	CHECK_ERRNO(ioctl(vmfd, KVM_CREATE_VCPU, 1UL), EBADF);
	close(kvm);
	CHECK_ERRNO(ioctl(kvm, KVM_GET_API_VERSION, 0UL), EBADF);
	munmap(vm.mem, G_MEM_SIZE);
}

/* The vCPU fd keeps its VM alive: closing the VM fd (and /dev/kvm) does
 * not stop a vCPU, and a vCPU can run on a thread other than its creator. */
GUEST_CODE(api_twice, 32, "1: out %al, $0x10\njmp 1b\n");

static void *run_on_thread(void *arg)
{
	struct vcpu *v = arg;
	RUN_EXPECT_OUT(v, 0x10);
	return NULL;
}

static void vcpu_outlives_vm_fd(void)
{
	struct vm vm;
	struct vcpu v;
	vm_init(&vm);
	vcpu_init(&vm, &v, 0);
	GUEST_LOAD(&vm, api_twice);
	vcpu_setup(&v, MODE_PROT32, G_CODE);
	close(vm.fd);
	close(vm.kvm);
	RUN_EXPECT_OUT(&v, 0x10);
	pthread_t t;
	pthread_create(&t, NULL, run_on_thread, &v);
	pthread_join(t, NULL);
	RUN_EXPECT_OUT(&v, 0x10);
	vcpu_fini(&v);
	munmap(vm.mem, G_MEM_SIZE);
}

static void bad_pointers(void)
{
	struct vm vm;
	struct vcpu v;
	vm_init(&vm);
	vcpu_init(&vm, &v, 0);
	CHECK_ERRNO(ioctl(v.fd, KVM_GET_REGS, (void *)1), EFAULT);
	CHECK_ERRNO(ioctl(v.fd, KVM_SET_REGS, (void *)1), EFAULT);
	CHECK_ERRNO(ioctl(v.fd, KVM_GET_SREGS, NULL), EFAULT);
	CHECK_ERRNO(ioctl(v.fd, KVM_GET_VCPU_EVENTS, (void *)8), EFAULT);
	/* Read-only memory cannot receive GET_SREGS. */
	void *ro = mmap(NULL, PAGE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CHECK_ERRNO(ioctl(v.fd, KVM_GET_SREGS, ro), EFAULT);
	/* An argument in memory that is no longer mapped. */
	void *gone = map_anon(PAGE);
	munmap(gone, PAGE);
	CHECK_ERRNO(ioctl(vm.fd, KVM_SET_USER_MEMORY_REGION, gone), EFAULT);
	CHECK_ERRNO(ioctl(v.fd, KVM_SET_REGS, gone), EFAULT);
	/* A struct that straddles the end of a mapping. */
	uint8_t *two = map_anon(2 * PAGE);
	munmap(two + PAGE, PAGE);
	CHECK_ERRNO(ioctl(v.fd, KVM_GET_REGS, two + PAGE - 16), EFAULT);
	/* Everything still works afterwards. */
	struct kvm_regs regs;
	CHECK_OK(ioctl(v.fd, KVM_GET_REGS, &regs));
	munmap(ro, PAGE);
	munmap(two, PAGE);
	vcpu_fini(&v);
	vm_fini(&vm);
}

static void create_vm_type(void)
{
	int kvm = kvm_open();
	CHECK_ERRNO(ioctl(kvm, KVM_CREATE_VM, 1UL), EINVAL);
	CHECK_ERRNO(ioctl(kvm, KVM_CREATE_VM, 0x80000000UL), EINVAL);
	int vm = ioctl(kvm, KVM_CREATE_VM, 0UL);
	CHECK(vm >= 0);
	/* Two VMs at once are independent. */
	int vm2 = ioctl(kvm, KVM_CREATE_VM, 0UL);
	CHECK(vm2 >= 0 && vm2 != vm);
	close(vm2);
	close(vm);
	close(kvm);
}

static void create_vcpu_ids(void)
{
	struct vm vm;
	vm_init_bare(&vm);
	int max_id = check_ext(vm.fd, KVM_CAP_MAX_VCPU_ID);
	int max_vcpus = check_ext(vm.fd, KVM_CAP_MAX_VCPUS);
	CHECK(max_vcpus >= 1);
	CHECK(max_id >= max_vcpus);
	CHECK(check_ext(vm.fd, KVM_CAP_NR_VCPUS) >= 1);
	int a = ioctl(vm.fd, KVM_CREATE_VCPU, 0UL);
	CHECK(a >= 0);
	CHECK_ERRNO(ioctl(vm.fd, KVM_CREATE_VCPU, 0UL), EEXIST);
	if (max_id > 0)
		CHECK_ERRNO(ioctl(vm.fd, KVM_CREATE_VCPU, (unsigned long)max_id), EINVAL);
	CHECK_ERRNO(ioctl(vm.fd, KVM_CREATE_VCPU, 0xffffffffUL), EINVAL);
	int b = ioctl(vm.fd, KVM_CREATE_VCPU, (unsigned long)(max_id - 1));
	CHECK(b >= 0);
	close(b);
	close(a);
	vm_fini(&vm);
}

int main(void)
{
	RUN_CASE(api_version);
	RUN_CASE(vcpu_mmap);
	RUN_CASE(unknown_ioctls);
	RUN_CASE(closed_fds);
	RUN_CASE(vcpu_outlives_vm_fd);
	RUN_CASE(bad_pointers);
	RUN_CASE(create_vm_type);
	RUN_CASE(create_vcpu_ids);
	return t_done();
}
