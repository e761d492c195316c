import { DataSourcePlugin } from '@grafana/data';

import { TidalDataSource } from './datasource';
import { ConfigEditor } from './components/ConfigEditor';
import { QueryEditor } from './components/QueryEditor';
import { VariableQueryEditor } from './components/VariableQueryEditor';
import { TidalOptions, TidalQuery, TidalSecureOptions } from './types';

export const plugin = new DataSourcePlugin<TidalDataSource, TidalQuery, TidalOptions, TidalSecureOptions>(TidalDataSource)
  .setConfigEditor(ConfigEditor)
  .setQueryEditor(QueryEditor)
  .setVariableQueryEditor(VariableQueryEditor);
