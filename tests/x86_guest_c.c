/* A C guest compiled with the compiler's x86-64 defaults and -O2 (so SSE2
 * doubles, XMM struct copies, x87 long double) runs in long mode; its
 * results must equal, byte for byte, the same code run natively here.
 * argv[1] is the guest ELF (tests/guest_c/guest.c, static, at 1 MiB).
 */
#include "vm.h"

#include <elf.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/ioctl.h>

#include "guest_c/compute.h"

#define RESULT_ADDR 0x1f0000ul

static bool load_elf(struct vm *vm, const char *path, uint64_t *entry)
{
	FILE *f = fopen(path, "rb");
	if (!CHECK(f != NULL))
		return false;
	static uint8_t img[1 << 20];
	size_t n = fread(img, 1, sizeof(img), f);
	fclose(f);
	const Elf64_Ehdr *eh = (const Elf64_Ehdr *)img;
	if (!CHECK(n > sizeof(*eh) && !memcmp(eh->e_ident, ELFMAG, SELFMAG)))
		return false;
	for (int k = 0; k < eh->e_phnum; k++) {
		const Elf64_Phdr *ph = (const Elf64_Phdr *)(img + eh->e_phoff) + k;
		if (ph->p_type != PT_LOAD)
			continue;
		if (!CHECK(ph->p_paddr + ph->p_memsz <= RESULT_ADDR - 0x20000 &&
			   ph->p_offset + ph->p_filesz <= n))
			return false;
		memcpy(vm->mem + ph->p_paddr, img + ph->p_offset, ph->p_filesz);
		memset(vm->mem + ph->p_paddr + ph->p_filesz, 0, ph->p_memsz - ph->p_filesz);
	}
	*entry = eh->e_entry;
	return true;
}

static const char *elf_path;

static void c_guest(void)
{
	struct vm vm;
	struct vcpu v;
	uint64_t entry;
	vm_init(&vm);
	vcpu_init(&vm, &v, 0);
	if (!load_elf(&vm, elf_path, &entry))
		return;
	vcpu_setup(&v, MODE_LONG, entry);
	struct kvm_sregs s = get_sregs(&v);
	s.cr4 |= (1u << 9) | (1u << 10);   /* OSFXSR, OSXMMEXCPT */
	CHECK_OK(ioctl(v.fd, KVM_SET_SREGS, &s));
	CHECK_EQ(0x600d, RUN_EXPECT_OUT(&v, 0xe9));
	static struct results want;
	compute(&want);
	const struct results *got = (const struct results *)(vm.mem + RESULT_ADDR);
	CHECK_EQ(0x600d, got->done);
	for (int k = 0; k < 16; k++)
		if (memcmp(&want.d[k], &got->d[k], 8))
			fprintf(stderr, "d[%d]: want %.17g got %.17g\n", k, want.d[k], got->d[k]);
	CHECK(!memcmp(want.d, got->d, sizeof(want.d)));
	CHECK(!memcmp(want.ld, got->ld, sizeof(want.ld)));
	CHECK(!memcmp(want.i, got->i, sizeof(want.i)));
	CHECK(!memcmp(want.f, got->f, sizeof(want.f)));
	CHECK(!memcmp(want.items, got->items, sizeof(want.items)));
	if (!CHECK(!strcmp(want.text, got->text)))
		fprintf(stderr, "text: want \"%s\" got \"%.95s\"\n", want.text, got->text);
	vcpu_fini(&v);
	vm_fini(&vm);
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: %s GUEST.elf\n", argv[0]);
		return 2;
	}
	elf_path = argv[1];
	RUN_CASE(c_guest);
	return t_done();
}
