/**
 * A peer of bench/node.bench.ts, as a child process (its arguments in argv,
 * JSON, with handles) or a worker_threads Worker (in workerData, with
 * descriptors): rebuilds the counter, the gate and the ready count, counts
 * in, waits for the gate, runs its fetchAdds, exits.
 *
 * @module
 */

import process from "node:process";
import { isMainThread, workerData } from "node:worker_threads";
import type * as Api from "../src/index.ts";

const [entry, counterRef, gateRef, readyRef, n] = (isMainThread ? JSON.parse(process.argv[2]) : workerData) as [
  string,
  unknown,
  unknown,
  unknown,
  number,
];
const api = (await import(entry)) as typeof Api;
const open = <T>(cls: { fromHandle(h: string): T }, ref: unknown): T =>
  typeof ref === "string" ? cls.fromHandle(ref) : api.fromDescriptor(ref as Api.AtomicDescriptor) as T;
const counter = open(api.AtomicU64, counterRef), gate = open(api.AtomicI32, gateRef);
const ready = open(api.AtomicI32, readyRef);
const warm = api.AtomicU64.create(0n);
for (let i = 0; i < 100_000; i++) warm.fetchAdd(1);
ready.fetchAdd(1);
while (gate.load() === 0) gate.wait(0, 100);
for (let i = 0; i < n; i++) counter.fetchAdd(1);
