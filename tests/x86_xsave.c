/* The XSAVE family and IA32_XSS against the SDM (vol. 1 ch. 13) and KVM
 * 6.1: CPUID leaf 0xD subleaf 1 (XSAVEOPT, XSAVEC, XSAVES; the compacted
 * size), IA32_XSS (KVM supports no bit: every set bit fails, for the host
 * and the guest; the MSR needs XSAVES in the guest's CPUID), XSAVEC and
 * XSAVES (compacted format: XCOMP_BV, what is left alone, MXCSR with SSE
 * only), XRSTOR's compacted form (MXCSR to 1F80H without XSTATE_BV[1]),
 * XRSTORS, and their faults: #UD without CR4.OSXSAVE or (XSAVES) without
 * XSAVES in CPUID, #NM with CR0.TS, #GP for misalignment, CPL > 0
 * (XSAVES/XRSTORS), XRSTORS of a standard-form area and reserved header
 * bits; XGETBV with ECX = 1: XCR0 AND XINUSE (x87 and SSE always in use,
 * AVX while a YMM upper half is non-zero), #GP without CPUID's XGETBV1.
 */
#include "vm.h"

#include <stdlib.h>
#include <sys/ioctl.h>

#define G_DATA 0x30000
#define TSS 0x21000
#define KSTACK 0x1f000
#define USTACK 0x1e000
#define CR0_TS (1u << 3)
#define CR4_OSFXSR (1u << 9)
#define CR4_OSXMMEXCPT (1u << 10)
#define CR4_OSXSAVE (1u << 18)
#define MSR_XSS 0xda0
#define COMPACT (1ull << 63)

/* Each snippet ends with OUT 0x51; exception handlers report their vector
 * with OUT 0x50. RBX: the XSAVE area, EDX:EAX the instruction mask. */
GUEST_CODE(s_xsave, 64, "xsave (%rbx)\n out %eax, $0x51\n hlt\n");
GUEST_CODE(s_xsavec, 64, "xsavec (%rbx)\n out %eax, $0x51\n hlt\n");
GUEST_CODE(s_xsaves, 64, "xsaves (%rbx)\n out %eax, $0x51\n hlt\n");
GUEST_CODE(s_xrstor, 64, "xrstor (%rbx)\n out %eax, $0x51\n hlt\n");
GUEST_CODE(s_xrstors, 64, "xrstors (%rbx)\n out %eax, $0x51\n hlt\n");
GUEST_CODE(s_rdxss, 64, "rdmsr\n out %eax, $0x51\n hlt\n");
GUEST_CODE(s_wrxss, 64, "wrmsr\n out %eax, $0x51\n hlt\n");
GUEST_CODE(s_xgetbv, 64, "xgetbv\n out %eax, $0x51\n hlt\n");
/* YMM0's upper half made non-zero (all ones), then XGETBV(1). */
GUEST_CODE(s_ymm_xgetbv, 64, "vcmpeqps %ymm0, %ymm0, %ymm0\n xgetbv\n out %eax, $0x51\n hlt\n");
GUEST_CODE(s_vzu_xgetbv, 64, "vzeroupper\n xgetbv\n out %eax, $0x51\n hlt\n");

struct box {
	struct vm vm;
	struct vcpu v;
	struct kvm_cpuid2 *cpuid;
};

static void put64(struct vm *vm, uint64_t gpa, uint64_t v)
{
	memcpy(vm->mem + gpa, &v, 8);
}

static uint64_t get64(const uint8_t *p)
{
	uint64_t v;
	memcpy(&v, p, 8);
	return v;
}

/* Long mode, ring 0, the supported CPUID (less XSAVES when !xsaves), a
 * ring 3 code/data pair and a TSS for exceptions from ring 3. */
static void box_init(struct box *b, bool xsaves)
{
	vm_init(&b->vm);
	vcpu_init(&b->vm, &b->v, 0);
	vcpu_setup(&b->v, MODE_LONG, G_CODE);
	b->cpuid = cpuid_supported(b->vm.kvm);
	if (!xsaves)
		cpuid_entry(b->cpuid, 0xd, 1)->eax &= ~(1u << 3);
	CHECK_OK(ioctl(b->v.fd, KVM_SET_CPUID2, b->cpuid));
	static const int vecs[] = { 6, 7, 13, 14 };
	for (unsigned k = 0; k < sizeof(vecs) / sizeof(vecs[0]); k++) {
		uint8_t *h = b->vm.mem + 0x3000 + 16 * vecs[k];
		static const uint8_t body[] = { 0xb8, 0, 0, 0, 0, 0xe7, 0x50, 0xf4 };
		memcpy(h, body, sizeof(body));
		h[1] = (uint8_t)vecs[k];
		idt_set(&b->v, vecs[k], 0x3000 + 16 * vecs[k]);
	}
	/* 0x20: ring 3 code (L), 0x28: ring 3 data, 0x30: 64-bit TSS. */
	put64(&b->vm, G_GDT + 0x20, 0x00affa000000ffffull);
	put64(&b->vm, G_GDT + 0x28, 0x00cff2000000ffffull);
	put64(&b->vm, G_GDT + 0x30, 0x67 | (uint64_t)TSS << 16 | 0x89ull << 40);
	put64(&b->vm, G_GDT + 0x38, 0);
	memset(b->vm.mem + TSS, 0, 0x68);
	put64(&b->vm, TSS + 4, KSTACK);
	struct kvm_sregs s = get_sregs(&b->v);
	s.gdt.limit = 0x3f;
	s.tr.selector = 0x30;
	s.tr.base = TSS;
	s.tr.limit = 0x67;
	s.tr.type = 0xb;
	s.tr.s = 0;
	s.tr.present = 1;
	s.tr.unusable = 0;
	CHECK_OK(ioctl(b->v.fd, KVM_SET_SREGS, &s));
}

static void box_fini(struct box *b)
{
	free(b->cpuid);
	vcpu_fini(&b->v);
	vm_fini(&b->vm);
}

static void set_xcr0(struct box *b, uint64_t v)
{
	struct kvm_xcrs x;
	memset(&x, 0, sizeof(x));
	x.nr_xcrs = 1;
	x.xcrs[0].value = v;
	CHECK_OK(ioctl(b->v.fd, KVM_SET_XCRS, &x));
}

struct run {
	uint64_t rax, rdx, rbx, rcx;
	uint32_t cr4;       /* FP bits of CR4 */
	uint32_t cr0_set;
	bool ring3;
};

/* Run code; returns the vector of the exception taken, or -1 when the
 * snippet got to its end. */
static int run(struct box *b, const uint8_t *code, const uint8_t *end, const struct run *p)
{
	memcpy(b->vm.mem + G_CODE, code, (size_t)(end - code));
	struct kvm_sregs s = get_sregs(&b->v);
	s.cr0 = (s.cr0 | p->cr0_set) & ~(uint64_t)(p->cr0_set ? 0 : CR0_TS);
	s.cr4 = p->cr4 | (s.cr4 & ~(uint64_t)(CR4_OSFXSR | CR4_OSXMMEXCPT | CR4_OSXSAVE));
	struct kvm_segment cs = s.cs, ss = s.ss;
	if (p->ring3) {
		cs.selector = 0x23;
		cs.dpl = 3;
		ss.selector = 0x2b;
		ss.dpl = 3;
	} else {
		cs.selector = 0x18;
		cs.dpl = 0;
		ss.selector = 0x10;
		ss.dpl = 0;
	}
	s.cs = cs;
	s.ss = ss;
	CHECK_OK(ioctl(b->v.fd, KVM_SET_SREGS, &s));
	struct kvm_regs r = get_regs(&b->v);
	r.rip = G_CODE;
	r.rax = p->rax;
	r.rdx = p->rdx;
	r.rbx = p->rbx;
	r.rcx = p->rcx;
	r.rsp = p->ring3 ? USTACK : G_STACK;
	r.rflags = 0x3002;      /* IOPL 3: OUT works in ring 3 */
	set_regs(&b->v, &r);
	for (;;) {
		if (!CHECK_OK(vcpu_run(&b->v)) || !CHECK_EQ(KVM_EXIT_IO, b->v.run->exit_reason))
			return -2;
		uint16_t port = b->v.run->io.port;
		if (port == 0x50)
			return *(uint8_t *)io_data(&b->v);
		if (port == 0x51)
			return -1;
	}
}

#define RUN(b, name, ...) run((b), name, name##_end, &(struct run){ __VA_ARGS__ })
#define FX (CR4_OSFXSR | CR4_OSXMMEXCPT)
#define XS (FX | CR4_OSXSAVE)

/* A known FPU state: FCW 0x27f, MXCSR 0x1fa0, XMMk bytes 0x10 + k. */
static void known_fpu(struct box *b)
{
	struct kvm_fpu f;
	memset(&f, 0, sizeof(f));
	f.fcw = 0x27f;
	f.mxcsr = 0x1fa0;
	for (int k = 0; k < 16; k++)
		memset(f.xmm[k], 0x10 + k, 16);
	f.fpr[0][0] = 0x77;
	CHECK_OK(ioctl(b->v.fd, KVM_SET_FPU, &f));
}

static uint8_t *area(struct box *b)
{
	return b->vm.mem + G_DATA;
}

static void fill(struct box *b)
{
	memset(area(b), 0xcc, 4096);
}

static bool all(const uint8_t *p, uint8_t v, unsigned n)
{
	for (unsigned k = 0; k < n; k++)
		if (p[k] != v)
			return false;
	return true;
}

static void cpuid_and_msr(void)
{
	struct box b;
	box_init(&b, true);
	struct kvm_cpuid_entry2 *d0 = cpuid_entry(b.cpuid, 0xd, 0), *d1 = cpuid_entry(b.cpuid, 0xd, 1);
	if (!CHECK(d0 && d1))
		return;
	CHECK_EQ(0xf, d1->eax & 0xf);      /* XSAVEOPT XSAVEC XGETBV1 XSAVES */
	CHECK_EQ((d0->eax & 4) ? 832 : 576, d1->ebx);
	CHECK_EQ(0, d1->ecx);
	CHECK_EQ(0, d1->edx);

	/* IA32_XSS: KVM 6.1 supports none of its bits and, as its value is
	 * always 0, leaves it out of the save/restore list. */
	struct kvm_msr_list *l = calloc(1, sizeof(*l) + 1024 * 4);
	l->nmsrs = 1024;
	CHECK_OK(ioctl(b.vm.kvm, KVM_GET_MSR_INDEX_LIST, l));
	bool listed = false;
	for (unsigned k = 0; k < l->nmsrs; k++)
		listed |= l->indices[k] == MSR_XSS;
	CHECK(!listed);
	free(l);
	uint64_t v = 1;
	CHECK(msr_get(b.v.fd, MSR_XSS, &v));
	CHECK_EQ(0, v);
	CHECK(msr_set(b.v.fd, MSR_XSS, 0));
	for (int bit = 0; bit < 64; bit += 7)
		CHECK(!msr_set(b.v.fd, MSR_XSS, 1ull << bit));
	CHECK(!msr_set(b.v.fd, MSR_XSS, 1ull << 8));

	/* The guest: RDMSR 0, WRMSR 0 fine, any bit #GP. */
	CHECK_EQ(-1, RUN(&b, s_rdxss, .rcx = MSR_XSS, .rax = 5, .cr4 = XS));
	CHECK_EQ(0, get_regs(&b.v).rax);
	CHECK_EQ(-1, RUN(&b, s_wrxss, .rcx = MSR_XSS, .cr4 = XS));
	CHECK_EQ(13, RUN(&b, s_wrxss, .rcx = MSR_XSS, .rax = 1u << 8, .cr4 = XS));
	CHECK_EQ(13, RUN(&b, s_wrxss, .rcx = MSR_XSS, .rdx = 1, .cr4 = XS));
	box_fini(&b);

	/* Without XSAVES in the guest's CPUID the MSR is not there for the
	 * guest, but is for the host. */
	box_init(&b, false);
	CHECK_EQ(13, RUN(&b, s_rdxss, .rcx = MSR_XSS, .cr4 = XS));
	CHECK_EQ(13, RUN(&b, s_wrxss, .rcx = MSR_XSS, .cr4 = XS));
	CHECK(msr_get(b.v.fd, MSR_XSS, &v));
	CHECK(msr_set(b.v.fd, MSR_XSS, 0));
	box_fini(&b);
}

/* XSAVEC / XSAVES output for mask 3 from the known state. */
static void check_compact_full(struct box *b)
{
	uint8_t *a = area(b);
	CHECK_EQ(0x27f, a[0] | a[1] << 8);
	CHECK_EQ(0x77, a[32]);
	CHECK_EQ(0x1fa0, a[24] | a[25] << 8);
	CHECK_EQ(0xffff, a[28] | a[29] << 8);
	CHECK(all(a + 160, 0x10, 16));
	CHECK(all(a + 400, 0x1f, 16));
	CHECK(all(a + 416, 0xcc, 96));            /* 511:416 left alone */
	CHECK_EQ(3, get64(a + 512));
	CHECK_EQ(COMPACT | 3, get64(a + 520));
	CHECK(all(a + 528, 0xcc, 48));            /* the rest of the header */
	CHECK(all(a + 576, 0xcc, 64));            /* nothing beyond */
}

static void xsavec(void)
{
	struct box b;
	box_init(&b, true);
	set_xcr0(&b, 3);
	known_fpu(&b);
	fill(&b);
	CHECK_EQ(-1, RUN(&b, s_xsavec, .rax = ~0u, .rdx = ~0u, .rbx = G_DATA, .cr4 = XS));
	check_compact_full(&b);

	/* x87 only: MXCSR and XMM untouched; XSTATE_BV and XCOMP_BV written
	 * whole. */
	fill(&b);
	put64(&b.vm, G_DATA + 512, ~0ull);
	CHECK_EQ(-1, RUN(&b, s_xsavec, .rax = 1, .rbx = G_DATA, .cr4 = XS));
	uint8_t *a = area(&b);
	CHECK_EQ(0x27f, a[0] | a[1] << 8);
	CHECK(all(a + 24, 0xcc, 8));
	CHECK(all(a + 160, 0xcc, 256));
	CHECK_EQ(1, get64(a + 512));
	CHECK_EQ(COMPACT | 1, get64(a + 520));

	/* SSE only: x87 untouched, MXCSR stored. */
	fill(&b);
	CHECK_EQ(-1, RUN(&b, s_xsavec, .rax = 2, .rbx = G_DATA, .cr4 = XS));
	CHECK(all(a, 0xcc, 24));
	CHECK(all(a + 32, 0xcc, 128));
	CHECK_EQ(0x1fa0, a[24] | a[25] << 8);
	CHECK(all(a + 176, 0x11, 16));
	CHECK_EQ(2, get64(a + 512));
	CHECK_EQ(COMPACT | 2, get64(a + 520));

	/* Mask bits outside XCR0 are ignored. */
	set_xcr0(&b, 1);
	fill(&b);
	CHECK_EQ(-1, RUN(&b, s_xsavec, .rax = 3, .rbx = G_DATA, .cr4 = XS));
	CHECK_EQ(COMPACT | 1, get64(a + 520));
	set_xcr0(&b, 3);

	/* Faults. */
	CHECK_EQ(13, RUN(&b, s_xsavec, .rax = 3, .rbx = G_DATA + 16, .cr4 = XS));
	CHECK_EQ(6, RUN(&b, s_xsavec, .rax = 3, .rbx = G_DATA, .cr4 = FX));
	CHECK_EQ(7, RUN(&b, s_xsavec, .rax = 3, .rbx = G_DATA, .cr4 = XS, .cr0_set = CR0_TS));
	/* XSAVEC works at any CPL. */
	fill(&b);
	CHECK_EQ(-1, RUN(&b, s_xsavec, .rax = 3, .rbx = G_DATA, .cr4 = XS, .ring3 = true));
	check_compact_full(&b);
	box_fini(&b);
}

static void xsaves(void)
{
	struct box b;
	box_init(&b, true);
	set_xcr0(&b, 3);
	known_fpu(&b);
	fill(&b);
	CHECK_EQ(-1, RUN(&b, s_xsaves, .rax = ~0u, .rdx = ~0u, .rbx = G_DATA, .cr4 = XS));
	check_compact_full(&b);
	CHECK_EQ(13, RUN(&b, s_xsaves, .rax = 3, .rbx = G_DATA, .cr4 = XS, .ring3 = true));
	CHECK_EQ(13, RUN(&b, s_xsaves, .rax = 3, .rbx = G_DATA + 32, .cr4 = XS));
	CHECK_EQ(6, RUN(&b, s_xsaves, .rax = 3, .rbx = G_DATA, .cr4 = FX));
	CHECK_EQ(7, RUN(&b, s_xsaves, .rax = 3, .rbx = G_DATA, .cr4 = XS, .cr0_set = CR0_TS));

	/* XRSTORS of what XSAVES wrote, after changing XMM1 in memory (and
	 * clearing the header bytes XSAVES left alone, which XRSTORS checks). */
	memset(area(&b) + 176, 0x5a, 16);
	memset(area(&b) + 528, 0, 48);
	CHECK_EQ(-1, RUN(&b, s_xrstors, .rax = 3, .rbx = G_DATA, .cr4 = XS));
	struct kvm_fpu f;
	CHECK_OK(ioctl(b.v.fd, KVM_GET_FPU, &f));
	CHECK(all(f.xmm[1], 0x5a, 16));
	CHECK_EQ(0x1fa0, f.mxcsr);
	CHECK_EQ(13, RUN(&b, s_xrstors, .rax = 3, .rbx = G_DATA, .cr4 = XS, .ring3 = true));
	CHECK_EQ(13, RUN(&b, s_xrstors, .rax = 3, .rbx = G_DATA + 16, .cr4 = XS));
	/* Standard form: #GP for XRSTORS. */
	put64(&b.vm, G_DATA + 520, 0);
	CHECK_EQ(13, RUN(&b, s_xrstors, .rax = 3, .rbx = G_DATA, .cr4 = XS));
	/* XCOMP_BV with a bit outside XCR0 | IA32_XSS (supervisor PT). */
	put64(&b.vm, G_DATA + 520, COMPACT | 3 | 1u << 8);
	CHECK_EQ(13, RUN(&b, s_xrstors, .rax = 3, .rbx = G_DATA, .cr4 = XS));
	box_fini(&b);

	/* Without XSAVES in CPUID: #UD, before anything else. */
	box_init(&b, false);
	set_xcr0(&b, 3);
	CHECK_EQ(6, RUN(&b, s_xsaves, .rax = 3, .rbx = G_DATA, .cr4 = XS));
	CHECK_EQ(6, RUN(&b, s_xrstors, .rax = 3, .rbx = G_DATA, .cr4 = XS, .ring3 = true));
	CHECK_EQ(6, RUN(&b, s_xsaves, .rax = 3, .rbx = G_DATA + 8, .cr4 = XS,
			.cr0_set = CR0_TS));
	box_fini(&b);
}

/* A compacted image: x87 with FCW 0x7f, MXCSR 0x1f00, XMMk = 0x40 + k. */
static void compact_image(struct box *b, uint64_t bv, uint64_t comp)
{
	uint8_t *a = area(b);
	memset(a, 0, 4096);
	a[0] = 0x7f;
	a[24] = 0x00;
	a[25] = 0x1f;
	for (int k = 0; k < 16; k++)
		memset(a + 160 + 16 * k, 0x40 + k, 16);
	put64(&b->vm, G_DATA + 512, bv);
	put64(&b->vm, G_DATA + 520, comp);
}

static void xrstor_forms(void)
{
	struct box b;
	box_init(&b, true);
	set_xcr0(&b, 3);
	struct kvm_fpu f;

	/* Compacted, everything there. */
	known_fpu(&b);
	compact_image(&b, 3, COMPACT | 3);
	CHECK_EQ(-1, RUN(&b, s_xrstor, .rax = 3, .rbx = G_DATA, .cr4 = XS));
	CHECK_OK(ioctl(b.v.fd, KVM_GET_FPU, &f));
	CHECK_EQ(0x7f, f.fcw);
	CHECK_EQ(0x1f00, f.mxcsr);
	CHECK(all(f.xmm[3], 0x43, 16));

	/* Compacted without XSTATE_BV[1]: XMM zero and MXCSR 1F80H; x87 not
	 * requested stays. */
	known_fpu(&b);
	compact_image(&b, 0, COMPACT | 2);
	CHECK_EQ(-1, RUN(&b, s_xrstor, .rax = 2, .rbx = G_DATA, .cr4 = XS));
	CHECK_OK(ioctl(b.v.fd, KVM_GET_FPU, &f));
	CHECK_EQ(0x27f, f.fcw);
	CHECK_EQ(0x1f80, f.mxcsr);
	CHECK(all(f.xmm[5], 0, 16));
	/* ... even when XCOMP_BV lacks the component. */
	known_fpu(&b);
	compact_image(&b, 0, COMPACT);
	CHECK_EQ(-1, RUN(&b, s_xrstor, .rax = 3, .rbx = G_DATA, .cr4 = XS));
	CHECK_OK(ioctl(b.v.fd, KVM_GET_FPU, &f));
	CHECK_EQ(0x37f, f.fcw);
	CHECK_EQ(0x1f80, f.mxcsr);
	CHECK(all(f.xmm[0], 0, 16));

	/* Standard form without XSTATE_BV[1]: XMM zero, MXCSR from memory. */
	known_fpu(&b);
	compact_image(&b, 0, 0);
	CHECK_EQ(-1, RUN(&b, s_xrstor, .rax = 2, .rbx = G_DATA, .cr4 = XS));
	CHECK_OK(ioctl(b.v.fd, KVM_GET_FPU, &f));
	CHECK_EQ(0x1f00, f.mxcsr);
	CHECK(all(f.xmm[5], 0, 16));
	/* Standard form ignores header bytes 63:24. */
	compact_image(&b, 3, 0);
	area(&b)[512 + 30] = 1;
	CHECK_EQ(-1, RUN(&b, s_xrstor, .rax = 3, .rbx = G_DATA, .cr4 = XS));

	/* #GP: XCOMP_BV beyond XCR0, XSTATE_BV beyond XCOMP_BV, header bytes
	 * 63:16 (compacted) or 23:8 (standard), MXCSR reserved bits. The state
	 * stays as it was. */
	known_fpu(&b);
	compact_image(&b, 3, COMPACT | 7);
	CHECK_EQ(13, RUN(&b, s_xrstor, .rax = 3, .rbx = G_DATA, .cr4 = XS));
	compact_image(&b, 3, COMPACT | 1);
	CHECK_EQ(13, RUN(&b, s_xrstor, .rax = 3, .rbx = G_DATA, .cr4 = XS));
	compact_image(&b, 3, COMPACT | 3);
	area(&b)[512 + 40] = 1;
	CHECK_EQ(13, RUN(&b, s_xrstor, .rax = 3, .rbx = G_DATA, .cr4 = XS));
	compact_image(&b, 3, 0);
	area(&b)[512 + 17] = 1;
	CHECK_EQ(13, RUN(&b, s_xrstor, .rax = 3, .rbx = G_DATA, .cr4 = XS));
	compact_image(&b, 3, 1);
	CHECK_EQ(13, RUN(&b, s_xrstor, .rax = 3, .rbx = G_DATA, .cr4 = XS));
	compact_image(&b, 3, COMPACT | 3);
	area(&b)[26] = 1;
	CHECK_EQ(13, RUN(&b, s_xrstor, .rax = 3, .rbx = G_DATA, .cr4 = XS));
	/* Compacted without XSTATE_BV[1] does not read MXCSR. */
	compact_image(&b, 1, COMPACT | 3);
	area(&b)[26] = 1;
	CHECK_EQ(-1, RUN(&b, s_xrstor, .rax = 3, .rbx = G_DATA, .cr4 = XS));
	CHECK_OK(ioctl(b.v.fd, KVM_GET_FPU, &f));
	CHECK_EQ(0x1f80, f.mxcsr);
	/* Standard form reads it with SSE requested even without XSTATE_BV[1]. */
	known_fpu(&b);
	compact_image(&b, 1, 0);
	area(&b)[26] = 1;
	CHECK_EQ(13, RUN(&b, s_xrstor, .rax = 3, .rbx = G_DATA, .cr4 = XS));
	CHECK_OK(ioctl(b.v.fd, KVM_GET_FPU, &f));
	CHECK_EQ(0x27f, f.fcw);
	CHECK_EQ(0x1fa0, f.mxcsr);

	/* XSAVE (standard form) keeps XCOMP_BV and the rest of the header. */
	fill(&b);
	CHECK_EQ(-1, RUN(&b, s_xsave, .rax = 1, .rbx = G_DATA, .cr4 = XS));
	CHECK_EQ(0xcccccccccccccccdull, get64(area(&b) + 512));
	CHECK_EQ(0xccccccccccccccccull, get64(area(&b) + 520));
	CHECK(all(area(&b) + 24, 0xcc, 8));
	box_fini(&b);
}

static void xgetbv1(void)
{
	struct box b;
	box_init(&b, true);
	bool avx = (cpuid_entry(b.cpuid, 1, 0)->ecx >> 28) & 1;
	set_xcr0(&b, avx ? 7 : 3);
	CHECK_EQ(-1, RUN(&b, s_xgetbv, .rcx = 0, .cr4 = XS));
	CHECK_EQ(avx ? 7 : 3, (uint32_t)get_regs(&b.v).rax);
	CHECK_EQ(-1, RUN(&b, s_xgetbv, .rcx = 1, .cr4 = XS));
	CHECK_EQ(3, (uint32_t)get_regs(&b.v).rax);
	if (avx) {
		CHECK_EQ(-1, RUN(&b, s_ymm_xgetbv, .rcx = 1, .cr4 = XS));
		CHECK_EQ(7, (uint32_t)get_regs(&b.v).rax);
		CHECK_EQ(-1, RUN(&b, s_vzu_xgetbv, .rcx = 1, .cr4 = XS));
		CHECK_EQ(3, (uint32_t)get_regs(&b.v).rax);
	}
	CHECK_EQ(13, RUN(&b, s_xgetbv, .rcx = 2, .cr4 = XS));
	CHECK_EQ(6, RUN(&b, s_xgetbv, .rcx = 1, .cr4 = FX));
	box_fini(&b);
	/* Not in the guest's CPUID: #GP. */
	box_init(&b, true);
	cpuid_entry(b.cpuid, 0xd, 1)->eax &= ~(1u << 2);
	CHECK_OK(ioctl(b.v.fd, KVM_SET_CPUID2, b.cpuid));
	CHECK_EQ(13, RUN(&b, s_xgetbv, .rcx = 1, .cr4 = XS));
	box_fini(&b);
}

int main(void)
{
	RUN_CASE(cpuid_and_msr);
	RUN_CASE(xsavec);
	RUN_CASE(xsaves);
	RUN_CASE(xrstor_forms);
	RUN_CASE(xgetbv1);
	return t_done();
}
