import React, { useState } from 'react';
import { InlineField, TextArea } from '@grafana/ui';

import { TidalQuery } from '../types';

interface Props {
  query: TidalQuery | string;
  onChange: (query: TidalQuery, definition: string) => void;
}

/** Variable query: SQL whose first column lists the values. */
export function VariableQueryEditor({ query, onChange }: Props) {
  const initial = typeof query === 'string' ? query : query?.rawQuery ?? '';
  const [sql, setSql] = useState(initial);
  return (
    <InlineField label="SQL" labelWidth={10} grow tooltip="The first column of the result gives the values, e.g. SELECT DISTINCT hostname FROM devops.cpu">
      <TextArea
        aria-label="Variable SQL"
        rows={3}
        value={sql}
        onChange={(e) => setSql(e.currentTarget.value)}
        onBlur={() => onChange({ refId: 'TidalVariable', rawQuery: sql, format: 0, waitForResult: true }, sql)}
      />
    </InlineField>
  );
}
