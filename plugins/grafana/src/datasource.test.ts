import { DataSourceInstanceSettings, FieldType, createDataFrame } from '@grafana/data';
import { setTemplateSrv, TemplateSrv } from '@grafana/runtime';

import { TidalDataSource, framesToValues, interpolateVariable, quoteLiteral } from './datasource';
import { completions } from './completion';
import { TidalOptions } from './types';

// Grafana's template service is not running here: this one replaces $name
// and ${name} from a table, through the format function as Grafana does.
function templateSrv(vars: Record<string, { value: string | string[]; multi?: boolean }>): TemplateSrv {
  return {
    getVariables: () => [],
    containsTemplate: (s?: string) => !!s && s.includes('$'),
    updateTimeRange: () => {},
    replace: (target?: string, scoped?: any, format?: any) =>
      (target ?? '').replace(/\$\{?(\w+)\}?/g, (m, name) => {
        const v = scoped?.[name]?.value ?? vars[name]?.value;
        if (v === undefined) {
          return m;
        }
        return typeof format === 'function' ? format(v, { multi: vars[name]?.multi }) : String(v);
      }),
  } as unknown as TemplateSrv;
}

const settings = {
  id: 1,
  uid: 'tidal',
  type: 'tidaldb-tidal-datasource',
  name: 'TidalDB',
  jsonData: { defaultDatabase: 'devops', defaultTable: 'cpu' },
  meta: {} as any,
  access: 'proxy',
  readOnly: false,
} as unknown as DataSourceInstanceSettings<TidalOptions>;

describe('interpolateVariable', () => {
  it.each([
    ['single value stays raw', 'host_1', {}, 'host_1'],
    ['multi value list', ['a', 'b'], { multi: true }, "'a','b'"],
    ['quotes escaped', ["o'brien"], { multi: true }, "'o''brien'"],
    ['single value of a multi variable quoted', 'a', { multi: true }, "'a'"],
    ['include all', 'x', { includeAll: true }, "'x'"],
  ])('%s', (_, value, variable, want) => {
    expect(interpolateVariable(value as any, variable)).toBe(want);
  });
  it('quoteLiteral', () => expect(quoteLiteral("it's")).toBe("'it''s'"));
});

describe('TidalDataSource', () => {
  it('replaces variables but leaves $__interval for the backend', () => {
    setTemplateSrv(templateSrv({ host: { value: ['h1', 'h2'], multi: true }, db: { value: 'devops' } }));
    const ds = new TidalDataSource(settings);
    const q = ds.applyTemplateVariables(
      { refId: 'A', rawQuery: 'SELECT bin(time, $__interval) FROM $__database.$__table WHERE hostname IN ($host)', database: '$db' },
      { __interval: { text: '1m', value: '1m' }, __interval_ms: { text: '60000', value: 60000 } }
    );
    expect(q.rawQuery).toBe("SELECT bin(time, $__interval) FROM $__database.$__table WHERE hostname IN ('h1','h2')");
    expect(q.database).toBe('devops');
  });

  it('filters empty and hidden queries', () => {
    const ds = new TidalDataSource(settings);
    expect(ds.filterQuery({ refId: 'A', rawQuery: '  ' })).toBe(false);
    expect(ds.filterQuery({ refId: 'A', rawQuery: 'SELECT 1', hide: true })).toBe(false);
    expect(ds.filterQuery({ refId: 'A', rawQuery: 'SELECT 1' })).toBe(true);
    expect(ds.defaults.defaultDatabase).toBe('devops');
    expect(ds.annotations).toEqual({});
  });

  it('turns the first column into variable values', () => {
    const f = createDataFrame({ fields: [{ name: 'hostname', type: FieldType.string, values: ['a', null, 'b'] }, { name: 'n', values: [1, 2, 3] }] });
    expect(framesToValues([f])).toEqual([{ text: 'a' }, { text: 'b' }]);
    expect(framesToValues([])).toEqual([]);
  });
});

describe('completions', () => {
  const schema = { tables: ['cpu', 'disk io'], measures: ['usage_user', 'usage_system'], dimensions: ['hostname', 'region'] };
  it('completes macros after $', () => {
    expect(completions('$__int', schema).map((c) => c.label)).toEqual(['$__interval', '$__interval_ms', '$__interval_raw_ms']);
  });
  it('completes names, quoting those that need it', () => {
    expect(completions('us', schema).map((c) => [c.label, c.kind])).toEqual([
      ['usage_user', 'measure'],
      ['usage_system', 'measure'],
    ]);
    expect(completions('di', schema).map((c) => c.insertText)).toEqual(['"disk io"']);
    expect(completions('HOST', schema).map((c) => c.kind)).toEqual(['dimension']);
  });
});
