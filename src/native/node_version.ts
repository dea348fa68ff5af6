/**
 * The Node versions the package supports, checked when the Node entry is
 * imported (its first import, so nothing else has run yet): the maintained
 * lines 22, 24 and 26, and anything newer.
 *
 * @module
 */

/** The oldest Node major version supported. */
export const NODE_MIN_MAJOR = 22;

/** The Node lines tested (22 and 24 LTS, 26 current). */
export const NODE_LINES: readonly number[] = [22, 24, 26];

/** The error for a Node version too old, or undefined if `version` ("20.11.1") is supported. */
export function nodeVersionError(version: string): Error | undefined {
  const major = Number(version.split(".")[0]);
  if (major >= NODE_MIN_MAJOR) return undefined;
  return new Error(
    `shared-atomic: Node ${version} is not supported; the supported versions are Node ` +
      `${NODE_LINES.slice(0, -1).join(", ")} and ${NODE_LINES.at(-1)} (Node ${NODE_MIN_MAJOR} or newer)`,
  );
}

const tooOld = nodeVersionError(process.versions.node);
if (tooOld !== undefined) throw tooOld;
