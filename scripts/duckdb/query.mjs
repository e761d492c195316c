// query.mjs runs one SQL statement (argv[2]) in an in-memory DuckDB and
// prints the result as a JSON array of rows (arrays of values, with
// BIGINTs and timestamps as strings) for Go tests to compare.
import { DuckDBInstance } from '@duckdb/node-api';

const sql = process.argv[2];
const instance = await DuckDBInstance.create(':memory:');
const conn = await instance.connect();
const reader = await conn.runAndReadAll(sql);
const rows = reader.getRows().map((r) => r.map((v) => {
  if (v === null) return null;
  if (typeof v === 'bigint') return v.toString();
  if (typeof v === 'object') return v.toString();
  return v;
}));
process.stdout.write(JSON.stringify({ columns: reader.columnNames(), rows }));
