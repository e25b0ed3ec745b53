/* The in-kernel irqchip of an x86 VM (KVM_CREATE_IRQCHIP): a local APIC
 * per vCPU (lapic.c), the IOAPIC (ioapic.c), the 8259 pair (pic.c), GSI
 * routing, MSIs and the VM ioctls (irqchip.c), and the APIC timer thread.
 *
 * Threads: a LAPIC's registers belong to its vCPU's thread (or to an ioctl
 * holding that vCPU's run_lock). Other threads only post to it: IRR/TMR
 * bits set atomically, INIT/SIPI/NMI in `events`, then SK_REQ_EVENT; the
 * owner folds them in at its next block boundary. IOAPIC and PIC state is
 * under the irqchip's lock.
 */
#ifndef SK_X86_IRQ_H
#define SK_X86_IRQ_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "arch/x86/sys.h"

#define APIC_DEFAULT_BASE 0xfee00000ull
#define APIC_BASE_BSP (1ull << 8)
#define APIC_BASE_EXTD (1ull << 10)
#define APIC_BASE_ENABLE (1ull << 11)
#define IOAPIC_DEFAULT_BASE 0xfec00000ull
#define IOAPIC_PINS 24
#define IRQ_MAX_GSI 4096   /* KVM_MAX_IRQ_ROUTES: what KVM_CAP_IRQ_ROUTING answers */

/* Posted events (x86_lapic.events). */
enum { EV_INIT = 1u << 0, EV_SIPI = 1u << 1, EV_NMI = 1u << 2 };

/* Delivery modes (ICR, redirection entries, MSI data bits 8-10). */
enum { DM_FIXED = 0, DM_LOWEST = 1, DM_SMI = 2, DM_NMI = 4, DM_INIT = 5, DM_SIPI = 6,
       DM_EXTINT = 7 };

/* One interrupt message, as an ICR, an IOAPIC entry or an MSI describes it. */
struct irq_msg {
	uint32_t dest;
	uint8_t vector, mode;
	bool logical, level, trig_level;
	uint8_t shorthand;       /* 0 none, 1 self, 2 all, 3 all but self */
};

struct x86_lapic {
	_Alignas(64) uint8_t regs[1024];   /* the register page (struct kvm_lapic_state) */
	struct x86_cpu *cpu;
	struct x86_irqchip *ic;
	uint32_t vcpu_id;
	uint64_t cr8_seen;                 /* cpu->cr8 as last matched to the TPR */
	_Atomic uint32_t events;           /* EV_* */
	_Atomic uint32_t sipi_vector;      /* of the posted SIPI */
	_Atomic uint64_t deadline_ns;      /* timer expiry (host monotonic ns); 0 = idle */
	uint64_t period_ns;                /* periodic mode */
	uint64_t tscdeadline;              /* IA32_TSC_DEADLINE */
	uint64_t kicked_ns;                /* the deadline the timer thread last kicked */
};

struct ioapic {
	uint64_t base;
	uint32_t id, ioregsel, irr;
	uint64_t redir[IOAPIC_PINS];
	uint32_t irr_delivered;            /* edge pins already sent */
};

/* One GSI's routes: up to two irqchip pins, or an MSI. */
struct gsi_route {
	uint8_t n;
	struct {
		uint32_t type;   /* KVM_IRQ_ROUTING_IRQCHIP / _MSI */
		uint32_t chip, pin;
		uint32_t addr_lo, addr_hi, data;
	} e[2];
};

struct x86_irqchip {
	struct sk_vm *vm;
	pthread_mutex_t lock;              /* IOAPIC, PIC, routing */
	struct ioapic ioapic;
	struct kvm_pic_state pic[2];       /* master, slave */
	_Atomic bool pic_output;           /* the master's INTR line */
	struct gsi_route *routes;          /* IRQ_MAX_GSI entries */
	uint32_t nr_routes;
	/* Every LAPIC, in creation order; only appended to. */
	struct x86_lapic *apics[SK_MAX_VCPUS];
	_Atomic int nr_apics;
	/* The timer thread: kicks vCPUs whose APIC timer expired. */
	pthread_t timer_thread;
	pthread_mutex_t timer_lock;
	pthread_cond_t timer_cond;
	bool timer_stop;
};

static inline struct x86_irqchip *x86_irqchip(struct sk_vm *vm)
{
	return ((struct x86_vm *)vm->arch_vm)->irqchip;
}

static inline struct x86_lapic *x86_lapic(struct x86_cpu *cpu)
{
	return x86_sys(cpu)->lapic;
}

/* Other threads read ID/LDR/DFR/SVR and set IRR/TMR bits while the owner
 * writes: every access to the page is a (relaxed) atomic one. */
static inline uint32_t apic_reg(const struct x86_lapic *a, unsigned off)
{
	return __atomic_load_n((const uint32_t *)(const void *)(a->regs + off), __ATOMIC_RELAXED);
}

static inline void apic_set_reg(struct x86_lapic *a, unsigned off, uint32_t v)
{
	__atomic_store_n((uint32_t *)(void *)(a->regs + off), v, __ATOMIC_RELAXED);
}

/* lapic.c */
struct x86_lapic *x86_lapic_new(struct x86_cpu *cpu, bool bsp);
void x86_lapic_free(struct x86_lapic *a);
void x86_lapic_reset(struct x86_lapic *a, bool init);
bool x86_lapic_mmio(struct x86_cpu *cpu, uint64_t gpa, unsigned size, bool write, uint64_t *val);
/* x2APIC MSRs (0x800-0x8ff) and IA32_TSC_DEADLINE; false = #GP. */
bool x86_lapic_msr_get(struct x86_cpu *cpu, uint32_t idx, uint64_t *val);
bool x86_lapic_msr_set(struct x86_cpu *cpu, uint32_t idx, uint64_t val, bool host);
/* IA32_APIC_BASE with the APIC's rules; false = #GP. */
bool x86_lapic_set_base(struct x86_cpu *cpu, uint64_t val, bool host);
/* Deliver a message to every LAPIC it names (from any thread); src is the
 * sender for shorthands (NULL otherwise). Returns the number reached, or
 * -1 when nobody was. */
int x86_irq_deliver(struct x86_irqchip *ic, struct x86_lapic *src, const struct irq_msg *m);
/* The owner's side, at a block boundary: timer, INIT/SIPI, NMI, and the
 * interrupt to inject; blocks while the vCPU is not runnable. 0 or
 * -EINTR (exit_reason set). */
int x86_lapic_enter(struct x86_cpu *cpu);
/* KVM_RUN of an UNINITIALIZED vCPU: block, take INIT/SIPI, -EAGAIN/-EINTR. */
int x86_lapic_wait_uninit(struct x86_cpu *cpu);
/* An interrupt waits for IF/the shadow (the run loop asks for a window). */
bool x86_lapic_wants_window(struct x86_cpu *cpu);
/* Fold posted INIT/SIPI into the MP state (KVM_GET_MP_STATE does this). */
void x86_lapic_accept_events(struct x86_cpu *cpu);
void x86_lapic_post_sipi(struct x86_lapic *a, uint32_t vector);
int x86_lapic_get_state(struct x86_cpu *cpu, struct kvm_lapic_state *s);
int x86_lapic_set_state(struct x86_cpu *cpu, const struct kvm_lapic_state *s);
uint64_t x86_lapic_next_deadline(struct x86_lapic *a);
/* The CR8 the interpreter sees and the TPR are one register. */
void x86_lapic_sync_tpr(struct x86_cpu *cpu);

/* ioapic.c */
void x86_ioapic_reset(struct ioapic *io);
int x86_ioapic_set_irq(struct x86_irqchip *ic, unsigned pin, bool level);
bool x86_ioapic_mmio(struct x86_irqchip *ic, uint64_t gpa, unsigned size, bool write,
		     uint64_t *val);
/* A LAPIC EOI of a level-triggered vector. */
void x86_ioapic_eoi(struct x86_irqchip *ic, uint8_t vector);

/* pic.c */
void x86_pic_reset(struct x86_irqchip *ic);
int x86_pic_set_irq(struct x86_irqchip *ic, unsigned irq, bool level);
/* The PIC's INTR output (lockless), and its acknowledge (the vector). */
static inline bool x86_pic_has_intr(struct x86_irqchip *ic)
{
	return atomic_load_explicit(&ic->pic_output, memory_order_acquire);
}
int x86_pic_ack(struct x86_irqchip *ic);
/* Recompute the output after a state change (under ic->lock). */
void x86_pic_update(struct x86_irqchip *ic);
bool x86_pic_pio(struct x86_irqchip *ic, uint16_t port, bool write, uint32_t *val);

/* irqchip.c */
void x86_irqchip_timer_changed(struct x86_irqchip *ic);
void x86_irqchip_destroy(struct sk_vm *vm);
/* Stop the timer thread (the VM is going away; idempotent). */
void x86_irqchip_quiesce(struct x86_irqchip *ic);
/* vCPU creation with an irqchip: its LAPIC, and the MP state KVM gives. */
int x86_irqchip_vcpu_init(struct x86_cpu *cpu);
void x86_irqchip_vcpu_destroy(struct x86_cpu *cpu);
/* Routing of a GSI to the chips; under ic->lock. */
int x86_irq_set_gsi(struct x86_irqchip *ic, uint32_t gsi, bool level);
void x86_irq_kick(struct x86_lapic *a);

/* The irqchip ioctls (entries in state.c's tables). */
long x86_ioc_create_irqchip(void *obj, void *arg);
long x86_ioc_irq_line(void *obj, void *arg);
long x86_ioc_irq_line_status(void *obj, void *arg);
long x86_ioc_get_irqchip(void *obj, void *arg);
long x86_ioc_set_irqchip(void *obj, void *arg);
long x86_ioc_signal_msi(void *obj, void *arg);
long x86_ioc_set_gsi_routing(void *obj, void *arg);
long x86_ioc_set_boot_cpu_id(void *obj, void *arg);
long x86_ioc_get_lapic(void *obj, void *arg);
long x86_ioc_set_lapic(void *obj, void *arg);
size_t x86_irq_routing_len(const void *hdr);

#endif
