// The journaled record test/robust.test.ts's stress runs update under a
// lock (i32 words): an update writes its intent, then the values, then clears
// the intent, so whoever takes the lock after a holder died mid-update can
// finish it (roll forward). A second holder inside at the same time is
// counted as a violation, and so is a reader that sees an update in flight
// or a total that is not the sum of the counts.

/** Word indexes. */
export const J = { total: 0, pending: 1, proc: 2, newTotal: 3, newCount: 4, inside: 5, violations: 6, repairs: 7 };
/** Word index of participant 0's count (participant i: COUNTS + i, i < 32). */
export const COUNTS = 16;
/** Bytes the record takes. */
export const JOURNAL_BYTES = 4 * (COUNTS + 32);

/** Finishes an update a dead holder left half-done (roll forward). */
export function repair(w: Int32Array): void {
  if (Atomics.load(w, J.pending) !== 0) {
    Atomics.store(w, J.total, Atomics.load(w, J.newTotal));
    Atomics.store(w, COUNTS + Atomics.load(w, J.proc), Atomics.load(w, J.newCount));
    Atomics.store(w, J.pending, 0);
  }
  Atomics.store(w, J.inside, 0);
  Atomics.add(w, J.repairs, 1);
}

function busy(): number {
  let s = 0;
  for (let i = 0; i < 200; i++) s += i;
  return s;
}

/** One journaled increment by participant `index`, the caller holding the lock exclusively. */
export function update(w: Int32Array, index: number): void {
  if (Atomics.compareExchange(w, J.inside, 0, index + 1) !== 0) Atomics.add(w, J.violations, 1);
  const t = Atomics.load(w, J.total);
  const c = Atomics.load(w, COUNTS + index);
  Atomics.store(w, J.newTotal, t + 1);
  Atomics.store(w, J.proc, index);
  Atomics.store(w, J.newCount, c + 1);
  Atomics.store(w, J.pending, 1);
  busy();
  Atomics.store(w, J.total, t + 1);
  busy();
  Atomics.store(w, COUNTS + index, c + 1);
  Atomics.store(w, J.pending, 0);
  Atomics.store(w, J.inside, 0);
}

/** The sum of every participant's count. */
export function sum(w: Int32Array): number {
  let s = 0;
  for (let i = 0; i < 32; i++) s += Atomics.load(w, COUNTS + i);
  return s;
}

/** A reader's check (under a read lock): no update in flight, and the total is the sum of the counts. */
export function check(w: Int32Array): void {
  if (Atomics.load(w, J.pending) !== 0 || Atomics.load(w, J.inside) !== 0 || sum(w) !== Atomics.load(w, J.total)) {
    Atomics.add(w, J.violations, 1);
  }
}
