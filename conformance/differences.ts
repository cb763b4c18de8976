import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { z } from 'zod';

export const Difference = z.object({
  id: z.string().regex(/^[a-z0-9-]+$/),
  claim: z.string().regex(/^C\d{2}$/),
  seed: z.string(),
  reality: z.string(),
  reason: z.string(),
});
export type Difference = z.infer<typeof Difference>;

export const differencesFile = join(dirname(fileURLToPath(import.meta.url)), 'differences.yaml');

export function loadDifferences(file = differencesFile): Map<string, Difference> {
  const doc = z.object({ differences: z.array(Difference) }).parse(parse(readFileSync(file, 'utf8')));
  return new Map(doc.differences.map((d) => [d.id, d]));
}
