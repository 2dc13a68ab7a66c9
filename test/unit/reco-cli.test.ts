import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import type { RecoEvaluateReport } from '../../cli/commands/reco-evaluate.js';

/** `memberflow reco evaluate` as a user runs it: the real binary on the first 60,000 rows of the repository's Online Retail copy. */
const bin = fileURLToPath(new URL('../../bin/memberflow.js', import.meta.url));
const csv = gunzipSync(
  readFileSync(fileURLToPath(new URL('../../data/online-retail/online-retail.csv.gz', import.meta.url))),
).toString('utf8');
const dir = mkdtempSync(join(tmpdir(), 'reco-cli-'));
const slice = join(dir, 'slice.csv');
writeFileSync(slice, csv.split('\n').slice(0, 60_001).join('\n'));

describe('memberflow reco evaluate', () => {
  it('reports hit rate, recall and coverage for every similarity and the popularity baseline, and the non-product codes', () => {
    const out = execFileSync(
      process.execPath,
      [bin, 'reco', 'evaluate', '--format', 'online-retail', '--file', slice, '--json'],
      { encoding: 'utf8', maxBuffer: 64 << 20 },
    );
    const r = JSON.parse(out) as RecoEvaluateReport;
    const e = r.evaluation;
    expect(e.top).toBe(10);
    expect(e.members.evaluated).toBeGreaterThan(100);
    expect(e.similarity.map((x) => x.similarity).sort()).toEqual(['cosine', 'count', 'jaccard', 'llr']);
    for (const m of [...Object.values(e.main.cf), e.main.popularity]) {
      expect(m.hitRate).toBeGreaterThan(0);
      expect(m.hitRate).toBeLessThanOrEqual(1);
      expect(m.recall).toBeLessThanOrEqual(m.hitRate);
      expect(m.hits).toBe(Math.round(m.hitRate * e.members.evaluated));
    }
    // Collaborative filtering beats recommending best-sellers already on a month of data.
    expect(e.main.cf.cosine!.hitRate).toBeGreaterThan(e.main.popularity.hitRate);
    expect(e.main.cf.cosine!.coverage).toBeGreaterThan(e.main.popularity.coverage);
    expect(r.input.nonProduct.byCode.map((c) => c.code)).toContain('POST');
    expect(r.input.nonProduct.rows).toBe(r.input.nonProduct.byCode.reduce((s, c) => s + c.rows, 0));
  }, 120_000);

  it('refuses bad options with a clear message and a non-zero exit', () => {
    const bad = spawnSync(
      process.execPath,
      [bin, 'reco', 'evaluate', '--format', 'online-retail', '--file', join(dir, 'missing.csv')],
      { encoding: 'utf8' },
    );
    expect(bad.status).not.toBe(0);
    expect(bad.stderr).toMatch(/missing\.csv/);
    const sim = spawnSync(
      process.execPath,
      [bin, 'reco', 'evaluate', '--format', 'online-retail', '--file', slice, '--similarity', 'pearson'],
      { encoding: 'utf8' },
    );
    expect(sim.status).not.toBe(0);
    expect(sim.stderr).toMatch(/pearson|similarity/);
  }, 60_000);
});
