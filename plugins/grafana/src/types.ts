import { DataQuery, DataSourceJsonData } from '@grafana/schema';

/** Result format, numbered as Grafana's Timestream data source numbers it. */
export enum FormatOptions {
  Table = 0,
  TimeSeries = 1,
}

/** A query as saved in dashboards: the same JSON as the Timestream plugin's. */
export interface TidalQuery extends DataQuery {
  rawQuery?: string;
  format?: FormatOptions;
  database?: string;
  table?: string;
  measure?: string;
  waitForResult?: boolean;
  nextToken?: string;
}

export type AuthType = 'none' | 'basic' | 'bearer' | 'sigv4';

/** jsonData of the data source. The server address is Grafana's URL setting. */
export interface TidalOptions extends DataSourceJsonData {
  authType?: AuthType;
  region?: string;
  defaultDatabase?: string;
  defaultTable?: string;
  defaultMeasure?: string;
  timeout?: number;
  maxRows?: number;
  tlsSkipVerify?: boolean;
  tlsAuthWithCACert?: boolean;
}

/** Secrets, stored encrypted by Grafana and decrypted only for the backend. */
export interface TidalSecureOptions {
  basicAuthPassword?: string;
  bearerToken?: string;
  accessKey?: string;
  secretKey?: string;
  sessionToken?: string;
  tlsCACert?: string;
}

export const DEFAULT_QUERY: Partial<TidalQuery> = {
  format: FormatOptions.Table,
  waitForResult: true,
  rawQuery: '',
};

/** The macros the backend expands, for completion and the help text. */
export const MACROS: Array<{ name: string; doc: string }> = [
  { name: '$__timeFilter', doc: 'time BETWEEN from_milliseconds(<from>) AND from_milliseconds(<to>)' },
  { name: '$__timeFrom', doc: 'start of the time range, epoch milliseconds' },
  { name: '$__timeTo', doc: 'end of the time range, epoch milliseconds' },
  { name: '$__interval', doc: 'the panel interval as a duration such as 60000ms' },
  { name: '$__interval_ms', doc: 'the panel interval as a duration such as 60000ms' },
  { name: '$__interval_raw_ms', doc: 'the panel interval in milliseconds, a number' },
  { name: '$__now_ms', doc: 'now, epoch milliseconds' },
  { name: '$__database', doc: 'the selected database (quoted)' },
  { name: '$__table', doc: 'the selected table (quoted)' },
  { name: '$__measure', doc: 'the selected measure' },
];
