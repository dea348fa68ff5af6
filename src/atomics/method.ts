/**
 * The one method compiler. Every method that calls native code on a hot
 * path (the narrow atomics', the 128-bit integers', the byte strings') is
 * compiled here from a few lines of source: its own function body per
 * (type, operation), named after its export, with its checks inlined. A
 * body shared by several would see several native functions at one call
 * site, which both JITs stop optimising (measured in Bun: 11.8 → 3.4 ns for
 * i32 fetchAdd; in Deno: ~45 → ~300 ns for a bytes compareAndSet once two
 * widths were in use).
 *
 * @module
 */

import { describe } from "../errors.ts";
import { OPS } from "../native/abi.ts";
import { LOAD_ORDERS, orderCode, RMW_ORDERS, STORE_ORDERS } from "./order.ts";

/** A compiled method. */
// deno-lint-ignore no-explicit-any
export type Method = (this: any, ...args: any[]) => unknown;

/** Whether a value is an instance of one class, and the error when it is not. */
export interface Brand {
  readonly is: (o: unknown) => boolean;
  readonly notThis: (o: unknown, where: string) => TypeError;
}

/** The Brand of a class named `name` whose instances `is` recognises. */
export function brand(name: string, is: (o: unknown) => boolean): Brand {
  return {
    is,
    notThis: (o, where) =>
      new TypeError(`${where}: this must be an ${name} (call the method on one); got ${describe(o)}`),
  };
}

/** The memory orders an operation of `shape` accepts. */
export function ordersOf(shape: string): readonly string[] {
  return shape === "load" ? LOAD_ORDERS : shape === "store" ? STORE_ORDERS : RMW_ORDERS;
}

/** An operation's value parameters (in generated source) and their names in errors. */
export interface ValueParams {
  readonly params: readonly string[];
  readonly names: readonly string[];
}

/** The value parameters of an operation of `shape`: none, a value, or expected and desired. */
export function valueParams(shape: string): ValueParams {
  if (shape === "load") return { params: [], names: [] };
  if (shape === "store" || shape === "rmw") return { params: ["v"], names: ["value"] };
  return { params: ["e", "d"], names: ["expected", "desired"] };
}

/** The method name of the export operation `op` (`fetch_add` → `fetchAdd`); "" for one without (C only). */
export function methodOf(op: string): string {
  const info = OPS.find((o) => o.name === op);
  if (info === undefined) throw new Error(`shared-atomic: no operation ${op} in the table`);
  return info.method;
}

/**
 * The source of a native call with its memory order: `native(args)` when no
 * order is given (or `seqCst`, an expression to use instead), else
 * `explicit(args, code(order, allowed, where))`.
 */
export function orderedCall(
  native: string,
  explicit: string,
  args: readonly string[],
  seqCst = `${native}(${args.join(", ")})`,
): string {
  return `order === undefined ? ${seqCst} : ${explicit}(${[...args, "code(order, allowed, where)"].join(", ")})`;
}

/** What `compileMethod` compiles. */
export interface MethodSource {
  /** The function's name: its export's symbol, or the method's. */
  readonly name: string;
  readonly params: readonly string[];
  /** Statements, over the parameters, the `values`, `code` (the order check) and `where`. */
  readonly body: string;
  /** What the body refers to besides its parameters, by name. */
  readonly values: Readonly<Record<string, unknown>>;
  /** The method in errors ("AtomicI32.fetchAdd"); bound as `where` unless it is a parameter. */
  readonly where?: string;
  /**
   * If given, `this` is checked first: a method called on anything but an
   * instance of its own class (another class's atomic, a plain object with
   * a `ptr`) never reaches native code with a pointer it did not make.
   */
  readonly brand?: Brand;
}

/** Compiles one method: its own function body, closed over its values. */
export function compileMethod(source: MethodSource): Method {
  const values: Record<string, unknown> = { ...source.values, code: orderCode };
  if (source.where !== undefined) values.where = source.where;
  let check = "";
  if (source.brand !== undefined) {
    values.is = source.brand.is;
    values.notThis = source.brand.notThis;
    check = "if (!is(this)) throw notThis(this, where);";
  }
  const names = Object.keys(values);
  const make = new Function(
    ...names,
    `"use strict";
    return function ${source.name}(${source.params.join(", ")}) {
      ${check}
      ${source.body}
    };`,
  );
  return make(...names.map((n) => values[n]));
}
