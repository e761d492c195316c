import { existsSync, readFileSync } from 'node:fs';
import * as grafanaData from '@grafana/data';
import * as grafanaRuntime from '@grafana/runtime';
import * as grafanaUi from '@grafana/ui';
import * as React from 'react';
import * as rxjs from 'rxjs';

// The built module.js, loaded the way Grafana loads a plugin: an AMD
// module whose dependencies Grafana supplies. `make plugin-test` builds it
// first; outside CI a plain `npm test` without a build skips this.
const built = `${process.cwd()}/dist/module.js`; // vitest runs in the package directory
const shared: Record<string, unknown> = {
  '@grafana/data': grafanaData,
  '@grafana/runtime': grafanaRuntime,
  '@grafana/ui': grafanaUi,
  react: React,
  rxjs,
};

describe.skipIf(!existsSync(built) && process.env.CI !== 'true')('dist/module.js', () => {
  it('is an AMD module that exports the data source plugin', () => {
    const code = readFileSync(built, 'utf8');
    const exports: Record<string, any> = {};
    let deps: string[] = [];
    const define = (d: string[], factory: (...args: unknown[]) => void) => {
      deps = d;
      factory(...d.map((name) => (name === 'exports' ? exports : shared[name])));
    };
    new Function('define', code)(define);
    expect(deps.filter((d) => d !== 'exports').every((d) => d in shared)).toBe(true);
    const plugin = exports.plugin;
    expect(plugin).toBeInstanceOf(grafanaData.DataSourcePlugin);
    expect(plugin.DataSourceClass.name).toBeTruthy();
    expect(typeof plugin.components.QueryEditor).toBe('function');
    expect(typeof plugin.components.ConfigEditor).toBe('function');
    expect(typeof plugin.components.VariableQueryEditor).toBe('function');
  });
});
