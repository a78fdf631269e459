// The status vocabulary of a prediction, as the API spells it. Its home is
// pier/jobs/status.py; a test checks that the terminal set here agrees with it.

/** The statuses a prediction ends in; it never changes after reaching one. */
export const TERMINAL = new Set(["succeeded", "failed", "canceled"]);

export function isTerminal(p) {
  return Boolean(p) && TERMINAL.has(p.status);
}
