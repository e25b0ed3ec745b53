/* Differential test of the integer instruction forms: ALU, shifts and
 * rotates, MUL/DIV (with #DE), bit operations, exchanges, conversions,
 * SETcc/CMOVcc, string operations with and without REP, stack, LOOP,
 * ENTER/LEAVE and LOCK forms. Each iteration builds a sequence of 1..3
 * forms (the last one is form it % n, so every form ends a sequence), runs
 * it natively in a forked child (so a host fault cannot kill the test) at
 * the same virtual addresses the guest uses, and inside the VM in long mode
 * (identity mapped), from the same random registers, flags and memory. All
 * 16 GPRs, the status flags and DF, the stack page and a 16 KiB buffer must
 * agree; a #DE must happen on both sides or on neither.
 *
 * Flags the manuals call undefined are masked per form (the third field of
 * each F entry below; U_* names). Between forms of a sequence the previous
 * form's undefined flags are cleared (PUSHF/AND/POPF) and the pointer
 * registers RBX/RSI/RDI reloaded from R15, CL zero-extended into RCX, so a
 * later form never consumes an undefined value or a wild pointer.
 *
 * INT_DIFF_ITERS=n runs n sequences (default 8 per form, about a second);
 * INT_DIFF_SEED=s picks the seed (default fixed, so failures reproduce).
 * The seed is printed; a mismatch prints the code bytes, the inputs and
 * every differing register, flag and the first differing byte.
 */
#include "vm.h"

#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/wait.h>

/* Guest-physical == guest-linear == native virtual addresses. */
enum {
	W_CODE = 0x100000,
	W_VEC = 0x100f00,    /* one HLT per exception vector */
	W_STACK_LO = 0x101000,
	W_STACK = 0x102000,  /* RSP at entry */
	W_BUF = 0x104000,
	BUF_SIZE = 0x4000,
	W_END = W_BUF + BUF_SIZE,
	MAX_CODE = 0xe00,
	MAX_FORMS = 3,
	CHUNK = 256,         /* native results computed per child */
};

#define FL_COMPARED 0xcd5ull  /* CF PF AF ZF SF DF OF */

/* ---- the forms: code bytes and undefined-flag mask ---- */

struct form {
	const uint8_t *start, *end;
	uint64_t undef;
};
extern const struct form int_forms[], int_forms_end[];

__asm__(
	".set U_CF, 0x1\n.set U_PF, 0x4\n.set U_AF, 0x10\n.set U_ZF, 0x40\n"
	".set U_SF, 0x80\n.set U_OF, 0x800\n"
	".set U_MUL, U_SF|U_ZF|U_AF|U_PF\n"       /* MUL, IMUL: only CF/OF defined */
	".set U_BT, U_OF|U_SF|U_AF|U_PF\n"        /* BT*, LZCNT, TZCNT */
	".set U_BS, U_BT|U_CF\n"                  /* BSF, BSR: only ZF defined */
	".set U_DIV, U_MUL|U_CF|U_OF\n"           /* DIV, IDIV: all undefined */
	".set U_SHN, U_OF|U_AF\n"                 /* shifts by other than 1 */
	".macro F m\n"
	" .pushsection .data.rel.ro.int_forms,\"aw\"\n .quad 8f, 9f, \\m\n .popsection\n"
	" .pushsection .rodata.int_forms_code,\"a\"\n8:\n"
	".endm\n"
	".macro E\n9:\n .popsection\n.endm\n"
	".pushsection .data.rel.ro.int_forms,\"aw\"\n.balign 8\n"
	".globl int_forms\n.hidden int_forms\nint_forms:\n.popsection\n"
	".macro ALL op, m\n"
	" F \\m; \\op %bl, %al; E\n"
	" F \\m; \\op %bh, %ah; E\n"
	" F \\m; \\op %cx, %dx; E\n"
	" F \\m; \\op %ebx, %eax; E\n"
	" F \\m; \\op %r8, %r9; E\n"
	" F \\m; \\op $0x7f, %al; E\n"
	" F \\m; \\op $-3, %si; E\n"
	" F \\m; \\op $0x80000000, %eax; E\n"
	" F \\m; \\op $-5, %r10; E\n"
	" F \\m; \\op %eax, 8(%r15); E\n"
	" F \\m; \\op 16(%r15), %rbx; E\n"
	" F \\m; \\op %dl, 3(%r15); E\n"
	".endm\n"
	"ALL add, 0\nALL adc, 0\nALL sub, 0\nALL sbb, 0\nALL cmp, 0\n"
	"ALL and, U_AF\nALL or, U_AF\nALL xor, U_AF\nALL test, U_AF\n"
	".macro UNA op, m\n"
	" F \\m; \\op %al; E\n"
	" F \\m; \\op %ah; E\n"
	" F \\m; \\op %bx; E\n"
	" F \\m; \\op %ecx; E\n"
	" F \\m; \\op %r11; E\n"
	" F \\m; \\op\\()l 4(%r15); E\n"
	".endm\n"
	"UNA inc, 0\nUNA dec, 0\nUNA neg, 0\nUNA not, 0\nUNA mul, U_MUL\nUNA imul, U_MUL\n"
	/* m1: count 1; mn: any other count (count 0 changes no flag). */
	".macro SH op, m1, mn\n"
	" F \\m1; \\op $1, %al; E\n"
	" F \\mn; \\op %cl, %bl; E\n"
	" F \\mn; \\op %cl, %dx; E\n"
	" F \\mn; \\op %cl, %esi; E\n"
	" F \\mn; \\op %cl, %r12; E\n"
	" F \\mn; \\op $3, %eax; E\n"
	" F 0; \\op $0, %eax; E\n"
	" F \\mn; \\op $17, %ax; E\n"
	" F \\mn; \\op $63, %rbx; E\n"
	" F \\mn; \\op $9, %bh; E\n"
	" F \\mn; \\op\\()l %cl, 8(%r15); E\n"
	" F \\m1; \\op\\()q $1, 8(%r15); E\n"
	".endm\n"
	"SH rol, 0, U_OF\nSH ror, 0, U_OF\nSH rcl, 0, U_OF\nSH rcr, 0, U_OF\n"
	"SH shl, U_AF, U_SHN\nSH shr, U_AF, U_SHN\nSH sar, U_AF, U_SHN\n"
	/* SHLD/SHRD: 16-bit counts above 16 leave the result undefined, so
	 * only immediate counts there. */
	"F U_SHN; shld %cl, %ebx, %eax; E\n"
	"F U_SHN; shld $5, %bx, %ax; E\n"
	"F U_SHN; shld $33, %r8, %r9; E\n"
	"F U_SHN; shrd %cl, %ebx, %eax; E\n"
	"F U_SHN; shrd $11, %bx, %ax; E\n"
	"F U_SHN; shrd %cl, %r8, %r9; E\n"
	"F U_SHN; shrd $7, %eax, 8(%r15); E\n"
	"F U_MUL; imul %ebx, %eax; E\n"
	"F U_MUL; imul %bx, %ax; E\n"
	"F U_MUL; imul %r8, %r9; E\n"
	"F U_MUL; imul $-7, %ebx, %eax; E\n"
	"F U_MUL; imul $1000, %r8, %r9; E\n"
	"F U_MUL; imul $300, 8(%r15), %dx; E\n"
	"F U_BT; bt %eax, %ebx; E\n"
	"F U_BT; bts %ax, %bx; E\n"
	"F U_BT; btr %r8, %r9; E\n"
	"F U_BT; btc %ecx, %edx; E\n"
	"F U_BT; bt $35, %rax; E\n"
	"F U_BT; bts $5, %ax; E\n"
	"F U_BT; btr $31, %ecx; E\n"
	"F U_BT; btc $63, %rdx; E\n"
	"F U_BT; btsl $7, 8(%r15); E\n"
	"F U_BS; bsf %eax, %ebx; E\n"
	"F U_BS; bsr %ax, %bx; E\n"
	"F U_BS; bsf %r8, %r9; E\n"
	"F U_BS; bsr %ecx, %edx; E\n"
	"F 0; popcnt %eax, %ebx; E\n"
	"F U_BT; tzcnt %rax, %rbx; E\n"
	"F U_BT; lzcnt %ax, %bx; E\n"
	"F 0; xadd %eax, %ebx; E\n"
	"F 0; xadd %al, %bl; E\n"
	"F 0; xadd %r8, 8(%r15); E\n"
	"F 0; lock xaddl %ecx, 8(%r15); E\n"
	"F 0; cmpxchg %ebx, %ecx; E\n"
	"F 0; cmpxchg %bl, %cl; E\n"
	"F 0; cmpxchg %r8, %r9; E\n"
	"F 0; cmpxchg %ebx, 8(%r15); E\n"
	"F 0; lock cmpxchg %rbx, 16(%r15); E\n"
	"F 0; cmpxchg8b 8(%r15); E\n"
	"F 0; lock cmpxchg16b 16(%r15); E\n"
	"F 0; bswap %eax; E\n"
	"F 0; bswap %r9; E\n"
	"F 0; movzbl %bl, %eax; E\n"
	"F 0; movzwq %bx, %rax; E\n"
	"F 0; movsbw %bh, %ax; E\n"
	"F 0; movswl 8(%r15), %eax; E\n"
	"F 0; movslq %ebx, %rax; E\n"
	"F 0; movsbq %dil, %r9; E\n"
	"F 0; lea 8(%rax,%rbx,4), %rcx; E\n"
	"F 0; lea -1(%eax,%ebx,2), %ecx; E\n"
	"F 0; lea 3(%rbx), %cx; E\n"
	"F 0; xchg %eax, %ebx; E\n"
	"F 0; xchg %al, %ah; E\n"
	"F 0; xchg %r8, 8(%r15); E\n"
	"F 0; xchg %cx, %dx; E\n"
	"F 0; seto %al; E\n"
	"F 0; setb %ah; E\n"
	"F 0; setz %bl; E\n"
	"F 0; setbe %cl; E\n"
	"F 0; sets %dl; E\n"
	"F 0; setp %r8b; E\n"
	"F 0; setl %r9b; E\n"
	"F 0; setle %r10b; E\n"
	"F 0; setg %r11b; E\n"
	"F 0; cmovo %eax, %ebx; E\n"
	"F 0; cmovnz %eax, %ebx; E\n"
	"F 0; cmova %rax, %rbx; E\n"
	"F 0; cmovge %ax, %bx; E\n"
	"F 0; cmovl 8(%r15), %ecx; E\n"
	"F 0; cbw; E\n"
	"F 0; cwde; E\n"
	"F 0; cdqe; E\n"
	"F 0; cwd; E\n"
	"F 0; cdq; E\n"
	"F 0; cqo; E\n"
	"F 0; lahf; E\n"
	"F 0; sahf; E\n"
	"F 0; clc; E\n"
	"F 0; stc; E\n"
	"F 0; cmc; E\n"
	"F 0; neg %rax; adc %rbx, %rcx; sbb %rdx, %rax; E\n"
	"F 0; add %eax, %ebx; jo 1f; inc %ecx; 1: dec %edx; E\n"
	"F 0; movabsq $0x1122334455667788, %rax; E\n"
	"F 0; mov %eax, %ebx; E\n"
	"F 0; mov %ah, %bl; E\n"
	"F 0; mov %bx, 8(%r15); E\n"
	"F 0; movb $5, 9(%r15); E\n"
	"F 0; movl $-1, 12(%r15); E\n"
	"F 0; movq $-2, 16(%r15); E\n"
	"F 0; mov 8(%r15), %rdi; E\n"
	"F U_DIV; div %bl; E\n"
	"F U_DIV; div %bx; E\n"
	"F U_DIV; div %ebx; E\n"
	"F U_DIV; div %rbx; E\n"
	"F U_DIV; idiv %bl; E\n"
	"F U_DIV; idiv %bx; E\n"
	"F U_DIV; idiv %ebx; E\n"
	"F U_DIV; idiv %rbx; E\n"
	"F U_DIV; mov $0, %edx; mov $7, %ebx; div %ebx; E\n"
	"F U_DIV; mov $-100, %rax; cqo; mov $7, %rbx; idiv %rbx; E\n"
	"F U_DIV; mov $-128, %al; cbw; mov $-1, %bl; idiv %bl; E\n"   /* #DE */
	"F 0; cld; movsb; E\n"
	"F 0; cld; movsq; E\n"
	"F 0; std; movsl; E\n"
	"F 0; cld; rep movsb; E\n"
	"F 0; cld; rep movsw; E\n"
	"F 0; std; rep stosl; E\n"
	"F 0; cld; rep stosq; E\n"
	"F 0; cld; lodsb; E\n"
	"F 0; cld; lodsw; E\n"
	"F 0; cld; repe cmpsb; E\n"
	"F 0; cld; repne scasb; E\n"
	"F 0; std; repe scasw; E\n"
	"F 0; cld; repne cmpsl; E\n"
	"F 0; cld; scasq; E\n"
	"F 0; push %rax; pop %rbx; E\n"
	"F 0; push %rax; push %rbx; pop %rax; pop %rbx; E\n"
	"F 0; pushq $-5; pop %rcx; E\n"
	"F 0; push %ax; pop %bx; E\n"
	"F 0; pushfq; pop %rax; E\n"
	"F 0; call 1f; 1: pop %rax; E\n"
	"F 0; jmp 1f; inc %eax; 1: inc %ebx; E\n"
	"F 0; test %eax, %eax; jz 1f; inc %ecx; 1: inc %edx; E\n"
	"F 0; mov $3, %ecx; 1: inc %eax; loop 1b; E\n"
	"F 0; mov $3, %ecx; 1: inc %eax; cmp $1, %eax; loopne 1b; E\n"
	"F 0; jrcxz 1f; inc %eax; 1: inc %ebx; E\n"
	"F 0; enter $16, $0; leave; E\n"
	"F 0; xlatb; E\n"
	"F 0; movbe 8(%r15), %eax; E\n"
	"F 0; movbe %bx, 8(%r15); E\n"
	"F 0; lock incl 8(%r15); E\n"
	"F 0; lock addq %rax, 8(%r15); E\n"
	"F 0; lock orb $3, 9(%r15); E\n"
	"F U_BT; lock btsq $9, 8(%r15); E\n"
	"F 0; lock negw 10(%r15); E\n"
	"F 0; lock sbb %ecx, 12(%r15); E\n"
	".pushsection .data.rel.ro.int_forms,\"aw\"\n"
	".globl int_forms_end\n.hidden int_forms_end\nint_forms_end:\n.popsection\n"
	".purgem F\n.purgem E\n.purgem ALL\n.purgem UNA\n.purgem SH\n");

/* ---- the native side ---- */

/* g[] in encoding order: RAX RCX RDX RBX RSP RBP RSI RDI R8..R15. */
struct gpr {
	uint64_t g[16];
	uint64_t fl;
};

/* int_diff_native(r, code): load r, jump to code, which ends with a jump
 * to int_diff_ret; store the registers back into r. */
void int_diff_native(struct gpr *r, const void *code);
extern const char int_diff_ret[];
__asm__(".text\n.globl int_diff_native\n.hidden int_diff_native\n"
	".type int_diff_native,@function\nint_diff_native:\n"
	"push %rbx\npush %rbp\npush %r12\npush %r13\npush %r14\npush %r15\n"
	"mov %rsp, int_diff_saved_rsp(%rip)\n"
	"mov %rdi, int_diff_regs(%rip)\n"
	"mov %rsi, int_diff_code(%rip)\n"
	"pushq 128(%rdi)\npopfq\n"   /* on our own stack, not the guest's */
	"mov 32(%rdi), %rsp\n"
	"mov 0(%rdi), %rax\nmov 8(%rdi), %rcx\nmov 16(%rdi), %rdx\nmov 24(%rdi), %rbx\n"
	"mov 40(%rdi), %rbp\nmov 48(%rdi), %rsi\n"
	"mov 64(%rdi), %r8\nmov 72(%rdi), %r9\nmov 80(%rdi), %r10\nmov 88(%rdi), %r11\n"
	"mov 96(%rdi), %r12\nmov 104(%rdi), %r13\nmov 112(%rdi), %r14\nmov 120(%rdi), %r15\n"
	"mov 56(%rdi), %rdi\n"
	"jmp *int_diff_code(%rip)\n"
	".globl int_diff_ret\n.hidden int_diff_ret\nint_diff_ret:\n"
	/* Off the guest stack before PUSHFQ: the stack page is compared. */
	"mov %rsp, int_diff_tmp_rsp(%rip)\n"
	"lea int_diff_stack_top(%rip), %rsp\n"
	"pushfq\n"
	"mov %rax, int_diff_tmp(%rip)\n"
	"mov int_diff_regs(%rip), %rax\n"
	"mov %rcx, 8(%rax)\nmov %rdx, 16(%rax)\nmov %rbx, 24(%rax)\n"
	"mov %rbp, 40(%rax)\nmov %rsi, 48(%rax)\nmov %rdi, 56(%rax)\n"
	"mov %r8, 64(%rax)\nmov %r9, 72(%rax)\nmov %r10, 80(%rax)\nmov %r11, 88(%rax)\n"
	"mov %r12, 96(%rax)\nmov %r13, 104(%rax)\nmov %r14, 112(%rax)\nmov %r15, 120(%rax)\n"
	"popq 128(%rax)\n"
	"mov int_diff_tmp_rsp(%rip), %rcx\nmov %rcx, 32(%rax)\n"
	"mov int_diff_tmp(%rip), %rcx\nmov %rcx, 0(%rax)\n"
	"mov int_diff_saved_rsp(%rip), %rsp\n"
	"cld\n"
	"pop %r15\npop %r14\npop %r13\npop %r12\npop %rbp\npop %rbx\nret\n"
	".size int_diff_native, .-int_diff_native\n"
	".data\n.balign 8\n"
	"int_diff_saved_rsp: .quad 0\nint_diff_regs: .quad 0\n"
	"int_diff_code: .quad 0\nint_diff_tmp: .quad 0\nint_diff_tmp_rsp: .quad 0\n"
	".space 64\nint_diff_stack_top:\n"
	".text\n");

/* ---- random cases ---- */

struct tcase {
	uint8_t code[MAX_CODE];
	unsigned len, nf;
	unsigned form[MAX_FORMS];
	uint64_t undef;      /* the last form's undefined flags */
	struct gpr in;
	uint8_t buf[BUF_SIZE];
};

struct result {
	struct gpr r;
	int fault;           /* native: signal number; guest: vector + 1 */
	uint8_t stack[W_STACK - W_STACK_LO];
	uint8_t buf[BUF_SIZE];
};

static uint64_t rng_state;
static uint64_t rnd(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}
static unsigned rn(unsigned n) { return (unsigned)(rnd() % n); }

static uint64_t interesting(void)
{
	static const uint64_t v[] = { 0, 1, 2, 0x7f, 0x80, 0xff, 0x7fff, 0x8000, 0xffff,
		0x7fffffff, 0x80000000, 0xffffffff, 0x7fffffffffffffff, 0x8000000000000000,
		~0ull, 0x100, 0x10000, 0x100000000 };
	switch (rn(4)) {
	case 0: return v[rn(sizeof(v) / sizeof(v[0]))];
	case 1: return rnd() & 0xff;
	case 2: return -(rnd() & 0xff);
	default: return rnd();
	}
}

static unsigned nforms(void) { return (unsigned)(int_forms_end - int_forms); }

static void put(struct tcase *c, const void *p, unsigned n)
{
	memcpy(c->code + c->len, p, n);
	c->len += n;
}

/* lea disp32(%r15), reg: the pointer registers back inside the buffer. */
static void put_lea_r15(struct tcase *c, uint8_t modrm, int32_t disp)
{
	uint8_t b[7] = { 0x49, 0x8d, modrm };
	memcpy(b + 3, &disp, 4);
	put(c, b, 7);
}

/* Between forms: clear the previous form's undefined flags, reload the
 * pointers, bound RCX. None of it depends on an undefined value. */
static void put_fixup(struct tcase *c, uint64_t undef)
{
	if (undef) {
		uint32_t keep = (uint32_t)~undef;
		uint8_t b[10] = { 0x9c, 0x48, 0x81, 0x24, 0x24 };   /* pushfq; andq $k, (%rsp) */
		memcpy(b + 5, &keep, 4);
		b[9] = 0x9d;                                         /* popfq */
		put(c, b, 10);
	}
	put_lea_r15(c, 0x9f, -0x2000 + (int32_t)rn(256));   /* rbx */
	put_lea_r15(c, 0xb7, -0x1000 + (int32_t)rn(256));   /* rsi */
	put_lea_r15(c, 0xbf, 0x800 + (int32_t)rn(256));     /* rdi */
	put(c, (const uint8_t[]){ 0x0f, 0xb6, 0xc9 }, 3);   /* movzbl %cl, %ecx */
}

static void make_case(uint64_t seed, uint64_t it, struct tcase *c)
{
	rng_state = (seed + it) * 0x9e3779b97f4a7c15ull;
	rng_state ^= rng_state >> 29;
	if (!rng_state)
		rng_state = 1;
	c->len = 0;
	c->nf = 1 + rn(MAX_FORMS);
	for (unsigned k = 0; k < c->nf; k++) {
		unsigned f = k + 1 == c->nf ? (unsigned)(it % nforms()) : rn(nforms());
		if (k)
			put_fixup(c, int_forms[c->form[k - 1]].undef);
		c->form[k] = f;
		put(c, int_forms[f].start, (unsigned)(int_forms[f].end - int_forms[f].start));
		c->undef = int_forms[f].undef;
	}
	for (int r = 0; r < 16; r++)
		c->in.g[r] = interesting();
	c->in.g[1] &= 0xff;                             /* rcx: REP/LOOP counts */
	c->in.g[4] = W_STACK;
	c->in.g[3] = W_BUF + (rnd() & 0xff);            /* rbx */
	c->in.g[6] = W_BUF + 0x1000 + (rnd() & 0xff);   /* rsi */
	c->in.g[7] = W_BUF + 0x2800 + (rnd() & 0xff);   /* rdi */
	c->in.g[15] = W_BUF + 0x2000;                   /* r15 */
	c->in.fl = (rnd() & 0x8d5) | 0x202;
	for (unsigned k = 0; k < BUF_SIZE; k += 8) {
		uint64_t v = rn(3) == 0 ? 0 : interesting();
		memcpy(c->buf + k, &v, 8);
	}
}

static sigjmp_buf native_jb;
static volatile sig_atomic_t native_sig;

static void on_native_fault(int sig)
{
	native_sig = sig;
	siglongjmp(native_jb, 1);
}

static void native_one(const struct tcase *c, struct result *out)
{
	uint8_t *code = (uint8_t *)(uintptr_t)W_CODE;
	memcpy(code, c->code, c->len);
	static const uint8_t jmp_abs[6] = { 0xff, 0x25, 0, 0, 0, 0 };   /* jmp *0(%rip) */
	memcpy(code + c->len, jmp_abs, 6);
	uint64_t ret = (uint64_t)(uintptr_t)int_diff_ret;
	memcpy(code + c->len + 6, &ret, 8);
	__builtin___clear_cache((char *)code, (char *)code + c->len + 14);
	memset((void *)(uintptr_t)W_STACK_LO, 0, W_STACK - W_STACK_LO);
	memcpy((void *)(uintptr_t)W_BUF, c->buf, BUF_SIZE);
	static struct gpr r;
	r = c->in;
	native_sig = 0;
	if (sigsetjmp(native_jb, 1) == 0)
		int_diff_native(&r, code);
	else
		__asm__ volatile("cld");
	out->r = r;
	out->fault = native_sig;
	memcpy(out->stack, (void *)(uintptr_t)W_STACK_LO, sizeof(out->stack));
	memcpy(out->buf, (void *)(uintptr_t)W_BUF, BUF_SIZE);
}

/* The child: native results of iterations [first, first + n) into res;
 * *done counts finished ones, so a crash names its iteration. */
static _Noreturn void native_child(uint64_t seed, uint64_t first, unsigned n,
				   struct result *res, volatile unsigned *done)
{
	void *m = mmap((void *)(uintptr_t)W_CODE, W_END - W_CODE, PROT_READ | PROT_WRITE | PROT_EXEC,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
	if (m != (void *)(uintptr_t)W_CODE) {
		perror("mmap of the native window");
		_exit(2);
	}
	static uint8_t altstack[64 * 1024];
	stack_t ss = { .ss_sp = altstack, .ss_size = sizeof(altstack) };
	sigaltstack(&ss, NULL);
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_native_fault;
	sa.sa_flags = SA_ONSTACK | SA_NODEFER;
	static const int sigs[] = { SIGFPE, SIGSEGV, SIGBUS, SIGILL, SIGTRAP };
	for (unsigned k = 0; k < sizeof(sigs) / sizeof(sigs[0]); k++)
		sigaction(sigs[k], &sa, NULL);
	static struct tcase c;
	for (unsigned i = 0; i < n; i++) {
		make_case(seed, first + i, &c);
		native_one(&c, &res[i]);
		*done = i + 1;
	}
	_exit(0);
}

/* ---- the VM side ---- */

static void guest_one(struct vcpu *v, const struct tcase *c, struct result *out)
{
	uint8_t *mem = v->vm->mem;
	memcpy(mem + W_CODE, c->code, c->len);
	mem[W_CODE + c->len] = 0xf4;
	memset(mem + W_STACK_LO, 0, W_STACK - W_STACK_LO);
	memcpy(mem + W_BUF, c->buf, BUF_SIZE);
	const uint64_t *g = c->in.g;
	struct kvm_regs r = {
		.rax = g[0], .rcx = g[1], .rdx = g[2], .rbx = g[3], .rsp = g[4], .rbp = g[5],
		.rsi = g[6], .rdi = g[7], .r8 = g[8], .r9 = g[9], .r10 = g[10], .r11 = g[11],
		.r12 = g[12], .r13 = g[13], .r14 = g[14], .r15 = g[15],
		.rip = W_CODE, .rflags = c->in.fl,
	};
	set_regs(v, &r);
	out->fault = -1;
	if (vcpu_run(v) < 0 || v->run->exit_reason != KVM_EXIT_HLT) {
		fprintf(stderr, "  guest exit: %s\n", exit_str(v));
		out->fault = -2;
		return;
	}
	r = get_regs(v);
	uint64_t *o = out->r.g;
	o[0] = r.rax; o[1] = r.rcx; o[2] = r.rdx; o[3] = r.rbx; o[4] = r.rsp; o[5] = r.rbp;
	o[6] = r.rsi; o[7] = r.rdi; o[8] = r.r8; o[9] = r.r9; o[10] = r.r10; o[11] = r.r11;
	o[12] = r.r12; o[13] = r.r13; o[14] = r.r14; o[15] = r.r15;
	out->r.fl = r.rflags;
	if (r.rip == W_CODE + c->len + 1)
		out->fault = 0;
	else if (r.rip > W_VEC && r.rip <= W_VEC + 32)
		out->fault = (int)(r.rip - W_VEC);     /* vector + 1 */
	else
		fprintf(stderr, "  guest halted at %#llx\n", (unsigned long long)r.rip);
	memcpy(out->stack, mem + W_STACK_LO, sizeof(out->stack));
	memcpy(out->buf, mem + W_BUF, BUF_SIZE);
}

/* ---- comparison ---- */

static const char *const reg_names[16] = { "rax", "rcx", "rdx", "rbx", "rsp", "rbp",
	"rsi", "rdi", "r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15" };

static void first_diff(const char *what, const uint8_t *n, const uint8_t *g, unsigned size,
		       uint64_t base)
{
	for (unsigned k = 0; k < size; k++)
		if (n[k] != g[k]) {
			fprintf(stderr, "  %s at %#llx: native %02x guest %02x\n", what,
				(unsigned long long)(base + k), n[k], g[k]);
			return;
		}
}

/* Returns true when native and guest agree; prints the details if not
 * (verbose) for the first mismatch. */
static bool compare(const struct tcase *c, uint64_t it, const struct result *n,
		    const struct result *g, bool verbose)
{
	bool native_de = n->fault == SIGFPE, guest_de = g->fault == 1;
	bool ok = g->fault >= 0 && (n->fault == 0 || native_de) && native_de == guest_de;
	uint64_t fmask = FL_COMPARED & ~c->undef;
	if (ok && !native_de) {
		ok = !memcmp(n->r.g, g->r.g, sizeof(n->r.g)) && !((n->r.fl ^ g->r.fl) & fmask) &&
		     !memcmp(n->stack, g->stack, sizeof(n->stack)) && !memcmp(n->buf, g->buf, BUF_SIZE);
	}
	if (ok || !verbose)
		return ok;
	fprintf(stderr, "MISMATCH iteration %llu, forms:", (unsigned long long)it);
	for (unsigned k = 0; k < c->nf; k++)
		fprintf(stderr, " #%u", c->form[k]);
	fprintf(stderr, "\n  code:");
	for (unsigned k = 0; k < c->len; k++)
		fprintf(stderr, " %02x", c->code[k]);
	fprintf(stderr, "\n  native signal %d, guest vector %d (-1 none)\n", n->fault,
		g->fault > 0 ? g->fault - 1 : g->fault > -1 ? -1 : g->fault);
	if (native_de || n->fault || g->fault < 0 || guest_de)
		return false;
	for (int r = 0; r < 16; r++)
		if (n->r.g[r] != g->r.g[r])
			fprintf(stderr, "  %s: in %#llx native %#llx guest %#llx\n", reg_names[r],
				(unsigned long long)c->in.g[r], (unsigned long long)n->r.g[r],
				(unsigned long long)g->r.g[r]);
	if ((n->r.fl ^ g->r.fl) & fmask)
		fprintf(stderr, "  rflags: in %#llx native %#llx guest %#llx (compared %#llx)\n",
			(unsigned long long)c->in.fl, (unsigned long long)n->r.fl,
			(unsigned long long)g->r.fl, (unsigned long long)fmask);
	first_diff("stack", n->stack, g->stack, sizeof(n->stack), W_STACK_LO);
	first_diff("memory", n->buf, g->buf, BUF_SIZE, W_BUF);
	return false;
}

/* Fork a child for the native results of one chunk; false if it died. */
static bool run_native_chunk(uint64_t seed, uint64_t first, unsigned n, struct result *res,
			     volatile unsigned *done)
{
	*done = 0;
	fflush(NULL);
	pid_t pid = fork();
	if (!CHECK(pid >= 0))
		return false;
	if (pid == 0)
		native_child(seed, first, n, res, done);
	int st;
	if (!CHECK_OK(waitpid(pid, &st, 0)))
		return false;
	if (WIFEXITED(st) && WEXITSTATUS(st) == 0 && *done == n)
		return true;
	fprintf(stderr, "native child died (status %#x) in iteration %llu\n", st,
		(unsigned long long)(first + *done));
	CHECK(false);
	return false;
}

static void random_sequences(void)
{
	unsigned nf = nforms();
	const char *e = getenv("INT_DIFF_ITERS");
	uint64_t iters = e ? strtoull(e, NULL, 0) : 8ull * nf;
	e = getenv("INT_DIFF_SEED");
	uint64_t seed = e ? strtoull(e, NULL, 0) : 0x1d1ff5eedull;
	printf("seed %#llx, %llu sequences over %u forms\n", (unsigned long long)seed,
	       (unsigned long long)iters, nf);
	size_t res_size = sizeof(struct result) * CHUNK;
	struct result *res = mmap(NULL, res_size + 4096, PROT_READ | PROT_WRITE,
				  MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (!CHECK(res != MAP_FAILED))
		return;
	volatile unsigned *done = (volatile unsigned *)((uint8_t *)res + res_size);
	struct vm vm;
	struct vcpu v;
	vm_init(&vm);
	vcpu_init(&vm, &v, 0);
	vcpu_setup(&v, MODE_LONG, W_CODE);
	for (int vec = 0; vec < 32; vec++) {
		vm.mem[W_VEC + vec] = 0xf4;
		idt_set(&v, vec, W_VEC + (uint64_t)vec);
	}
	static struct tcase c;
	static struct result g;
	uint64_t bad = 0, de = 0;
	for (uint64_t first = 0; first < iters && bad < 20; first += CHUNK) {
		unsigned n = iters - first < CHUNK ? (unsigned)(iters - first) : CHUNK;
		if (!run_native_chunk(seed, first, n, res, done))
			break;
		for (unsigned i = 0; i < n; i++) {
			make_case(seed, first + i, &c);
			guest_one(&v, &c, &g);
			de += res[i].fault == SIGFPE;
			if (!compare(&c, first + i, &res[i], &g, bad == 0))
				bad++;
			if (g.fault < 0 || bad >= 20)
				break;    /* the vCPU stopped somewhere unexpected */
		}
		if (g.fault < 0)
			break;
	}
	printf("%llu mismatches (%llu #DE runs)\n", (unsigned long long)bad, (unsigned long long)de);
	CHECK_EQ(0, bad);
	munmap(res, res_size + 4096);
	vcpu_fini(&v);
	vm_fini(&vm);
}

int main(void)
{
	RUN_CASE(random_sequences);
	return t_done();
}
