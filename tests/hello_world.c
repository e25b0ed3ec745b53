/* kvm-hello-world, four times: a guest in real mode, 32-bit protected mode,
 * 32-bit paged mode and 64-bit long mode prints "Hello, world!\n" through
 * port 0xE9 and leaves 42 at guest-physical 0x400 (and in the accumulator);
 * the VMM checks the text, the memory and the register. */
#include "vm.h"

extern const unsigned char hello16[], hello16_end[];
extern const unsigned char hello32[], hello32_end[];
extern const unsigned char hello64[], hello64_end[];

static void run_hello(enum guest_mode mode, const unsigned char *code,
		      const unsigned char *end, uint64_t width_mask)
{
	struct vm vm;
	struct vcpu v;
	char out[64];
	size_t n = 0;

	vm_init(&vm);
	vcpu_init(&vm, &v, 0);
	guest_load(&vm, G_CODE, code, end);
	vcpu_setup(&v, mode, G_CODE);
	memset(vm.mem + G_RESULT, 0, 8);

	for (;;) {
		if (!CHECK_OK(vcpu_run(&v)))
			break;
		struct kvm_run *run = v.run;
		if (run->exit_reason == KVM_EXIT_IO && run->io.direction == KVM_EXIT_IO_OUT &&
		    run->io.port == 0xe9 && run->io.size == 1) {
			const char *p = io_data(&v);
			for (uint32_t i = 0; i < run->io.count && n < sizeof(out) - 1; i++)
				out[n++] = p[i];
			continue;
		}
		CHECK_EQ(KVM_EXIT_HLT, run->exit_reason);
		if (run->exit_reason != KVM_EXIT_HLT)
			fprintf(stderr, "     unexpected exit: %s\n", exit_str(&v));
		break;
	}
	out[n] = 0;
	printf("   guest said: %s", out);
	if (!CHECK(strcmp(out, "Hello, world!\n") == 0))
		fprintf(stderr, "     expected \"Hello, world!\\n\", got \"%s\"\n", out);
	uint64_t mem = 0;
	memcpy(&mem, vm.mem + G_RESULT, 8);
	CHECK_EQ(42, mem);
	CHECK_EQ(42, get_regs(&v).rax & width_mask);
	vcpu_fini(&v);
	vm_fini(&vm);
}

static void real_mode(void)
{
	run_hello(MODE_REAL, hello16, hello16_end, 0xffff);
}

static void protected_mode(void)
{
	run_hello(MODE_PROT32, hello32, hello32_end, 0xffffffff);
}

static void paged_32bit_mode(void)
{
	run_hello(MODE_PAGED32, hello32, hello32_end, 0xffffffff);
}

static void long_mode(void)
{
	run_hello(MODE_LONG, hello64, hello64_end, ~0ull);
}

int main(void)
{
	RUN_CASE(real_mode);
	RUN_CASE(protected_mode);
	RUN_CASE(paged_32bit_mode);
	RUN_CASE(long_mode);
	return t_done();
}
