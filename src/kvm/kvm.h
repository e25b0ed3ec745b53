/* The arch-neutral KVM core: the objects behind the system, VM and vCPU fds.
 *
 * kvm/ owns ioctl dispatch, argument copying and validation, capabilities,
 * memslots (through mem/), the KVM_RUN loop (signals, immediate_exit) and the
 * exits' common fields. It never touches a CPU register: everything about a
 * CPU goes through struct sk_arch_ops (arch/arch.h).
 */
#ifndef SK_KVM_H
#define SK_KVM_H

#include <linux/futex.h>
#include <linux/kvm.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "kvm/stats.h"
#include "mem/memslot.h"

struct sk_arch_ops;
struct sk_irqfds;

#define SK_MAX_VCPUS 1024    /* KVM_MAX_VCPUS on x86 in 6.1 */
#define SK_MAX_VCPU_ID 4096  /* KVM_MAX_VCPU_IDS on x86 in 6.1 */

enum sk_file_kind { SK_FILE_SYS = 1, SK_FILE_VM, SK_FILE_VCPU, SK_FILE_DEVICE };

/* Requests another thread (or a signal handler) posts to a running vCPU.
 * The arch checks vcpu->requests at block boundaries and returns from
 * vcpu_run when any bit it does not handle itself is set. */
enum {
	SK_REQ_EXIT = 1u << 0,       /* a signal arrived: leave KVM_RUN with EINTR */
	SK_REQ_TLB_FLUSH = 1u << 1,  /* memslots or dirty-log protection changed */
	SK_REQ_EVENT = 1u << 2,      /* an interrupt/event was posted */
};

struct sk_vm {
	atomic_int refs;
	const struct sk_arch_ops *arch;
	unsigned long type;
	pthread_mutex_t lock;        /* slots_lock + vcpu creation */
	struct sk_memslots mem;
	/* By creation order; a fixed array of max_vcpus, so any thread may walk
	 * vcpus[0 .. nr_vcpus) without the lock (published in that order). */
	struct sk_vcpu **vcpus;
	_Atomic int nr_vcpus;
	int max_vcpus;
	uint64_t enabled_caps;       /* bit per VM capability enabled through KVM_ENABLE_CAP */
	bool manual_dirty_protect;   /* KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2 enabled */
	bool dirty_initially_set;    /* ... with KVM_DIRTY_LOG_INITIALLY_SET */
	bool dead;
	unsigned fork_gen;           /* sk_fork_gen when created: VMs do not cross fork */
	void *arch_vm;               /* owned by the arch */
	struct sk_stats stats;       /* KVM_GET_STATS_FD: the generic VM stats */
	struct sk_irqfds *irqfds;    /* KVM_IRQFD (irqfd.c): made on first assign, or NULL */
};

/* A vCPU lives as long as its VM: a reference to a vCPU (its fd, an ioctl
 * in flight) is a reference to the VM. */
struct sk_vcpu {
	struct sk_vm *vm;
	uint32_t id;                 /* the vcpu_id given to KVM_CREATE_VCPU */
	int index;                   /* creation order */
	struct kvm_run *run;         /* shared with the VMM through mmap of the fd */
	size_t run_size;
	pthread_mutex_t run_lock;    /* one KVM_RUN (and vcpu ioctl) at a time */
	_Atomic uint32_t requests;   /* SK_REQ_* */
	atomic_uint_fast64_t seen_gen; /* memslot generation this vCPU runs with */
	atomic_bool in_run;
	bool sigmask_set;
	sigset_t sigmask;            /* KVM_SET_SIGNAL_MASK */
	bool io_pending;             /* an IO/MMIO exit awaits completion on re-entry */
	void *arch_vcpu;             /* owned by the arch */
	struct sk_stats stats;       /* KVM_GET_STATS_FD: generic, then the arch's exit counters */
};

/* Bumped in the child of every fork: a VM belongs to the process (the mm)
 * that created it, and its fds answer EIO in a child, as KVM's do. */
extern unsigned sk_fork_gen;

static inline bool sk_vm_foreign(const struct sk_vm *vm)
{
	return vm->fork_gen != sk_fork_gen;
}

/* The vCPU whose KVM_RUN is executing on this thread, or NULL. */
extern _Thread_local struct sk_vcpu *sk_current_vcpu;

void sk_vcpu_wake(struct sk_vcpu *vcpu);

/* Also wakes the vCPU if it sleeps (halted) in sk_vcpu_block; async-signal-
 * safe. The wake is hostcall.c's: an inline syscall(SYS_futex) here would
 * take arm64's number in the arm64 vCPU built on an x86-64 host. */
static inline void sk_vcpu_request(struct sk_vcpu *vcpu, uint32_t req)
{
	atomic_fetch_or_explicit(&vcpu->requests, req, memory_order_release);
	sk_vcpu_wake(vcpu);
}

/* The arch calls this on KVM_RUN entry and whenever it sees
 * SK_REQ_TLB_FLUSH (after clearing that bit and before touching guest
 * memory again): it returns the slot set to use from now on and tells
 * sk_vm_flush_vcpus that this vCPU no longer holds anything older. All host
 * pointers derived from the previous set (TLB, caches) must be dropped. */
static inline const struct sk_slotset *sk_vcpu_ack_slots(struct sk_vcpu *vcpu, struct sk_memslots *m)
{
	const struct sk_slotset *set = sk_mem_current(m);
	atomic_store_explicit(&vcpu->seen_gen, set->gen, memory_order_release);
	return set;
}

/* Statistics (stats.c): set up with the object (a failure leaves the
 * object without stats: KVM_GET_STATS_FD then fails with ENOMEM). */
int sk_vm_stats_init(struct sk_vm *vm);
int sk_vcpu_stats_init(struct sk_vcpu *vcpu);
void sk_vcpu_count_exit(struct sk_vcpu *vcpu, uint32_t reason);
void sk_vm_count_flush(struct sk_vm *vm);

/* Sleep a halted vCPU until its requests word moves from seen, or rel
 * passes (NULL: no limit); keeps the halt statistics. */
void sk_vcpu_block(struct sk_vcpu *vcpu, uint32_t seen, const struct timespec *rel);

/* Take one reference to a VM; drop it (destroying VM and vCPUs on the last). */
void sk_vm_get(struct sk_vm *vm);
void sk_vm_put(struct sk_vm *vm);
struct sk_vm *sk_vm_create(const struct sk_arch_ops *arch, unsigned long type);
long sk_vcpu_create(struct sk_vm *vm, unsigned long id);
void sk_vcpu_free(struct sk_vcpu *vcpu);

/* On KVM_RUN entry, before the arch looks at memory: publish the memslot
 * map if changes made while no vCPU ran left the snapshot stale. */
void sk_vm_refresh_slots(struct sk_vm *vm);

/* Ask every running vCPU of vm to flush its translations, and wait until each
 * has done so (or is outside KVM_RUN). */
void sk_vm_flush_vcpus(struct sk_vm *vm);

/* The ioctl entry points, one per kind of fd. Return >= 0 or -errno. */
long sk_sys_ioctl(unsigned long cmd, unsigned long arg);
long sk_vm_ioctl(struct sk_vm *vm, unsigned long cmd, unsigned long arg);
long sk_vcpu_ioctl(struct sk_vcpu *vcpu, unsigned long cmd, unsigned long arg);

/* KVM_CHECK_EXTENSION; vm is NULL on the system fd. */
long sk_check_extension(struct sk_vm *vm, long ext);

/* The file table (fdtable.c): fd -> object, thread safe. */
int sk_fd_install(enum sk_file_kind kind, void *obj, int fd);
void *sk_fd_get(int fd, enum sk_file_kind *kind); /* takes a reference */
void sk_fd_put(enum sk_file_kind kind, void *obj);
bool sk_fd_owned(int fd);
/* Like sk_fd_get, but the reference belongs to this thread's lookup cache:
 * the object stays valid until this thread's next lookup. */
void *sk_fd_lookup_cached(int fd, enum sk_file_kind *kind);
void sk_fd_remove(int fd);
void sk_fd_dup(int oldfd, int newfd);

/* Signals (signals.c): install softkvm's handlers for SIGSEGV/SIGBUS so
 * a fault on guest memory ends KVM_RUN with EFAULT instead of the process. */
void sk_signals_init(void);
/* After KVM_RUN restored the thread's mask: queue again the signals taken
 * during it, so they are delivered (or stay pending) as after a syscall. */
void sk_signals_redeliver(void);
/* Queue a signal for this thread as if it arrived during KVM_RUN: it is
 * delivered once KVM_RUN has restored the thread's mask (RAS: SIGBUS for
 * consumed guest memory poison). */
void sk_signals_defer(const siginfo_t *info);
/* The SIGBUS BUS_MCEERR_AR that ended the guest access (sk_guest_fault_jb
 * was taken because of it), for KVM_RUN to pass on. */
extern _Thread_local siginfo_t sk_guest_hwpoison;
extern _Thread_local bool sk_guest_hwpoison_set;
/* Set while the vCPU on this thread touches guest memory; a fault on a
 * memslot's host range then jumps here. */
extern _Thread_local sigjmp_buf *sk_guest_fault_jb;

/* Tracing (trace.c), on when SOFTKVM_TRACE is set. */
extern bool sk_trace_on;
void sk_trace_ioctl(int fd, enum sk_file_kind kind, void *obj, unsigned long cmd,
		    unsigned long arg, long ret);

/* Start one of softkvm's own threads (irqfd, PIT, timers, control) with
 * every signal blocked: signals are for the VMM's threads. As
 * pthread_create (attr may be NULL). */
static inline int sk_thread_create(pthread_t *t, const pthread_attr_t *attr,
				   void *(*fn)(void *), void *arg)
{
	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	int r = pthread_create(t, attr, fn, arg);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return r;
}

/* Raw syscalls for fds, so that the core never re-enters the preload seam. */
int sk_sys_close(int fd);
int sk_anon_fd(void); /* an fd for a system or VM object, or -errno */

/* Raw system calls with the host's numbers (hostcall.c), for code that is
 * compiled against another arch's uapi (arm64 on an x86-64 host), where
 * SYS_* names the other arch's calls. */
bool sk_same_file(int a, int b);           /* kcmp KCMP_FILE; false if refused */
int sk_sys_dup_cloexec(int fd);            /* F_DUPFD_CLOEXEC, or -errno */
int sk_check_eventfd(int fd);              /* 0, or -EBADF / -EINVAL as eventfd_ctx_fdget */

#endif
