/* KVM_CHECK_EXTENSION: the capabilities the core itself provides; every
 * other one is the arch's to answer. A capability says yes only when what
 * it names works. */
#include <unistd.h>

#include "arch/arch.h"
#include "kvm/kvm.h"

struct cap {
	long ext;
	long val;
};

/* KVM_DIRTY_LOG_MANUAL_PROTECT_ENABLE | KVM_DIRTY_LOG_INITIALLY_SET */
#define DIRTY_LOG_MANUAL_CAPS 3

static const struct cap core_caps[] = {
	{KVM_CAP_USER_MEMORY, 1},
	{KVM_CAP_DESTROY_MEMORY_REGION_WORKS, 1},
	{KVM_CAP_JOIN_MEMORY_REGIONS_WORKS, 1},
	{KVM_CAP_INTERNAL_ERROR_DATA, 1},
	{KVM_CAP_CHECK_EXTENSION_VM, 1},
	{KVM_CAP_ENABLE_CAP_VM, 1},
	{KVM_CAP_ENABLE_CAP, 1},
	{KVM_CAP_HALT_POLL, 1},
	{KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2, DIRTY_LOG_MANUAL_CAPS},
	{KVM_CAP_NR_MEMSLOTS, SK_USER_MEM_SLOTS},
	{KVM_CAP_READONLY_MEM, 1},
	{KVM_CAP_SYNC_MMU, 1},
	{KVM_CAP_IMMEDIATE_EXIT, 1},
	{KVM_CAP_MAX_VCPUS, SK_MAX_VCPUS},
	{KVM_CAP_MAX_VCPU_ID, SK_MAX_VCPU_ID},
	{KVM_CAP_SYSTEM_EVENT_DATA, 1},
	{KVM_CAP_BINARY_STATS_FD, 1},
	/* Said no on purpose until they exist: */
	{KVM_CAP_COALESCED_MMIO, 0},
	{KVM_CAP_COALESCED_PIO, 0},
	{KVM_CAP_DIRTY_LOG_RING, 0},
};

long sk_check_extension(struct sk_vm *vm, long ext)
{
	if (ext == KVM_CAP_NR_VCPUS) {
		long n = sysconf(_SC_NPROCESSORS_ONLN);
		return n < 1 ? 1 : n < SK_MAX_VCPUS ? n : SK_MAX_VCPUS;
	}
	const struct sk_arch_ops *arch = vm ? vm->arch : sk_arch_default();
	/* Said only where there is more than one (#if KVM_ADDRESS_SPACE_NUM > 1). */
	if (ext == KVM_CAP_MULTI_ADDRESS_SPACE)
		return arch->address_spaces > 1 ? arch->address_spaces : 0;
	for (size_t i = 0; i < sizeof(core_caps) / sizeof(core_caps[0]); i++)
		if (core_caps[i].ext == ext)
			return core_caps[i].val;
	return arch->check_extension(vm, ext);
}
