/**
 * Waiting and locks across Workers and processes: not yet written.
 *
 * @module
 */
export {};
