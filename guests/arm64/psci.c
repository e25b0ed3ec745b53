/* PSCI bring-up: CPU_ON a powered-off secondary, which runs on its own
 * host thread, reports and turns itself off; AFFINITY_INFO follows it. */
#include "lib.h"

#define CPU_ON 0xc4000003ul
#define AFFINITY_INFO 0xc4000004ul

extern char __stack2_top[];
extern void secondary_entry(void);
static volatile uint64_t flag;
static volatile uint64_t seen_mpidr, seen_ctx;

void secondary_main(uint64_t ctx)
{
	seen_ctx = ctx;
	seen_mpidr = read_sysreg(mpidr_el1);
	__atomic_store_n(&flag, 1, __ATOMIC_RELEASE);
	value(0x5ec);   /* reported through the secondary's own vCPU fd */
}

int main(void)
{
	uint64_t target = 1;   /* vcpu id 1: MPIDR.Aff0 = 1 */
	check(1, hvc(AFFINITY_INFO, target, 0, 0), 1);   /* OFF */
	check(2, hvc(CPU_ON, 0x77, (uint64_t)secondary_entry, 0), (uint64_t)-2);   /* no such CPU */
	check(3, hvc(CPU_ON, target, (uint64_t)secondary_entry, (uint64_t)__stack2_top), 0);
	while (!__atomic_load_n(&flag, __ATOMIC_ACQUIRE))
		;
	check(4, seen_ctx, (uint64_t)__stack2_top);
	check(5, seen_mpidr, 0x80000001ul);
	while (hvc(AFFINITY_INFO, target, 0, 0) != 1)
		;
	check(6, 1, 1);
	/* once off, it can be started again */
	flag = 0;
	check(7, hvc(CPU_ON, target, (uint64_t)secondary_entry, (uint64_t)__stack2_top), 0);
	while (!__atomic_load_n(&flag, __ATOMIC_ACQUIRE))
		;
	check(8, hvc(CPU_ON, 0, (uint64_t)secondary_entry, 0), (uint64_t)-4);   /* self: ALREADY_ON */
	return 0;
}
