/**
 * Runs `task` over every item with at most `limit` in flight, in order of the items. Tasks must
 * settle rather than throw; a deterministic pool is all a workflow needs (no timers, no races).
 */
export async function forEachWithLimit<T>(
  items: readonly T[],
  limit: number,
  task: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  async function lane(): Promise<void> {
    while (next < items.length) {
      const item = items[next++] as T;
      await task(item);
    }
  }
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
}
