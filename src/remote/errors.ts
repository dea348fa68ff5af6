/**
 * The errors of the Valkey backend, each named for what went wrong, so a
 * caller can tell a server that is gone from a key of the wrong type from a
 * lease that ran out.
 *
 * @module
 */

/**
 * The base class of the Valkey backend's errors: `where` names the method,
 * the message says what happened and, where there is one, what to do.
 *
 * @example
 * ```ts
 * import { ValkeyError } from "./valkey.ts";
 * new ValkeyError("ValkeyStore.connect", "boom").message; // "ValkeyStore.connect: boom"
 * ```
 */
export class ValkeyError extends Error {
  /** The method that failed, e.g. `"ValkeyAtomicI64.fetchAdd"`. */
  readonly where: string;
  /**
   * An error of method `where`.
   *
   * @example
   * ```ts
   * import { ValkeyError } from "./valkey.ts";
   * new ValkeyError("x", "y").where; // "x"
   * ```
   */
  constructor(where: string, message: string, options?: ErrorOptions) {
    super(`${where}: ${message}`, options);
    this.name = "ValkeyError";
    this.where = where;
  }
}

/**
 * The server could not be reached: the connection was refused, dropped, or
 * is being re-established. Nothing was done by the call that threw this
 * unless the message says the reply was lost.
 *
 * @example
 * ```ts
 * import { ValkeyConnectionError } from "./valkey.ts";
 * new ValkeyConnectionError("ValkeyStore.connect", "refused").name; // "ValkeyConnectionError"
 * ```
 */
export class ValkeyConnectionError extends ValkeyError {
  /**
   * A connection failure of method `where`.
   *
   * @example
   * ```ts
   * import { ValkeyConnectionError } from "./valkey.ts";
   * new ValkeyConnectionError("m", "down") instanceof Error; // true
   * ```
   */
  constructor(where: string, message: string, options?: ErrorOptions) {
    super(where, message, options);
    this.name = "ValkeyConnectionError";
  }
}

/**
 * No reply within the store's `timeoutMs`. The command may or may not have
 * run on the server (its reply is what was lost).
 *
 * @example
 * ```ts
 * import { ValkeyTimeoutError } from "./valkey.ts";
 * new ValkeyTimeoutError("m", 500).timeoutMs; // 500
 * ```
 */
export class ValkeyTimeoutError extends ValkeyError {
  /** The timeout that passed. */
  readonly timeoutMs: number;
  /**
   * A timeout of method `where`.
   *
   * @example
   * ```ts
   * import { ValkeyTimeoutError } from "./valkey.ts";
   * new ValkeyTimeoutError("m", 1).name; // "ValkeyTimeoutError"
   * ```
   */
  constructor(where: string, timeoutMs: number, options?: ErrorOptions) {
    super(where, `no reply from the server within ${timeoutMs} ms (the command may or may not have run)`, options);
    this.name = "ValkeyTimeoutError";
    this.timeoutMs = timeoutMs;
  }
}

/**
 * The key holds a value of another type than this object keeps there
 * (Valkey's WRONGTYPE), e.g. a list where a counter was expected: another
 * program uses the same key. Nothing was changed.
 *
 * @example
 * ```ts
 * import { ValkeyWrongTypeError } from "./valkey.ts";
 * new ValkeyWrongTypeError("m", "app:n").key; // "app:n"
 * ```
 */
export class ValkeyWrongTypeError extends ValkeyError {
  /** The key on the server. */
  readonly key: string;
  /**
   * A wrong-type report for `key`.
   *
   * @example
   * ```ts
   * import { ValkeyWrongTypeError } from "./valkey.ts";
   * new ValkeyWrongTypeError("m", "k").name; // "ValkeyWrongTypeError"
   * ```
   */
  constructor(where: string, key: string, detail = "it holds a value of another type", options?: ErrorOptions) {
    super(where, `key ${JSON.stringify(key)}: ${detail} (another program uses this key?)`, options);
    this.name = "ValkeyWrongTypeError";
    this.key = key;
  }
}

/**
 * A lease (a `ValkeyMutex` lock, a `ValkeySemaphore` permit) ran out or
 * vanished (the server restarted) while its holder still thought it held
 * it: others may have taken it since. Raised by `unlock`/`release`/`extend`
 * and given as the reason of the guard's `signal`.
 *
 * @example
 * ```ts
 * import { LeaseLostError } from "./valkey.ts";
 * new LeaseLostError("ValkeyMutexGuard.unlock", "jobs").name; // "LeaseLostError"
 * ```
 */
export class LeaseLostError extends ValkeyError {
  /**
   * A lost lease of the lock or semaphore `name`.
   *
   * @example
   * ```ts
   * import { LeaseLostError } from "./valkey.ts";
   * new LeaseLostError("m", "jobs") instanceof Error; // true
   * ```
   */
  constructor(where: string, name: string, options?: ErrorOptions) {
    super(
      where,
      `the lease on ${JSON.stringify(name)} was lost (it expired, or the server lost it); ` +
        "another holder may have taken it: check the fencing token where the work lands",
      options,
    );
    this.name = "LeaseLostError";
  }
}
