#!/usr/bin/env bun
/**
 * `shared-atomic`: lists and removes shared-memory segments, e.g. those a
 * program killed with SIGKILL left behind (`SharedMemory.create` then fails
 * with "already exists").
 *
 *     bunx shared-atomic ls [PREFIX]            the current user's 0600 segments, size, age, who maps them
 *     bunx shared-atomic rm NAME...             removes these names
 *     bunx shared-atomic rm --unused PREFIX     removes the listed ones under PREFIX that no process maps
 *
 * Also `deno run -A bin/shared-atomic.ts ls` (Deno asks for --allow-all to touch anything under /dev). Linux only: /dev/shm is where POSIX shared memory is listed; macOS offers
 * no way to list it (`SharedMemory.unlink(name)` removes a name there).
 *
 * @module
 */

import process from "node:process";
import { canList, listSegments, removeSegment, type Segment } from "./segments.ts";

const USAGE = `usage: shared-atomic ls [PREFIX]
       shared-atomic rm NAME...
       shared-atomic rm --unused PREFIX

ls   lists your shared-memory segments of mode 0600 (what SharedMemory.create makes; other
     programs' too: a segment carries no mark of its maker), with the processes mapping each
rm   removes segment names (processes that have one mapped keep using it)`;

function age(d: Date): string {
  const s = Math.max(0, Math.round((Date.now() - d.getTime()) / 1000));
  if (s < 120) return `${s}s`;
  if (s < 7200) return `${Math.round(s / 60)}m`;
  if (s < 172800) return `${Math.round(s / 3600)}h`;
  return `${Math.round(s / 86400)}d`;
}

function table(segments: readonly Segment[]): string {
  const rows = [["NAME", "BYTES", "AGE", "MAPPED BY"]].concat(
    segments.map((s) => [s.name, String(s.bytes), age(s.modified), s.mappedBy.join(",") || "-"]),
  );
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]))).join("  ")).join("\n");
}

function remove(names: readonly string[]): number {
  let failed = 0;
  for (const name of names) {
    try {
      removeSegment(name);
      console.log(`removed ${name.startsWith("/") ? name : `/${name}`}`);
    } catch (e) {
      failed++;
      const err = e as { code?: string; message?: string };
      console.error(`shared-atomic rm: ${name}: ${err.code === "ENOENT" ? "no such segment" : err.message}`);
    }
  }
  return failed === 0 ? 0 : 1;
}

/** Runs the command with `args`; returns the exit status. */
export function main(args: readonly string[]): number {
  const [command, ...rest] = args;
  if (command === undefined || command === "help" || command === "--help" || command === "-h") {
    console.log(USAGE);
    return command === undefined ? 2 : 0;
  }
  if ((command === "ls" || command === "rm") && !canList()) {
    console.error(`shared-atomic ${command}: no /dev/shm here: listing segments works on Linux only`);
    if (command === "ls") return 1;
  }
  if (command === "ls") {
    if (rest.length > 1) return usage(`ls takes at most one PREFIX; got ${rest.length} arguments`);
    console.log(table(listSegments(rest[0] ?? "")));
    return 0;
  }
  if (command === "rm") {
    if (rest[0] === "--unused") {
      if (rest.length !== 2 || rest[1].replace(/^\//, "") === "") {
        return usage("rm --unused takes one non-empty PREFIX (never every unused segment of yours)");
      }
      return remove(listSegments(rest[1]).filter((s) => s.mappedBy.length === 0).map((s) => s.name));
    }
    if (rest.length === 0) return usage("rm takes at least one NAME");
    return remove(rest);
  }
  return usage(`unknown command ${JSON.stringify(command)}`);
}

function usage(problem: string): number {
  console.error(`shared-atomic: ${problem}\n\n${USAGE}`);
  return 2;
}

process.exitCode = main(process.argv.slice(2));
