// The kernels' thread pool: a fork-join region runs fn(ctx, i) for every chunk index i on
// persistent worker threads and on the caller, and returns when every chunk has run.
//
// Why not Dispatch: a small model's training step is dozens of short parallel regions
// (LeNet-5's are tens of microseconds each), and waking a sleeping thread through the kernel
// for each one cost more than the work it split. Here the workers spin for a while after a
// region (pause, then yielding the core to anything else that wants it) before they sleep
// on a futex, so back-to-back regions start in well under a microsecond.
//
// Names: T is the number of participants in a region (the caller is participant 0, worker
// w is participant w + 1); count is the number of chunks. Participant p first takes chunks
// p, p + T, p + 2T, ... (so a layer's forward and backward, split the same way, keep each
// image on one core), then any chunk still unclaimed. Which thread runs a chunk never
// changes what the chunk computes: results depend on the chunk index only.
//
// One region runs at a time. A call made while the pool is busy (a nested region, or a
// second thread of the caller's program) returns 0 and the caller runs the region another
// way. The pool's state lives in file-level atomics; a region is published by bumping
// `ticket` (generation << 1 | open) and closed by clearing its low bit, after which the
// caller waits until no worker is inside.
#include "FoveaKernels.h"

#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#if defined(__linux__)
#include <linux/futex.h>
#include <sys/syscall.h>
#endif

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define CPU_RELAX() _mm_pause()
#elif defined(__aarch64__)
#define CPU_RELAX() __asm__ __volatile__("yield")
#else
#define CPU_RELAX() ((void)0)
#endif

enum { MAX_WORKERS = 255, MAX_FLAGGED = 64 };

// The region being run (written by the caller before it opens the region).
static fovea_task_fn region_fn;
static void *region_ctx;
static long region_count;
static int region_participants;
static _Atomic unsigned char claimed[MAX_FLAGGED]; // per chunk, when count <= MAX_FLAGGED
static _Atomic long next_chunk;                     // the shared cursor, when count > MAX_FLAGGED
static _Atomic long remaining;                      // chunks not yet finished

static _Atomic int busy;              // 1 while a caller owns the pool
static _Atomic uint32_t ticket;       // generation << 1 | open
static _Atomic int inside;            // workers inside the open region
static _Atomic int sleepers;          // workers asleep on the ticket
static _Atomic int spawned;           // workers started so far
static pthread_mutex_t spawn_lock = PTHREAD_MUTEX_INITIALIZER;
static long spin_ns = -1;             // how long an idle worker spins before sleeping

static long now_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (long)t.tv_sec * 1000000000L + t.tv_nsec;
}

static void futex_wait(_Atomic uint32_t *addr, uint32_t expected) {
#if defined(__linux__)
    syscall(SYS_futex, (uint32_t *)addr, FUTEX_WAIT_PRIVATE, expected, NULL, NULL, 0);
#else
    (void)addr; (void)expected;
    sched_yield();
#endif
}

static void futex_wake_all(_Atomic uint32_t *addr) {
#if defined(__linux__)
    syscall(SYS_futex, (uint32_t *)addr, FUTEX_WAKE_PRIVATE, INT_MAX, NULL, NULL, 0);
#else
    (void)addr;
#endif
}

static int try_claim(long i) {
    if (region_count <= MAX_FLAGGED)
        return atomic_exchange_explicit(&claimed[i], 1, memory_order_acq_rel) == 0;
    return 0;
}

/// Runs participant p's share of the open region: its own chunks, then any left.
static void participate(int p) {
    const long count = region_count;
    const int T = region_participants;
    if (count <= MAX_FLAGGED) {
        for (long i = p; i < count; i += T)
            if (try_claim(i)) {
                region_fn(region_ctx, i);
                atomic_fetch_sub_explicit(&remaining, 1, memory_order_release);
            }
        for (long i = 0; i < count; i++)
            if (atomic_load_explicit(&claimed[i], memory_order_relaxed) == 0 && try_claim(i)) {
                region_fn(region_ctx, i);
                atomic_fetch_sub_explicit(&remaining, 1, memory_order_release);
            }
    } else {
        for (;;) {
            const long i = atomic_fetch_add_explicit(&next_chunk, 1, memory_order_relaxed);
            if (i >= count) break;
            region_fn(region_ctx, i);
            atomic_fetch_sub_explicit(&remaining, 1, memory_order_release);
        }
    }
}

/// Waits until `ticket` differs from `seen`: spins with pause for a few microseconds,
/// then spins yielding the core until spin_ns has passed, then sleeps on the futex.
static uint32_t wait_for_ticket(uint32_t seen) {
    uint32_t t;
    for (int i = 0; i < 2000; i++) {
        if ((t = atomic_load_explicit(&ticket, memory_order_acquire)) != seen) return t;
        CPU_RELAX();
    }
    const long deadline = now_ns() + spin_ns;
    for (int i = 0;; i++) {
        if ((t = atomic_load_explicit(&ticket, memory_order_acquire)) != seen) return t;
        sched_yield();
        if ((i & 15) == 15 && now_ns() > deadline) break;
    }
    for (;;) {
        atomic_fetch_add(&sleepers, 1);
        if ((t = atomic_load(&ticket)) == seen) futex_wait(&ticket, seen);
        atomic_fetch_sub(&sleepers, 1);
        if ((t = atomic_load_explicit(&ticket, memory_order_acquire)) != seen) return t;
    }
}

static void *worker_main(void *arg) {
    const int p = (int)(intptr_t)arg; // participant number, 1...
    uint32_t seen = atomic_load(&ticket);
    for (;;) {
        const uint32_t t = wait_for_ticket(seen);
        seen = t;
        if (!(t & 1)) continue; // a region was closed
        atomic_fetch_add(&inside, 1);
        // Enter only if the region seen is still the open one (else it may be finished,
        // and its fields already belong to the next caller).
        if (atomic_load(&ticket) == t && p < region_participants) participate(p);
        atomic_fetch_sub_explicit(&inside, 1, memory_order_release);
    }
    return NULL;
}

/// Starts workers until there are `want`. 0 if a thread could not be started.
static int ensure_workers(int want) {
    if (atomic_load_explicit(&spawned, memory_order_acquire) >= want) return 1;
    pthread_mutex_lock(&spawn_lock);
    if (spin_ns < 0) {
        const char *s = getenv("FOVEA_SPIN_US");
        spin_ns = s && s[0] ? atol(s) * 1000L : 200000L;
    }
    int ok = 1;
    while (atomic_load(&spawned) < want) {
        pthread_attr_t attr;
        pthread_attr_init(&attr);
        pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
        pthread_t th;
        const int p = atomic_load(&spawned) + 1;
        const int rc = pthread_create(&th, &attr, worker_main, (void *)(intptr_t)p);
        pthread_attr_destroy(&attr);
        if (rc != 0) { ok = 0; break; }
        atomic_fetch_add_explicit(&spawned, 1, memory_order_release);
    }
    pthread_mutex_unlock(&spawn_lock);
    return ok;
}

int fovea_pool_run(long count, int threads, fovea_task_fn fn, void *ctx) {
    if (count <= 0) return 1;
    if (threads > MAX_WORKERS + 1) threads = MAX_WORKERS + 1;
    const int T = (int)(count < threads ? count : threads);
    if (T <= 1) {
        for (long i = 0; i < count; i++) fn(ctx, i);
        return 1;
    }
    int expected = 0;
    if (!atomic_compare_exchange_strong(&busy, &expected, 1)) return 0;
    if (!ensure_workers(T - 1)) {
        atomic_store(&busy, 0);
        return 0;
    }
    region_fn = fn;
    region_ctx = ctx;
    region_count = count;
    region_participants = T;
    if (count <= MAX_FLAGGED)
        for (long i = 0; i < count; i++) atomic_store_explicit(&claimed[i], 0, memory_order_relaxed);
    atomic_store_explicit(&next_chunk, 0, memory_order_relaxed);
    atomic_store_explicit(&remaining, count, memory_order_relaxed);

    // Open: a new generation with the low bit set. seq_cst pairs with the sleepers' check.
    const uint32_t open = ((atomic_load(&ticket) >> 1) + 1) << 1 | 1;
    atomic_store(&ticket, open);
    if (atomic_load(&sleepers) > 0) futex_wake_all(&ticket);

    participate(0);
    for (int i = 0; atomic_load_explicit(&remaining, memory_order_acquire) > 0; i++) {
        // A worker the OS has descheduled may hold the last chunk: after a while, offer
        // it this core.
        if (i < 4000) CPU_RELAX(); else sched_yield();
    }
    // Close, then wait for any worker that entered to leave before the fields change.
    atomic_store(&ticket, open & ~1u);
    for (int i = 0; atomic_load(&inside) > 0; i++) {
        if (i < 4000) CPU_RELAX(); else sched_yield();
    }
    atomic_store_explicit(&busy, 0, memory_order_release);
    return 1;
}
