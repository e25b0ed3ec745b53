/* The in-kernel GICv3: distributor and redistributor registers, an SPI
 * the VMM raises with KVM_IRQ_LINE taken through ICC_IAR1/EOIR1, the
 * priority mask, an SGI between two vCPUs and the virtual timer's PPI.
 * value(n) asks the VMM (tests/arm64/vgic.c) for something:
 *   1: raise then lower SPI 40 (edge)      2: raise SPI 41 (level)
 *   3: lower SPI 41                        4: signal the irqfd of GSI 10 (SPI 42) */
#include "lib.h"

#define GICD 0x08000000ul
#define GICR 0x080a0000ul      /* two redistributors, 128K each */
#define SGI_FRAME 0x10000ul

#define ICC_PMR "S3_0_C4_C6_0"
#define ICC_IAR1 "S3_0_C12_C12_0"
#define ICC_EOIR1 "S3_0_C12_C12_1"
#define ICC_HPPIR1 "S3_0_C12_C12_2"
#define ICC_BPR1 "S3_0_C12_C12_3"
#define ICC_CTLR "S3_0_C12_C12_4"
#define ICC_SRE "S3_0_C12_C12_5"
#define ICC_IGRPEN1 "S3_0_C12_C12_7"
#define ICC_RPR "S3_0_C12_C11_3"
#define ICC_SGI1R "S3_0_C12_C11_5"
#define ICC_DIR "S3_0_C12_C11_1"

#define rd(r) ({ uint64_t v_; __asm__ volatile("mrs %0, " r : "=r"(v_)); v_; })
#define wr(r, v) __asm__ volatile("msr " r ", %0; isb" ::"r"((uint64_t)(v)))

extern char __stack2_top[];
extern void secondary_entry(void);

static inline uint32_t r32(uint64_t a) { return *(volatile uint32_t *)a; }
static inline void w32(uint64_t a, uint32_t v) { *(volatile uint32_t *)a = v; }
static inline uint64_t r64(uint64_t a) { return *(volatile uint64_t *)a; }
static inline void w64(uint64_t a, uint64_t v) { *(volatile uint64_t *)a = v; }
static inline void w8(uint64_t a, uint8_t v) { *(volatile uint8_t *)a = v; }

/* per vCPU: what the IRQ handler saw */
static volatile uint32_t last_intid[2], nirq[2], rpr_in_handler[2], active_in_handler[2];
static volatile uint32_t sec_ready, sec_got_sgi;

static uint32_t cpu_id(void)
{
	return read_sysreg(mpidr_el1) & 0xff;
}

static void on_irq(struct frame *f, uint64_t kind)
{
	(void)f;
	if (kind != 5)
		return;
	uint32_t me = cpu_id();
	uint32_t intid = (uint32_t)rd(ICC_IAR1);
	if (intid == 1023)
		return;
	rpr_in_handler[me] = (uint32_t)rd(ICC_RPR);
	uint64_t act = intid < 32 ? GICR + me * 0x20000 + SGI_FRAME + 0x300 : GICD + 0x300 + (intid / 32) * 4;
	active_in_handler[me] = (r32(act) >> (intid % 32)) & 1;
	if (intid == 27)
		write_sysreg(cntv_ctl_el0, 3);   /* IMASK: the timer's line drops */
	if (intid == 41)
		value(3);                        /* the VMM lowers the level SPI */
	last_intid[me] = intid;
	nirq[me]++;
	wr(ICC_EOIR1, intid);
}

static void cpu_if_on(void)
{
	wr(ICC_PMR, 0xf0);
	wr(ICC_BPR1, 0);
	wr(ICC_IGRPEN1, 1);
}

static void wait_irqs(uint32_t me, uint32_t n)
{
	__asm__ volatile("msr daifclr, #2");
	while (nirq[me] < n)
		__asm__ volatile("wfi");
	__asm__ volatile("msr daifset, #2");
}

void secondary_main(uint64_t ctx)
{
	(void)ctx;
	cpu_if_on();
	__atomic_store_n(&sec_ready, 1, __ATOMIC_RELEASE);
	wait_irqs(1, 1);
	sec_got_sgi = last_intid[1];
	/* answer with SGI 5 to vCPU 0 (Aff0 0: target list bit 0) */
	wr(ICC_SGI1R, (5ull << 24) | 1);
	for (;;)
		__asm__ volatile("wfi");
}

static void registers(void)
{
	check(1, r32(GICD + 0xffe8) & 0xf0, 0x30);             /* PIDR2: GICv3 */
	check(2, r32(GICD + 0x4) & 0x1f, 1);                   /* TYPER: 64 interrupts */
	check(3, r32(GICD + 0x8), 0x4b00343b);                 /* IIDR: KVM */
	w32(GICD + 0x0, 2);                                    /* EnableGrp1A */
	check(4, r32(GICD + 0x0) & 0x13, 0x12);                /* ARE is RAO */
	check(5, r64(GICR + 0x8), 0);                          /* vCPU 0, not Last */
	check(6, r64(GICR + 0x20000 + 0x8), 0x0000000100000110ull); /* aff 1, vCPU 1, Last */
	check(7, r32(GICR + 0x14) & 6, 0);                     /* WAKER: awake */
	check(8, rd(ICC_SRE) & 1, 1);
	check(9, (rd(ICC_CTLR) >> 8) & 7, 4);                  /* 5 priority bits */
	check(10, rd(ICC_RPR), 0xff);                          /* idle */
	/* priorities keep 5 bits; SGIs are enabled; PPIs are level */
	w8(GICD + 0x400 + 40, 0xa7);
	check(11, r32(GICD + 0x400 + 40) & 0xff, 0xa0);
	check(12, r32(GICR + SGI_FRAME + 0x100) & 0xffff, 0xffff);
	check(13, r32(GICR + SGI_FRAME + 0xc00), 0xaaaaaaaa);
	check(14, r32(GICR + SGI_FRAME + 0xc04), 0);
	/* IROUTER: affinity of vCPU 1 reads back */
	w64(GICD + 0x6000 + 8 * 42, 1);
	check(15, r64(GICD + 0x6000 + 8 * 42), 1);
	w64(GICD + 0x6000 + 8 * 42, 0);
}

static void spi_edge(void)
{
	w32(GICD + 0xc00 + 8, 2u << 16);       /* ICFGR2: SPI 40 edge */
	w32(GICD + 0x100 + 4, 1u << 8);        /* ISENABLER1: SPI 40 */
	cpu_if_on();
	irq_hook = on_irq;
	value(1);
	wait_irqs(0, 1);
	check(20, last_intid[0], 40);
	check(21, rpr_in_handler[0], 0xa0);
	check(22, active_in_handler[0], 1);
	check(23, (r32(GICD + 0x300 + 4) >> 8) & 1, 0);   /* inactive after EOI */
	check(24, rd(ICC_RPR), 0xff);
}

/* A level SPI under the priority mask: pending, not signalled, until the
 * mask opens; the handler asks the VMM to drop the line. */
static void spi_level_pmr(void)
{
	w8(GICD + 0x400 + 41, 0xc0);
	w32(GICD + 0x100 + 4, 1u << 9);
	wr(ICC_PMR, 0x80);
	value(2);
	for (volatile int i = 0; i < 1000; i++)
		;
	check(30, (r32(GICD + 0x200 + 4) >> 9) & 1, 1);   /* ISPENDR: pending */
	check(31, rd(ICC_HPPIR1), 41);
	check(32, rd(ICC_IAR1), 1023);                     /* masked by PMR */
	check(33, nirq[0], 1);
	wr(ICC_PMR, 0xf0);
	wait_irqs(0, 2);
	check(34, last_intid[0], 41);
	check(35, (r32(GICD + 0x200 + 4) >> 9) & 1, 0);
}

/* EOImode 1: EOIR drops the priority, DIR deactivates. */
static void eoi_split(void)
{
	wr(ICC_CTLR, 2);
	w32(GICD + 0x200 + 4, 1u << 8);        /* ISPENDR: SPI 40 */
	uint32_t intid = (uint32_t)rd(ICC_IAR1);
	check(40, intid, 40);
	wr(ICC_EOIR1, intid);
	check(41, rd(ICC_RPR), 0xff);
	check(42, (r32(GICD + 0x300 + 4) >> 8) & 1, 1);   /* still active */
	wr(ICC_DIR, intid);
	check(43, (r32(GICD + 0x300 + 4) >> 8) & 1, 0);
	wr(ICC_CTLR, 0);
}

static void sgi(void)
{
	check(50, hvc(0xc4000003, 1, (uint64_t)secondary_entry, (uint64_t)__stack2_top), 0);
	while (!__atomic_load_n(&sec_ready, __ATOMIC_ACQUIRE))
		;
	wr(ICC_SGI1R, (3ull << 24) | (1ull << 1));   /* SGI 3 to Aff0 1 */
	wait_irqs(0, 3);
	check(51, sec_got_sgi, 3);
	check(52, last_intid[0], 5);
}

static void irqfd(void)
{
	w32(GICD + 0x100 + 4, 1u << 10);       /* ISENABLER1: SPI 42 */
	value(4);
	wait_irqs(0, 4);
	check(55, last_intid[0], 42);
}

static void vtimer(void)
{
	uint64_t frq = read_sysreg(cntfrq_el0);
	w32(GICR + SGI_FRAME + 0x100, 1u << 27);           /* ISENABLER0: PPI 27 */
	write_sysreg(cntv_tval_el0, frq / 200);
	write_sysreg(cntv_ctl_el0, 1);
	isb();
	wait_irqs(0, 5);
	check(60, last_intid[0], 27);
	check(61, read_sysreg(cntv_ctl_el0) & 4, 4);        /* ISTATUS */
	write_sysreg(cntv_ctl_el0, 0);
}

int main(void)
{
	registers();
	spi_edge();
	spi_level_pmr();
	eoi_split();
	sgi();
	irqfd();
	vtimer();
	return 0;
}
