/**
 * Table models: `keymap(K, V)` with K in {str, binstr} and V in {str, binstr, list<str>,
 * list<binstr>}, optionally volatile (docs/behaviour.md, Data model).
 *
 * Guarantees: `parseModel` accepts exactly Skytable 0.7's CREATE TABLE model syntax and
 * reports each way it can be wrong with its own stable code; `describeModel` prints what
 * Skytable 0.7's INSPECT TABLE prints.
 */

import { ErrorCode, FrostError } from '../util/errors.js';

export type KeyType = 'str' | 'binstr';
export type ValueType = 'str' | 'binstr' | 'list<str>' | 'list<binstr>';

export interface TableModel {
  key: KeyType;
  value: ValueType;
  volatile: boolean;
}

export const kDefaultModel: TableModel = { key: 'binstr', value: 'binstr', volatile: false };

const kScalarTypes = new Set(['str', 'binstr']);
const kListTypes = new Set(['list<str>', 'list<binstr>']);

export function isListModel(model: TableModel): boolean {
  return model.value === 'list<str>' || model.value === 'list<binstr>';
}

/** Element type of a list model, or the value type of a KV model. */
export function elementType(model: TableModel): KeyType {
  return model.value === 'str' || model.value === 'list<str>' ? 'str' : 'binstr';
}

export function checkModel(model: TableModel): TableModel {
  if (!kScalarTypes.has(model.key)) {
    if (kListTypes.has(model.key)) throw new FrostError(ErrorCode.badTypeForKey, `a key cannot be ${model.key}`);
    throw new FrostError(ErrorCode.unknownDataType, `unknown data type ${String(model.key)}`);
  }
  if (!kScalarTypes.has(model.value) && !kListTypes.has(model.value)) {
    throw new FrostError(ErrorCode.unknownDataType, `unknown data type ${String(model.value)}`);
  }
  return { key: model.key, value: model.value, volatile: model.volatile === true };
}

/**
 * Parse the model argument(s) of CREATE TABLE: `keymap(K,V)` optionally followed by
 * properties (only `volatile` exists). Whitespace inside the parentheses is allowed.
 */
export function parseModel(expression: string, properties: readonly string[] = []): TableModel {
  const match = /^([a-zA-Z_][a-zA-Z0-9_]*)\((.*)\)$/s.exec(expression.trim());
  if (match === null) throw new FrostError(ErrorCode.malformedExpression, `malformed model ${JSON.stringify(expression)}`);
  const [, modelName = '', inner = ''] = match;
  // As Skytable 0.7: the model name is case-sensitive.
  if (modelName !== 'keymap') throw new FrostError(ErrorCode.unknownModel, `unknown model ${modelName}`);
  const types = splitTypes(inner);
  if (types.some((type) => type.length === 0)) throw new FrostError(ErrorCode.malformedExpression, 'an empty type in keymap(...)');
  if (types.length !== 2) throw new FrostError(ErrorCode.tooManyArgs, `keymap takes exactly two types, got ${types.length}`);
  let volatile = false;
  for (const property of properties) {
    if (property.toLowerCase() === 'volatile') volatile = true;
    else throw new FrostError(ErrorCode.unknownProperty, `unknown property ${property}`);
  }
  return checkModel({ key: types[0] as KeyType, value: types[1] as ValueType, volatile });
}

function splitTypes(inner: string): string[] {
  // Commas inside <...> belong to a type, not to the argument list.
  const parts: string[] = [];
  let depth = 0;
  let current = '';
  for (const ch of inner) {
    if (ch === '<') depth++;
    if (ch === '>') depth--;
    if (ch === ',' && depth === 0) {
      parts.push(current.trim().toLowerCase().replace(/\s+/g, ''));
      current = '';
    } else {
      current += ch;
    }
  }
  parts.push(current.trim().toLowerCase().replace(/\s+/g, ''));
  return parts;
}

export function describeModel(model: TableModel): string {
  return `Keymap { data:(${model.key},${model.value}), volatile:${model.volatile} }`;
}
