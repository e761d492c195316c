import React, { useEffect, useRef, useState } from 'react';
import { QueryEditorProps, SelectableValue } from '@grafana/data';
import { CodeEditor, InlineField, InlineFieldRow, InlineSwitch, RadioButtonGroup, Select, type Monaco, type MonacoEditor } from '@grafana/ui';

import { TidalDataSource } from '../datasource';
import { completions, Schema } from '../completion';
import { FormatOptions, MACROS, TidalOptions, TidalQuery } from '../types';

type Props = QueryEditorProps<TidalDataSource, TidalQuery, TidalOptions>;

const FORMATS: Array<SelectableValue<FormatOptions>> = [
  { label: 'Table', value: FormatOptions.Table },
  { label: 'Time series', value: FormatOptions.TimeSeries },
];

const toOptions = (xs: string[]): Array<SelectableValue<string>> => xs.map((x) => ({ label: x, value: x }));
// A saved name shows even when the list lacks it (a variable, a custom value).
const selected = (v?: string): SelectableValue<string> | null => (v ? { label: v, value: v } : null);

/** Loads a picker's list whenever its inputs change; [] on error. */
function useList(load: () => Promise<string[]>, deps: unknown[]): string[] {
  const [list, setList] = useState<string[]>([]);
  useEffect(() => {
    let live = true;
    load()
      .then((xs) => live && setList(Array.isArray(xs) ? xs : []))
      .catch(() => live && setList([]));
    return () => {
      live = false;
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, deps);
  return list;
}

/**
 * The SQL editor: database, table and measure pickers that feed $__database,
 * $__table and $__measure, the result format, "wait for all queries", and a
 * SQL editor that completes macros and the names of the chosen table.
 */
export function QueryEditor({ query, onChange, onRunQuery, datasource }: Props) {
  const db = query.database || datasource.defaults.defaultDatabase;
  const table = query.table || datasource.defaults.defaultTable;
  const databases = useList(() => datasource.getDatabases(), []);
  const tables = useList(() => (db ? datasource.getTables(db) : Promise.resolve([])), [db]);
  const measures = useList(() => (db && table ? datasource.getMeasures(db, table) : Promise.resolve([])), [db, table]);
  const dimensions = useList(() => (db && table ? datasource.getDimensions(db, table) : Promise.resolve([])), [db, table]);

  // The completion provider reads the latest names through a ref.
  const schema = useRef<Schema>({});
  schema.current = { tables, measures, dimensions };
  const provider = useRef<{ dispose: () => void } | null>(null);
  useEffect(() => () => provider.current?.dispose(), []);

  const change = (patch: Partial<TidalQuery>, run = true) => {
    onChange({ ...query, ...patch });
    if (run) {
      onRunQuery();
    }
  };

  const onEditorMount = (_editor: MonacoEditor, monaco: Monaco) => {
    provider.current?.dispose();
    provider.current = monaco.languages.registerCompletionItemProvider('sql', {
      triggerCharacters: ['$', '"', '.'],
      provideCompletionItems: (model, position) => {
        const line = model.getLineContent(position.lineNumber).slice(0, position.column - 1);
        const word = /[$\w"]*$/.exec(line)?.[0] ?? '';
        const range = {
          startLineNumber: position.lineNumber,
          endLineNumber: position.lineNumber,
          startColumn: position.column - word.length,
          endColumn: position.column,
        };
        const kinds = monaco.languages.CompletionItemKind;
        const kindOf = { macro: kinds.Variable, table: kinds.Class, measure: kinds.Value, dimension: kinds.Field, keyword: kinds.Keyword };
        return {
          suggestions: completions(word.replace(/^"/, ''), schema.current).map((c) => ({
            label: c.label,
            insertText: c.insertText,
            kind: kindOf[c.kind],
            detail: c.detail,
            range,
          })),
        };
      },
    });
  };

  return (
    <div>
      <InlineFieldRow>
        <InlineField label="Database" labelWidth={12} tooltip="$__database">
          <Select
            aria-label="Database"
            width={24}
            isClearable
            allowCustomValue
            placeholder={datasource.defaults.defaultDatabase || 'choose'}
            options={toOptions(databases)}
            value={selected(query.database)}
            onChange={(v) => change({ database: v?.value, table: undefined, measure: undefined })}
          />
        </InlineField>
        <InlineField label="Table" labelWidth={10} tooltip="$__table">
          <Select
            aria-label="Table"
            width={24}
            isClearable
            allowCustomValue
            placeholder={datasource.defaults.defaultTable || 'choose'}
            options={toOptions(tables)}
            value={selected(query.table)}
            onChange={(v) => change({ table: v?.value, measure: undefined })}
          />
        </InlineField>
        <InlineField label="Measure" labelWidth={10} tooltip="$__measure">
          <Select
            aria-label="Measure"
            width={24}
            isClearable
            allowCustomValue
            placeholder={datasource.defaults.defaultMeasure || 'choose'}
            options={toOptions(measures)}
            value={selected(query.measure)}
            onChange={(v) => change({ measure: v?.value })}
          />
        </InlineField>
      </InlineFieldRow>
      <InlineFieldRow>
        <InlineField label="Format as" labelWidth={12}>
          <RadioButtonGroup options={FORMATS} value={query.format ?? FormatOptions.Table} onChange={(v) => change({ format: v })} />
        </InlineField>
        <InlineField label="Wait for all queries" labelWidth={22} tooltip="Fetch every page before showing the result (alert rules always do)">
          <InlineSwitch
            aria-label="Wait for all queries"
            value={query.waitForResult ?? true}
            onChange={(e) => change({ waitForResult: e.currentTarget.checked })}
          />
        </InlineField>
      </InlineFieldRow>
      <CodeEditor
        language="sql"
        height="200px"
        showLineNumbers
        showMiniMap={false}
        value={query.rawQuery ?? ''}
        onBlur={(v) => change({ rawQuery: v })}
        onSave={(v) => change({ rawQuery: v })}
        onEditorDidMount={onEditorMount}
      />
      <div aria-label="Macros" style={{ fontSize: 12, opacity: 0.8, marginTop: 4 }}>
        Macros: {MACROS.map((m) => m.name).join(', ')}
        {dimensions.length > 0 && <span> · Dimensions: {dimensions.join(', ')}</span>}
      </div>
    </div>
  );
}
