/**
 * Channels: bounded message queues in shared memory, across Workers,
 * processes and languages.
 *
 * @module
 */

export { Channel, type ChannelData, type ChannelOptions, type ChannelWaitOptions } from "./channel.ts";
