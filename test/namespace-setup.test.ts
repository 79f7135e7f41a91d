import { describe, expect, it } from 'vitest';
import { ensureSearchAttributes, missingSearchAttributes, registerCommand } from '../src/temporal/namespace-setup.js';

function fakeOperator(existing: Record<string, number>) {
  const added: Record<string, number>[] = [];
  return {
    added,
    listSearchAttributes: async () => ({ customAttributes: existing }) as never,
    addSearchAttributes: async (req: { searchAttributes?: Record<string, number> | null }) => {
      added.push(req.searchAttributes ?? {});
      return {} as never;
    },
  };
}

describe('clipflow search attributes on a namespace', () => {
  it('finds the missing ones and registers only those, with their types', async () => {
    const operator = fakeOperator({ ClipflowJobId: 2 });
    expect((await missingSearchAttributes(operator as never, 'default')).map((a) => a.name)).toEqual([
      'ClipflowClipsSucceeded',
      'ClipflowClipsFailed',
      'ClipflowSpendUsd',
    ]);
    await ensureSearchAttributes(operator as never, 'default');
    // INT = 3, DOUBLE = 4 in Temporal's IndexedValueType.
    expect(operator.added).toEqual([{ ClipflowClipsSucceeded: 3, ClipflowClipsFailed: 3, ClipflowSpendUsd: 4 }]);
  });

  it('does nothing when all are registered', async () => {
    const operator = fakeOperator({ ClipflowJobId: 2, ClipflowClipsSucceeded: 3, ClipflowClipsFailed: 3, ClipflowSpendUsd: 4 });
    await ensureSearchAttributes(operator as never, 'default');
    expect(operator.added).toEqual([]);
  });

  it('tells a person the command that registers them', async () => {
    const missing = await missingSearchAttributes(fakeOperator({}) as never, 'prod');
    expect(registerCommand('prod', missing)).toBe(
      'temporal operator search-attribute create --namespace prod --name ClipflowJobId --type Keyword ' +
        '--name ClipflowClipsSucceeded --type Int --name ClipflowClipsFailed --type Int --name ClipflowSpendUsd --type Double',
    );
  });
});
