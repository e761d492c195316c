import { MACROS } from './types';

/** What the SQL editor completes: the macros and the schema's names. */
export interface Schema {
  tables?: string[];
  measures?: string[];
  dimensions?: string[];
}

export type CompletionKind = 'macro' | 'table' | 'measure' | 'dimension' | 'keyword';

export interface Completion {
  label: string;
  insertText: string;
  kind: CompletionKind;
  detail: string;
}

const KEYWORDS = ['SELECT', 'FROM', 'WHERE', 'GROUP BY', 'ORDER BY', 'LIMIT', 'AND', 'OR', 'AS', 'bin', 'ago', 'avg', 'max', 'min', 'sum', 'count', 'CREATE_TIME_SERIES', 'measure_value::double', 'measure_value::bigint', 'measure_name'];

/**
 * The completions for the word before the cursor: macros after "$",
 * otherwise schema names and keywords starting with the word
 * (case-insensitively). Names that need it are double-quoted.
 */
export function completions(word: string, schema: Schema): Completion[] {
  const w = word.toLowerCase();
  if (word.startsWith('$')) {
    return MACROS.filter((m) => m.name.toLowerCase().startsWith(w)).map((m) => ({ label: m.name, insertText: m.name, kind: 'macro', detail: m.doc }));
  }
  const ident = (s: string) => (/^[A-Za-z_][A-Za-z0-9_]*$/.test(s) ? s : `"${s.replace(/"/g, '""')}"`);
  const out: Completion[] = [];
  const add = (names: string[] | undefined, kind: CompletionKind, detail: string, quote: boolean) => {
    for (const n of names ?? []) {
      if (n.toLowerCase().startsWith(w)) {
        out.push({ label: n, insertText: quote ? ident(n) : n, kind, detail });
      }
    }
  };
  add(schema.tables, 'table', 'table', true);
  add(schema.measures, 'measure', 'measure_name value', false);
  add(schema.dimensions, 'dimension', 'dimension', true);
  add(KEYWORDS, 'keyword', 'keyword', false);
  return out;
}
