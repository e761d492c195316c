import React from 'react';
import { DataSourcePluginOptionsEditorProps, SelectableValue } from '@grafana/data';
import { FieldSet, InlineField, InlineSwitch, Input, RadioButtonGroup, SecretInput, SecretTextArea } from '@grafana/ui';

import { AuthType, TidalOptions, TidalSecureOptions } from '../types';

type Props = DataSourcePluginOptionsEditorProps<TidalOptions, TidalSecureOptions>;

const AUTH: Array<SelectableValue<AuthType>> = [
  { label: 'None', value: 'none' },
  { label: 'Basic', value: 'basic' },
  { label: 'Bearer token', value: 'bearer' },
  { label: 'SigV4 keys', value: 'sigv4' },
];

const W = 20;

/**
 * Data source settings: Grafana's URL field for the server, credentials
 * (basic, bearer, SigV4; secrets stay in secureJsonData), TLS, the default
 * database/table/measure for the macros, the query timeout and page size.
 */
export function ConfigEditor({ options, onOptionsChange }: Props) {
  const { jsonData, secureJsonFields } = options;
  const secure = options.secureJsonData ?? {};
  const auth: AuthType = jsonData.authType ?? (options.basicAuth ? 'basic' : 'none');

  const setJson = (patch: Partial<TidalOptions>) => onOptionsChange({ ...options, jsonData: { ...jsonData, ...patch } });
  const setSecret = (key: keyof TidalSecureOptions, value: string) =>
    onOptionsChange({ ...options, secureJsonData: { ...secure, [key]: value } });
  const resetSecret = (key: keyof TidalSecureOptions) =>
    onOptionsChange({
      ...options,
      secureJsonFields: { ...secureJsonFields, [key]: false },
      secureJsonData: { ...secure, [key]: '' },
    });
  const secret = (key: keyof TidalSecureOptions, label: string) => (
    <InlineField label={label} labelWidth={W}>
      <SecretInput
        aria-label={label}
        width={40}
        isConfigured={!!secureJsonFields?.[key]}
        value={secure[key] ?? ''}
        onChange={(e) => setSecret(key, e.currentTarget.value)}
        onReset={() => resetSecret(key)}
      />
    </InlineField>
  );

  return (
    <>
      <FieldSet label="Server">
        <InlineField label="URL" labelWidth={W} tooltip="TidalDB's HTTP address, e.g. http://127.0.0.1:7490">
          <Input
            aria-label="URL"
            width={40}
            placeholder="http://127.0.0.1:7490"
            value={options.url}
            onChange={(e) => onOptionsChange({ ...options, url: e.currentTarget.value })}
          />
        </InlineField>
        <InlineField label="Authentication" labelWidth={W}>
          <RadioButtonGroup
            options={AUTH}
            value={auth}
            onChange={(v) => onOptionsChange({ ...options, basicAuth: v === 'basic', jsonData: { ...jsonData, authType: v } })}
          />
        </InlineField>
        {auth === 'basic' && (
          <>
            <InlineField label="User" labelWidth={W}>
              <Input aria-label="User" width={40} value={options.basicAuthUser} onChange={(e) => onOptionsChange({ ...options, basicAuthUser: e.currentTarget.value })} />
            </InlineField>
            {secret('basicAuthPassword', 'Password')}
          </>
        )}
        {auth === 'bearer' && secret('bearerToken', 'Token')}
        {auth === 'sigv4' && (
          <>
            <InlineField label="Region" labelWidth={W}>
              <Input aria-label="Region" width={40} placeholder="us-east-1" value={jsonData.region ?? ''} onChange={(e) => setJson({ region: e.currentTarget.value })} />
            </InlineField>
            {secret('accessKey', 'Access key ID')}
            {secret('secretKey', 'Secret access key')}
          </>
        )}
        <InlineField label="Skip TLS verify" labelWidth={W}>
          <InlineSwitch aria-label="Skip TLS verify" value={!!jsonData.tlsSkipVerify} onChange={(e) => setJson({ tlsSkipVerify: e.currentTarget.checked })} />
        </InlineField>
        <InlineField label="With CA cert" labelWidth={W}>
          <InlineSwitch aria-label="With CA cert" value={!!jsonData.tlsAuthWithCACert} onChange={(e) => setJson({ tlsAuthWithCACert: e.currentTarget.checked })} />
        </InlineField>
        {jsonData.tlsAuthWithCACert && (
          <InlineField label="CA certificate" labelWidth={W}>
            <SecretTextArea
              aria-label="CA certificate"
              cols={45}
              rows={5}
              isConfigured={!!secureJsonFields?.tlsCACert}
              value={secure.tlsCACert ?? ''}
              onChange={(e) => setSecret('tlsCACert', e.currentTarget.value)}
              onReset={() => resetSecret('tlsCACert')}
            />
          </InlineField>
        )}
      </FieldSet>
      <FieldSet label="Defaults for $__database, $__table, $__measure">
        {(['defaultDatabase', 'defaultTable', 'defaultMeasure'] as const).map((k) => (
          <InlineField key={k} label={k.replace('default', 'Default ')} labelWidth={W}>
            <Input aria-label={k} width={40} value={jsonData[k] ?? ''} onChange={(e) => setJson({ [k]: e.currentTarget.value })} />
          </InlineField>
        ))}
      </FieldSet>
      <FieldSet label="Limits">
        <InlineField label="Query timeout (s)" labelWidth={W} tooltip="Bounds one query, every page included (default 300)">
          <Input
            aria-label="Query timeout"
            type="number"
            width={20}
            value={jsonData.timeout ?? ''}
            onChange={(e) => setJson({ timeout: e.currentTarget.value ? Number(e.currentTarget.value) : undefined })}
          />
        </InlineField>
        <InlineField label="Rows per page" labelWidth={W} tooltip="MaxRows asked of the server; empty lets it choose">
          <Input
            aria-label="Rows per page"
            type="number"
            width={20}
            value={jsonData.maxRows ?? ''}
            onChange={(e) => setJson({ maxRows: e.currentTarget.value ? Number(e.currentTarget.value) : undefined })}
          />
        </InlineField>
      </FieldSet>
    </>
  );
}
