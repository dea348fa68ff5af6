/**
 * 128-bit integers and fixed-width byte strings: not yet written.
 *
 * @module
 */
export {};
