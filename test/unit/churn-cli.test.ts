import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';

/** The `memberflow churn` commands as a user runs them: the real binary, the repository's CDNOW copy. */
const bin = fileURLToPath(new URL('../../bin/memberflow.js', import.meta.url));
const data = (f: string) => fileURLToPath(new URL(`../../data/cdnow/${f}`, import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'churn-cli-'));
const memberflow = (...args: string[]) =>
  execFileSync(process.execPath, [bin, ...args], { encoding: 'utf8', maxBuffer: 64 << 20 });
const published = gunzipSync(readFileSync(data('cdnow_customers_summary.csv.gz'))).toString('utf8');

// Each test starts the real binary (tsx compiles on start): seconds on a busy 2-core machine.
describe('memberflow churn on CDNOW', { timeout: 60_000 }, () => {
  it('summarize reproduces the published summary row for row', () => {
    const out = memberflow(
      'churn',
      'summarize',
      '--format',
      'cdnow',
      '--file',
      data('CDNOW_sample.txt.gz'),
      '--calibration-end',
      '1997-09-30',
    );
    expect(out).toBe(published);
  });

  it('fit gives the BG/NBD paper’s parameters and log-likelihood', () => {
    writeFileSync(join(dir, 'summary.csv'), published);
    const fit = JSON.parse(memberflow('churn', 'fit', '--summary', join(dir, 'summary.csv'))) as Record<string, number>;
    const published2005 = { r: 0.243, alpha: 4.414, a: 0.793, b: 2.426 };
    for (const [k, v] of Object.entries(published2005)) expect(Math.abs(fit[k]! - v), k).toBeLessThanOrEqual(0.001);
    expect(Math.abs(fit.logLikelihood! + 9582.4)).toBeLessThanOrEqual(0.1);
  });

  it('score prints one object per member with every figure, and P(alive) = 1 for one-time buyers under BG/NBD', () => {
    const spend = gunzipSync(readFileSync(data('cdnow_customers_summary_with_transactions.csv.gz'))).toString('utf8');
    writeFileSync(join(dir, 'spend.csv'), spend);
    writeFileSync(join(dir, 'params.json'), memberflow('churn', 'fit', '--summary', join(dir, 'spend.csv'), '--spend'));
    const lines = memberflow(
      'churn',
      'score',
      '--params',
      join(dir, 'params.json'),
      '--summary',
      join(dir, 'spend.csv'),
      '--horizon',
      '39',
    )
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, number | string | null>);
    expect(lines).toHaveLength(2357);
    const first = lines[0]!;
    expect(first.id).toBe('1');
    // Hardie's worked example (x = 2, t_x = 30.43, T = 38.86): 1.226 expected purchases in 39 weeks.
    expect(first.expectedPurchases as number).toBeCloseTo(1.226, 2);
    for (const l of lines) {
      expect(l.pAlive as number).toBeGreaterThanOrEqual(0);
      expect(l.pAlive as number).toBeLessThanOrEqual(1);
      if (l.frequency === 0) expect(l.pAlive).toBe(1);
      expect(typeof l.lifetimeValue).toBe('number');
      expect(l.expectedAverageSpend as number).toBeGreaterThan(0);
    }
  });

  it('validate: the holdout (weeks 40–78) is predicted in total and per member', () => {
    const report = JSON.parse(
      memberflow(
        'churn',
        'validate',
        '--format',
        'cdnow',
        '--file',
        data('CDNOW_sample.txt.gz'),
        '--calibration-end',
        '1997-09-30',
        '--holdout-end',
        '1998-06-30',
      ),
    ) as {
      holdout: {
        actualPurchases: number;
        predictedPurchases: number;
        correlation: number;
        byFrequency: { frequency: string; members: number }[];
      };
    };
    expect(report.holdout.actualPurchases).toBe(1882);
    expect(report.holdout.predictedPurchases / report.holdout.actualPurchases).toBeGreaterThan(0.8);
    expect(report.holdout.predictedPurchases / report.holdout.actualPurchases).toBeLessThan(1.05);
    expect(report.holdout.correlation).toBeGreaterThan(0.6);
    expect(report.holdout.byFrequency.reduce((a, g) => a + g.members, 0)).toBe(2357);
  });

  it('refuses a summary without a header, naming the problem', () => {
    writeFileSync(join(dir, 'bad.csv'), '1,2,3,4\n');
    expect(() =>
      execFileSync(process.execPath, [bin, 'churn', 'fit', '--summary', join(dir, 'bad.csv')], { stdio: 'pipe' }),
    ).toThrow(/header/);
  });
});
