/**
 * Writes python/clim_torch/config_schema.json from src/core/config-schema.ts
 * (the ClimConfig fields, bounds, defaults and cross-field rules, issue 18):
 *
 *   npx tsx scripts/gen-config-schema.ts [--check]
 *
 * Formatted with the repository's prettier config so `npm run lint` accepts
 * it. `--check` writes nothing and exits 1 when the committed file differs
 * (src/core/config-schema.test.ts makes the same check in the unit tests).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { format, resolveConfig } from 'prettier';
import { configSchema } from '../src/core/config-schema';

const OUT = join(resolve(dirname(fileURLToPath(import.meta.url)), '..'), 'python', 'clim_torch', 'config_schema.json');

async function main(): Promise<void> {
  const options = (await resolveConfig(OUT)) ?? {};
  const text = await format(JSON.stringify(configSchema(), null, 2), { ...options, filepath: OUT });
  if (process.argv.includes('--check')) {
    let old = '';
    try {
      old = readFileSync(OUT, 'utf8');
    } catch {
      // A missing file differs.
    }
    if (old !== text) {
      process.stderr.write(`${OUT} is out of date: run npx tsx scripts/gen-config-schema.ts\n`);
      process.exit(1);
    }
    return;
  }
  writeFileSync(OUT, text);
  process.stdout.write(`wrote ${OUT}\n`);
}

void main();
