// The integer read-modify-write operations as BigInt arithmetic, by the name
// their methods end in (fetchAdd, addFetch, …): the model the integer suites
// and the randomized model test check results against (before wrapping).
export const INT_OPS: Readonly<Record<string, (a: bigint, b: bigint) => bigint>> = {
  Add: (a, b) => a + b,
  Sub: (a, b) => a - b,
  And: (a, b) => a & b,
  Or: (a, b) => a | b,
  Xor: (a, b) => a ^ b,
  Nand: (a, b) => ~(a & b),
  Max: (a, b) => (a > b ? a : b),
  Min: (a, b) => (a < b ? a : b),
};
