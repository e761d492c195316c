import React from 'react';
import { act, fireEvent, render, screen, waitFor } from '@testing-library/react';
import { DataSourceInstanceSettings, DataSourceSettings } from '@grafana/data';
import { BackendSrv, setBackendSrv, setTemplateSrv, TemplateSrv } from '@grafana/runtime';
import { of } from 'rxjs';

import { TidalDataSource } from '../datasource';
import { FormatOptions, TidalOptions, TidalQuery, TidalSecureOptions } from '../types';
import { ConfigEditor } from './ConfigEditor';
import { QueryEditor } from './QueryEditor';
import { VariableQueryEditor } from './VariableQueryEditor';

// Grafana's backend service is not running here. This one answers the
// resource calls with the lists the plugin backend returns for the devops
// fixture (see pkg/e2e_test.go) and records what was asked.
const calls: Array<{ method: string; url: string; data?: any }> = [];
const lists: Record<string, string[]> = {
  databases: ['devops', 'iot'],
  tables: ['cpu', 'mem'],
  measures: ['usage_system', 'usage_user'],
  dimensions: ['hostname', 'region'],
};
setBackendSrv({
  fetch: (req: any) => {
    calls.push({ method: req.method, url: req.url, data: req.data });
    const path = req.url.split('/resources/')[1];
    return of({ data: lists[path] ?? [], status: 200, ok: true, headers: new Headers(), url: req.url, config: req });
  },
} as unknown as BackendSrv);
setTemplateSrv({ replace: (s?: string) => s ?? '' } as unknown as TemplateSrv);

const ds = new TidalDataSource({
  id: 1,
  uid: 'tidal',
  type: 'tidaldb-tidal-datasource',
  name: 'TidalDB',
  jsonData: { defaultDatabase: 'devops' },
  meta: {} as any,
} as unknown as DataSourceInstanceSettings<TidalOptions>);

describe('QueryEditor', () => {
  beforeEach(() => (calls.length = 0));

  it('loads the pickers from the resource calls and cascades them', async () => {
    const onChange = vi.fn();
    const onRunQuery = vi.fn();
    const query: TidalQuery = { refId: 'A', rawQuery: 'SELECT 1', table: 'cpu' };
    render(<QueryEditor query={query} onChange={onChange} onRunQuery={onRunQuery} datasource={ds} />);
    await waitFor(() => expect(calls.map((c) => c.url.split('/resources/')[1]).sort()).toEqual(['databases', 'dimensions', 'measures', 'tables']));
    // The default database feeds the table and measure lists.
    expect(calls.find((c) => c.url.endsWith('/tables'))?.data).toEqual({ database: 'devops' });
    expect(calls.find((c) => c.url.endsWith('/measures'))?.data).toEqual({ database: 'devops', table: 'cpu' });
    expect(await screen.findByText(/Dimensions: hostname, region/)).toBeInTheDocument();

    // Choosing a database clears table and measure and runs the query.
    const select = screen.getByLabelText('Database');
    fireEvent.keyDown(select, { key: 'ArrowDown' });
    fireEvent.click(await screen.findByText('iot'));
    expect(onChange).toHaveBeenLastCalledWith({ ...query, database: 'iot', table: undefined, measure: undefined });
    expect(onRunQuery).toHaveBeenCalled();
  });

  it('switches the format and waiting for all pages', async () => {
    const onChange = vi.fn();
    const query: TidalQuery = { refId: 'A', rawQuery: 'SELECT 1', format: FormatOptions.Table, waitForResult: true };
    render(<QueryEditor query={query} onChange={onChange} onRunQuery={() => {}} datasource={ds} />);
    fireEvent.click(screen.getByText('Time series'));
    expect(onChange).toHaveBeenLastCalledWith({ ...query, format: FormatOptions.TimeSeries });
    fireEvent.click(screen.getByLabelText('Wait for all queries'));
    expect(onChange).toHaveBeenLastCalledWith({ ...query, waitForResult: false });
    await act(async () => {});
  });
});

describe('ConfigEditor', () => {
  const base = {
    id: 1,
    uid: 'tidal',
    name: 'TidalDB',
    url: '',
    basicAuth: false,
    basicAuthUser: '',
    jsonData: {},
    secureJsonFields: {},
  } as unknown as DataSourceSettings<TidalOptions, TidalSecureOptions>;

  it('sets the URL and the bearer token as a secret', () => {
    const onOptionsChange = vi.fn();
    const { rerender } = render(<ConfigEditor options={base} onOptionsChange={onOptionsChange} />);
    fireEvent.change(screen.getByLabelText('URL'), { target: { value: 'http://127.0.0.1:7490' } });
    expect(onOptionsChange).toHaveBeenLastCalledWith(expect.objectContaining({ url: 'http://127.0.0.1:7490' }));
    fireEvent.click(screen.getByText('Bearer token'));
    const withBearer = onOptionsChange.mock.lastCall![0];
    expect(withBearer.jsonData.authType).toBe('bearer');
    expect(withBearer.basicAuth).toBe(false);
    rerender(<ConfigEditor options={withBearer} onOptionsChange={onOptionsChange} />);
    fireEvent.change(screen.getByLabelText('Token'), { target: { value: 'tok-123' } });
    const last = onOptionsChange.mock.lastCall![0];
    expect(last.secureJsonData).toEqual({ bearerToken: 'tok-123' });
    expect(JSON.stringify(last.jsonData)).not.toContain('tok-123');
  });

  it('turns on Grafana basic auth and SigV4 keys', () => {
    const onOptionsChange = vi.fn();
    const { rerender } = render(<ConfigEditor options={base} onOptionsChange={onOptionsChange} />);
    fireEvent.click(screen.getByText('Basic'));
    const basic = onOptionsChange.mock.lastCall![0];
    expect(basic.basicAuth).toBe(true);
    rerender(<ConfigEditor options={basic} onOptionsChange={onOptionsChange} />);
    fireEvent.change(screen.getByLabelText('User'), { target: { value: 'grafana' } });
    expect(onOptionsChange.mock.lastCall![0].basicAuthUser).toBe('grafana');

    const sig = { ...base, jsonData: { authType: 'sigv4' }, secureJsonFields: { secretKey: true } } as any;
    rerender(<ConfigEditor options={sig} onOptionsChange={onOptionsChange} />);
    fireEvent.change(screen.getByLabelText('Access key ID'), { target: { value: 'AKID' } });
    expect(onOptionsChange.mock.lastCall![0].secureJsonData).toEqual({ accessKey: 'AKID' });
    fireEvent.change(screen.getByLabelText('defaultTable'), { target: { value: 'cpu' } });
    expect(onOptionsChange.mock.lastCall![0].jsonData).toEqual({ authType: 'sigv4', defaultTable: 'cpu' });
  });
});

describe('VariableQueryEditor', () => {
  it('saves the SQL as a query with its definition', () => {
    const onChange = vi.fn();
    render(<VariableQueryEditor query="" onChange={onChange} />);
    const area = screen.getByLabelText('Variable SQL');
    fireEvent.change(area, { target: { value: 'SELECT DISTINCT hostname FROM devops.cpu' } });
    fireEvent.blur(area);
    expect(onChange).toHaveBeenCalledWith(
      { refId: 'TidalVariable', rawQuery: 'SELECT DISTINCT hostname FROM devops.cpu', format: 0, waitForResult: true },
      'SELECT DISTINCT hostname FROM devops.cpu'
    );
  });
});
