/**
 * Whether a prediction's recorded input is the one `expected` would send. The reference image is
 * uploaded anew by every attempt, so only its presence is compared, not its URL.
 */
export function isSameRequest(expected: Record<string, unknown>, actual: Record<string, unknown>, imageKey: string): boolean {
  const keys = new Set([...Object.keys(expected), ...Object.keys(actual)]);
  for (const key of keys) {
    if (key === imageKey) {
      if ((expected[key] === undefined) !== (actual[key] === undefined)) return false;
    } else if (JSON.stringify(expected[key]) !== JSON.stringify(actual[key])) {
      return false;
    }
  }
  return true;
}
