/*
 * The "native loop limit" for bench/atomics.bench.ts: each function performs
 * one atomic operation `n` times in a C loop, so one FFI call measures what
 * the hardware does without any JavaScript or FFI in between. Independent of
 * the Zig library on purpose: plain GCC/Clang `__atomic_*` builtins, seq_cst,
 * the same instructions a C programmer would get.
 *
 * Built at bench time by the bench script (`cc -O2 -shared -fPIC`) into a
 * temporary directory; nothing here is shipped.
 *
 * Shapes (the same the library would use for `sa_bench_<type>_<op>_loop`):
 *   V nl_<type>_load(T *p, V unused, uint32_t n)        xor of the loaded values
 *   V nl_<type>_store(T *p, V value, uint32_t n)        stores `value` n times
 *   V nl_<type>_fetch_add(T *p, V value, uint32_t n)    last old value
 *   V nl_<type>_compare_exchange(T *p, V a, V b, uint32_t n)
 *       n successful compare-exchanges alternating a->b and b->a (`*p` must be a)
 *   V nl_f64_fetch_max(double *p, V start, uint32_t n)  fetch_max(start + i), i < n
 * plus `nl_noop_*`, which do nothing: the FFI call floor for each signature.
 */

#include <stdint.h>
#include <string.h>

#define SC __ATOMIC_SEQ_CST

static inline uint64_t bits_of(double d) {
  uint64_t b;
  memcpy(&b, &d, sizeof b);
  return b;
}

static inline double double_of(uint64_t b) {
  double d;
  memcpy(&d, &b, sizeof d);
  return d;
}

/* ---- integers ------------------------------------------------------------ */

#define INT_LOOPS(NAME, T)                                                     \
  T nl_##NAME##_load(T *p, T unused, uint32_t n) {                             \
    (void)unused;                                                              \
    T x = 0;                                                                   \
    for (uint32_t i = 0; i < n; i++) x ^= __atomic_load_n(p, SC);              \
    return x;                                                                  \
  }                                                                            \
  T nl_##NAME##_store(T *p, T value, uint32_t n) {                             \
    for (uint32_t i = 0; i < n; i++) __atomic_store_n(p, value, SC);           \
    return value;                                                              \
  }                                                                            \
  T nl_##NAME##_fetch_add(T *p, T value, uint32_t n) {                         \
    T old = 0;                                                                 \
    for (uint32_t i = 0; i < n; i++) old = __atomic_fetch_add(p, value, SC);   \
    return old;                                                                \
  }                                                                            \
  T nl_##NAME##_compare_exchange(T *p, T a, T b, uint32_t n) {                 \
    T seen = a;                                                                \
    for (uint32_t i = 0; i < n; i += 2) {                                      \
      seen = a;                                                                \
      __atomic_compare_exchange_n(p, &seen, b, 0, SC, SC);                     \
      seen = b;                                                                \
      __atomic_compare_exchange_n(p, &seen, a, 0, SC, SC);                     \
    }                                                                          \
    return seen;                                                               \
  }

INT_LOOPS(i32, int32_t)
INT_LOOPS(u64, uint64_t)

/* ---- f64: bit-pattern atomics on a uint64_t, CAS loops for arithmetic ---- */

double nl_f64_load(double *p, double unused, uint32_t n) {
  (void)unused;
  uint64_t x = 0;
  for (uint32_t i = 0; i < n; i++) x ^= __atomic_load_n((uint64_t *)p, SC);
  return double_of(x);
}

double nl_f64_store(double *p, double value, uint32_t n) {
  uint64_t b = bits_of(value);
  for (uint32_t i = 0; i < n; i++) __atomic_store_n((uint64_t *)p, b, SC);
  return value;
}

double nl_f64_compare_exchange(double *p, double a, double b, uint32_t n) {
  uint64_t ab = bits_of(a), bb = bits_of(b), seen = ab;
  for (uint32_t i = 0; i < n; i += 2) {
    seen = ab;
    __atomic_compare_exchange_n((uint64_t *)p, &seen, bb, 0, SC, SC);
    seen = bb;
    __atomic_compare_exchange_n((uint64_t *)p, &seen, ab, 0, SC, SC);
  }
  return double_of(seen);
}

static inline double f64_rmw_add(uint64_t *p, double v) {
  uint64_t cur = __atomic_load_n(p, __ATOMIC_RELAXED);
  for (;;) {
    uint64_t next = bits_of(double_of(cur) + v);
    if (__atomic_compare_exchange_n(p, &cur, next, 1, SC, __ATOMIC_RELAXED)) return double_of(cur);
  }
}

static inline double f64_rmw_max(uint64_t *p, double v) {
  uint64_t cur = __atomic_load_n(p, __ATOMIC_RELAXED);
  for (;;) {
    double old = double_of(cur);
    uint64_t next = bits_of(v > old ? v : old);
    if (__atomic_compare_exchange_n(p, &cur, next, 1, SC, __ATOMIC_RELAXED)) return old;
  }
}

double nl_f64_fetch_add(double *p, double value, uint32_t n) {
  double old = 0;
  for (uint32_t i = 0; i < n; i++) old = f64_rmw_add((uint64_t *)p, value);
  return old;
}

double nl_f64_fetch_max(double *p, double start, uint32_t n) {
  double old = 0;
  for (uint32_t i = 0; i < n; i++) old = f64_rmw_max((uint64_t *)p, start + (double)i);
  return old;
}

/* ---- FFI floor: the same signatures as the library's hot exports --------- */

int32_t nl_noop_i32(void *p, int32_t v) {
  (void)p;
  return v;
}

double nl_noop_f64(void *p, double v) {
  (void)p;
  return v;
}

uint64_t nl_noop_u64(void *p, uint64_t v) {
  (void)p;
  return v;
}
