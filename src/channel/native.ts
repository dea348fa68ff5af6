/**
 * The Channel's native half (`zig/channel.zig`): its exports, opened on
 * first use, the result codes they return and the byte offsets of the
 * header words the TypeScript side touches.
 *
 * @module
 */

import type { NativeFn } from "../native/backend.ts";
import { openGroup } from "../native/library.ts";
import { FUNCTIONS } from "../native/abi_generated.ts";

/** The channel exports (`sa_channel_*`). */
export function channelSymbols(): Record<string, NativeFn> {
  return openGroup("channel", FUNCTIONS.channel.exports);
}

/** Results below 0 (zig/channel.zig `Code`; the header's group comment lists them). */
export const WOULD_BLOCK = -1;
export const CLOSED = -2;
export const TIMED_OUT = -3;
export const TOO_BIG = -4;
export const TOO_SMALL = -5;
export const INVALID = -6;

/** Byte offsets in the header: the two event words sleepers wait on. */
export const RECV_EVENT = 20;
export const SEND_EVENT = 28;

/** The largest capacity and message size (zig/channel.zig). */
export const MAX_CAPACITY = 2 ** 24;
export const MAX_MESSAGE_SIZE = 2 ** 30;

/** Bytes a channel of this configuration takes (already checked: in range). */
export function channelBytes(capacity: number, messageSize: number): number {
  return Number(channelSymbols().sa_channel_bytes(capacity, messageSize));
}
