import type { Connection } from '@temporalio/client';
import proto from '@temporalio/proto';
import { SEARCH_ATTRIBUTES } from './shared/search-attributes.js';

const { temporal } = proto;
const INDEXED: Record<string, proto.temporal.api.enums.v1.IndexedValueType> = {
  KEYWORD: temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD,
  INT: temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_INT,
  DOUBLE: temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_DOUBLE,
};

type OperatorService = Pick<Connection['operatorService'], 'listSearchAttributes' | 'addSearchAttributes'>;

/** clipflow's search attributes the namespace does not have yet. */
export async function missingSearchAttributes(operator: OperatorService, namespace: string) {
  const { customAttributes } = await operator.listSearchAttributes({ namespace });
  return SEARCH_ATTRIBUTES.filter((attr) => !customAttributes?.[attr.name]);
}

/**
 * Registers clipflow's search attributes in the namespace when they are missing. A dev server
 * reopening a persisted database keeps its namespace but not the attributes it was started with.
 */
export async function ensureSearchAttributes(operator: OperatorService, namespace: string): Promise<void> {
  const missing = await missingSearchAttributes(operator, namespace);
  if (missing.length === 0) return;
  await operator.addSearchAttributes({
    namespace,
    searchAttributes: Object.fromEntries(missing.map((attr) => [attr.name, INDEXED[attr.type]!])),
  });
}

/** The command that registers what is missing, for a message a person can act on. */
export function registerCommand(namespace: string, missing: readonly { name: string; type: string }[]): string {
  const types: Record<string, string> = { KEYWORD: 'Keyword', INT: 'Int', DOUBLE: 'Double' };
  return `temporal operator search-attribute create --namespace ${namespace} ${missing.map((a) => `--name ${a.name} --type ${types[a.type]}`).join(' ')}`;
}
