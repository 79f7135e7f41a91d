import type { Connection } from '@temporalio/client';
import { SearchAttributeType } from '@temporalio/common';
import proto from '@temporalio/proto';
import { SEARCH_ATTRIBUTES } from '../shared/names.js';

const { IndexedValueType } = proto.temporal.api.enums.v1;

/** Each search-attribute type as the server indexes it and as the CLI names it. */
const ATTRIBUTE_TYPES: Partial<Record<SearchAttributeType, { indexed: proto.temporal.api.enums.v1.IndexedValueType; cli: string }>> = {
  [SearchAttributeType.KEYWORD]: { indexed: IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD, cli: 'Keyword' },
  [SearchAttributeType.INT]: { indexed: IndexedValueType.INDEXED_VALUE_TYPE_INT, cli: 'Int' },
  [SearchAttributeType.DOUBLE]: { indexed: IndexedValueType.INDEXED_VALUE_TYPE_DOUBLE, cli: 'Double' },
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
    searchAttributes: Object.fromEntries(missing.map((attr) => [attr.name, ATTRIBUTE_TYPES[attr.type]!.indexed])),
  });
}

/** The command that registers what is missing, for a message a person can act on. */
export function registerCommand(namespace: string, missing: readonly { name: string; type: SearchAttributeType }[]): string {
  const names = missing.map((a) => `--name ${a.name} --type ${ATTRIBUTE_TYPES[a.type]!.cli}`);
  return `temporal operator search-attribute create --namespace ${namespace} ${names.join(' ')}`;
}
