/**
 * docs/configuration.md is what `npm run docs:config` writes from the config schema and
 * common/config-reference.ts: a setting added, renamed or given a new default without regenerating fails here.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { CONFIG_VARIABLES } from '../../common/config';
import { accepted, CONFIGURATION_DOC, configurationDoc, schemaDefault } from '../../scripts/config-docs';

describe('docs/configuration.md', () => {
  it('is what the script generates from the schema (run `npm run docs:config` after changing a setting)', () => {
    expect(readFileSync(CONFIGURATION_DOC, 'utf8')).toBe(configurationDoc());
  });

  it('lists every variable the config module reads, once, with the default the schema applies', () => {
    const doc = configurationDoc();
    for (const name of CONFIG_VARIABLES) expect(doc.match(new RegExp(`^\\| \`${name}\` \\|`, 'gm')), name).toHaveLength(1);
    expect(doc).toContain('| `PORT` | `8000` |');
    expect(doc).toContain('| `AGENT_APPROVAL_TIMEOUT` | `24h` |');
  });

  it('reads defaults and accepted values from zod schemas', () => {
    expect(schemaDefault(z.coerce.number().int().min(1).max(9).default(3) as any)).toBe('3');
    expect(schemaDefault(z.string().optional() as any)).toBeUndefined();
    expect(accepted(z.coerce.number().int().min(1).max(9).default(3) as any)).toBe('a whole number from 1 to 9');
    expect(accepted(z.enum(['on', 'off']).default('on') as any)).toBe('`on`, `off`');
    expect(accepted(z.url().optional() as any)).toBe('a URL');
  });
});
