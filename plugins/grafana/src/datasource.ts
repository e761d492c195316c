import {
  CoreApp,
  DataFrame,
  DataQueryRequest,
  DataSourceInstanceSettings,
  MetricFindValue,
  ScopedVars,
  dateTime,
} from '@grafana/data';
import { DataSourceWithBackend, getTemplateSrv } from '@grafana/runtime';
import { lastValueFrom } from 'rxjs';

import { DEFAULT_QUERY, FormatOptions, TidalOptions, TidalQuery } from './types';

/** Quotes a value as a SQL string literal. */
export function quoteLiteral(v: string): string {
  return `'${v.replace(/'/g, "''")}'`;
}

/**
 * Formats a template variable's value for SQL: multi-value and "All"
 * variables become a list of quoted literals ('a','b'), a single value of
 * an ordinary variable is put in as it is (write '$var' to quote it).
 */
export function interpolateVariable(value: string | string[], variable: { multi?: boolean; includeAll?: boolean }): string {
  if (Array.isArray(value)) {
    return value.map((v) => quoteLiteral(String(v))).join(',');
  }
  if (variable.multi || variable.includeAll) {
    return quoteLiteral(String(value));
  }
  return String(value);
}

/** TidalDB data source: queries run in the backend (pkg/plugin). */
export class TidalDataSource extends DataSourceWithBackend<TidalQuery, TidalOptions> {
  /** Turns on Grafana's standard annotation support (query editor reused). */
  annotations = {};
  defaults: Pick<TidalOptions, 'defaultDatabase' | 'defaultTable' | 'defaultMeasure'>;

  constructor(instanceSettings: DataSourceInstanceSettings<TidalOptions>) {
    super(instanceSettings);
    const j = instanceSettings.jsonData ?? {};
    this.defaults = { defaultDatabase: j.defaultDatabase, defaultTable: j.defaultTable, defaultMeasure: j.defaultMeasure };
  }

  getDefaultQuery(_: CoreApp): Partial<TidalQuery> {
    return DEFAULT_QUERY;
  }

  /** Empty and hidden queries are not sent. */
  filterQuery(query: TidalQuery): boolean {
    return !query.hide && !!query.rawQuery?.trim();
  }

  /**
   * Replaces Grafana's variables in the SQL and the pickers. $__interval and
   * $__interval_ms are left for the backend, which writes them as durations
   * TidalDB's SQL understands (60000ms) instead of Grafana's "1m".
   */
  applyTemplateVariables(query: TidalQuery, scopedVars: ScopedVars): TidalQuery {
    const { __interval, __interval_ms, ...vars } = scopedVars ?? {};
    const srv = getTemplateSrv();
    const replace = (s?: string) => (s ? srv.replace(s, vars, interpolateVariable) : s);
    return {
      ...query,
      rawQuery: replace(query.rawQuery),
      database: replace(query.database),
      table: replace(query.table),
      measure: replace(query.measure),
    };
  }

  /** Variable queries: the SQL's first column, one value a row. */
  async metricFindQuery(query: TidalQuery | string, options?: { range?: DataQueryRequest['range'] }): Promise<MetricFindValue[]> {
    const rawQuery = typeof query === 'string' ? query : query.rawQuery ?? '';
    if (!rawQuery.trim()) {
      return [];
    }
    const now = dateTime();
    const range = options?.range ?? { from: dateTime(now).subtract(6, 'hour'), to: now, raw: { from: 'now-6h', to: 'now' } };
    const request = {
      targets: [{ refId: 'GetStrings', rawQuery, format: FormatOptions.Table, waitForResult: true }],
      range,
      interval: '1m',
      intervalMs: 60000,
      maxDataPoints: 1000,
      scopedVars: {},
      timezone: 'utc',
      app: CoreApp.Unknown,
      requestId: 'tidal-variable',
      startTime: Date.now(),
    } as unknown as DataQueryRequest<TidalQuery>;
    const res = await lastValueFrom(this.query(request));
    return framesToValues(res.data as DataFrame[]);
  }

  getDatabases(): Promise<string[]> {
    return this.getResource('databases');
  }
  getTables(database?: string): Promise<string[]> {
    return this.postResource('tables', { database: this.replace(database) });
  }
  getMeasures(database?: string, table?: string): Promise<string[]> {
    return this.postResource('measures', { database: this.replace(database), table: this.replace(table) });
  }
  getDimensions(database?: string, table?: string): Promise<string[]> {
    return this.postResource('dimensions', { database: this.replace(database), table: this.replace(table) });
  }
  getDimensionValues(database: string | undefined, table: string | undefined, dimension: string): Promise<string[]> {
    return this.postResource('dimension-values', { database: this.replace(database), table: this.replace(table), dimension });
  }
  cancel(queryId: string): Promise<{ message: string }> {
    return this.postResource('cancel', { queryId });
  }

  private replace(s?: string): string | undefined {
    return s ? getTemplateSrv().replace(s) : s;
  }
}

/** The first field of the first frame as variable values. */
export function framesToValues(frames: DataFrame[]): MetricFindValue[] {
  const f = frames?.[0];
  if (!f || f.fields.length === 0) {
    return [];
  }
  const out: MetricFindValue[] = [];
  const values = f.fields[0].values;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (v !== null && v !== undefined) {
      out.push({ text: String(v) });
    }
  }
  return out;
}
