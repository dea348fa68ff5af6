/*
 * The native limits for bench/locks.bench.ts, one FFI call per measurement:
 *
 *   int32_t nl_pthread_mutex_loop(uint32_t n, int32_t kind)
 *       n × pthread_mutex_lock + pthread_mutex_unlock on one mutex, uncontended;
 *       kind 0: a default (process-private) mutex; kind 1: PTHREAD_PROCESS_SHARED
 *       and PTHREAD_MUTEX_ROBUST, what a C program sharing a mutex between
 *       processes with owner-death detection uses. Returns 0, or the first error.
 *   int32_t nl_futex_mutex_loop(int32_t *p, uint32_t n)
 *       n × lock + unlock of the futex-style mutex the JavaScript "Atomics mutex"
 *       implements (compare-exchange 0 -> 1 to lock; compare-exchange 1 -> 0 to
 *       unlock, else store 0 and wake one): the same instructions without any
 *       JavaScript or FFI in between. Returns *p (0).
 *   double nl_futex_pingpong(uint32_t trips)
 *       median one-way wake-up latency in ns between two threads of this
 *       process doing the ping-pong of the JavaScript benchmark on a futex word
 *       (process-shared futex calls, like the library's): the OS floor.
 *       Negative on error.
 *
 * Built at bench time by the bench script (`cc -O2 -shared -fPIC -pthread`)
 * into a temporary directory; nothing here is shipped.
 */

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>
#if defined(__linux__)
#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>
#else
#include <sched.h>
#endif

#define SC __ATOMIC_SEQ_CST

/* ---- pthread_mutex ---------------------------------------------------------- */

int32_t nl_pthread_mutex_loop(uint32_t n, int32_t kind) {
  pthread_mutexattr_t attr;
  pthread_mutex_t m;
  int rc = pthread_mutexattr_init(&attr);
  if (rc) return rc;
  if (kind == 1) {
    if ((rc = pthread_mutexattr_setpshared(&attr, PTHREAD_PROCESS_SHARED))) return rc;
#if defined(PTHREAD_MUTEX_ROBUST)
    if ((rc = pthread_mutexattr_setrobust(&attr, PTHREAD_MUTEX_ROBUST))) return rc;
#endif
  }
  if ((rc = pthread_mutex_init(&m, &attr))) return rc;
  pthread_mutexattr_destroy(&attr);
  for (uint32_t i = 0; i < n; i++) {
    if ((rc = pthread_mutex_lock(&m))) break;
    if ((rc = pthread_mutex_unlock(&m))) break;
  }
  pthread_mutex_destroy(&m);
  return rc;
}

/* ---- the futex-style mutex ----------------------------------------------------- */

static long futex_wait(int32_t *p, int32_t expected) {
#if defined(__linux__)
  return syscall(SYS_futex, p, FUTEX_WAIT, expected, NULL, NULL, 0);
#else
  (void)p;
  (void)expected;
  return sched_yield();
#endif
}

static long futex_wake(int32_t *p, int32_t count) {
#if defined(__linux__)
  return syscall(SYS_futex, p, FUTEX_WAKE, count, NULL, NULL, 0);
#else
  (void)p;
  (void)count;
  return 0;
#endif
}

/* 0 unlocked, 1 locked, 2 locked with waiters (Drepper, "Futexes are tricky", mutex 2). */
static inline void fm_lock(int32_t *p) {
  int32_t c = 0;
  if (__atomic_compare_exchange_n(p, &c, 1, 0, SC, SC)) return;
  if (c != 2) c = __atomic_exchange_n(p, 2, SC);
  while (c != 0) {
    futex_wait(p, 2);
    c = __atomic_exchange_n(p, 2, SC);
  }
}

static inline void fm_unlock(int32_t *p) {
  int32_t c = 1;
  if (__atomic_compare_exchange_n(p, &c, 0, 0, SC, SC)) return;
  __atomic_store_n(p, 0, SC);
  futex_wake(p, 1);
}

int32_t nl_futex_mutex_loop(int32_t *p, uint32_t n) {
  for (uint32_t i = 0; i < n; i++) {
    fm_lock(p);
    fm_unlock(p);
  }
  return __atomic_load_n(p, SC);
}

/* ---- futex ping-pong between two threads ------------------------------------- */

struct pingpong {
  int32_t word; /* 0: pong's turn to wait; 1: ping sent; -1: stop */
  uint32_t trips;
};

static void *pong(void *arg) {
  struct pingpong *pp = arg;
  for (;;) {
    int32_t v;
    while ((v = __atomic_load_n(&pp->word, SC)) == 0) futex_wait(&pp->word, 0);
    if (v < 0) return NULL;
    __atomic_store_n(&pp->word, 0, SC);
    futex_wake(&pp->word, 1);
  }
}

static double now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

double nl_futex_pingpong(uint32_t trips) {
  struct pingpong pp = {0, trips};
  pthread_t t;
  double *rt = malloc(sizeof(double) * (trips ? trips : 1));
  if (!rt || pthread_create(&t, NULL, pong, &pp)) {
    free(rt);
    return -1;
  }
  double prev = now_ns();
  for (uint32_t i = 0; i < trips; i++) {
    __atomic_store_n(&pp.word, 1, SC);
    futex_wake(&pp.word, 1);
    while (__atomic_load_n(&pp.word, SC) == 1) futex_wait(&pp.word, 1);
    double t1 = now_ns();
    rt[i] = t1 - prev;
    prev = t1;
  }
  __atomic_store_n(&pp.word, -1, SC);
  futex_wake(&pp.word, 1);
  pthread_join(t, NULL);
  qsort(rt, trips, sizeof(double), cmp_double);
  double median = trips ? (trips % 2 ? rt[trips / 2] : (rt[trips / 2 - 1] + rt[trips / 2]) / 2) : 0;
  free(rt);
  return median / 2;
}
