import { plugin } from './module';
import { TidalDataSource } from './datasource';
import { ConfigEditor } from './components/ConfigEditor';
import { QueryEditor } from './components/QueryEditor';
import { VariableQueryEditor } from './components/VariableQueryEditor';

describe('module', () => {
  it('exports the data source plugin with its editors', () => {
    expect(plugin.DataSourceClass).toBe(TidalDataSource);
    expect(plugin.components.ConfigEditor).toBe(ConfigEditor);
    expect(plugin.components.QueryEditor).toBe(QueryEditor);
    expect(plugin.components.VariableQueryEditor).toBe(VariableQueryEditor);
  });
});
