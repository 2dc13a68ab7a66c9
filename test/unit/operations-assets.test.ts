import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { Metrics } from '../../shared/observability/metrics.js';

/** The dashboard and alert rules in docs/operations may only use series memberflow serves. */
describe('docs/operations: the dashboard and the alert rules', () => {
  const served = new Set<string>();
  for (const m of new Metrics().registry.getMetricsAsArray() as unknown as { name: string; type: string }[]) {
    served.add(m.name);
    if (m.type === 'histogram') for (const suffix of ['_bucket', '_sum', '_count']) served.add(m.name + suffix);
  }
  const used = (text: string) => [...new Set(text.match(/memberflow_[a-z_]+/g) ?? [])];

  it('alert rules: valid YAML, each with expr, and only served series', () => {
    const rules = (
      parse(readFileSync('docs/operations/alerts.yml', 'utf8')) as {
        groups: { rules: { alert: string; expr: string }[] }[];
      }
    ).groups.flatMap((g) => g.rules);
    expect(rules.map((r) => r.alert)).toEqual([
      'MemberflowLagGrowing',
      'MemberflowDeadLettersHigh',
      'MemberflowWorkerNotReady',
      'MemberflowFencedRetryStorm',
      'MemberflowConsumerRestarting',
    ]);
    for (const r of rules) {
      expect(used(r.expr).length, r.alert).toBeGreaterThan(0);
      for (const name of used(r.expr)) expect(served, `${r.alert}: ${name}`).toContain(name);
    }
  });

  it('dashboard: valid JSON, and every panel queries served series', () => {
    const dashboard = JSON.parse(readFileSync('docs/operations/grafana-dashboard.json', 'utf8')) as {
      panels: { title: string; targets: { expr: string }[] }[];
    };
    expect(dashboard.panels.length).toBeGreaterThan(8);
    for (const p of dashboard.panels)
      for (const t of p.targets) for (const name of used(t.expr)) expect(served, `${p.title}: ${name}`).toContain(name);
  });

  it('series names follow Prometheus conventions: memberflow_ prefix, counters end in _total, durations in _seconds', () => {
    for (const m of new Metrics().registry.getMetricsAsArray() as unknown as { name: string; type: string }[]) {
      expect(m.name).toMatch(/^memberflow_[a-z0-9_]+$/);
      if (m.type === 'counter') expect(m.name).toMatch(/_total$/);
      if (/duration|age/.test(m.name)) expect(m.name).toMatch(/_seconds$/);
    }
  });
});

describe('Metrics.total: the figures a caller in the same process reads', () => {
  it('sums a counter over matching labels, and a histogram by its _sum and _count', async () => {
    const m = new Metrics();
    const report = {
      records: 10,
      outcomes: { applied: 7, rejected: 2, duplicate: 1, redelivered: 0, undecodable: 0 },
      rejections: { malformed_json: 2 },
      outputs: 9,
      members: 3,
      fencedRetries: 1,
      replicationRetries: 0,
      aborted: false,
      pointerMoved: false,
      stateLost: null,
      settle: new Map(),
      stateWriteSeconds: [0.002],
      stateBytes: 500,
    };
    const observer = m.observerFor(
      'w',
      () => undefined,
      () => undefined,
    );
    observer.batchCommitted({
      topic: 't',
      partition: 0,
      report,
      seconds: 0.5,
      commitSeconds: 0.01,
      lastTimestamp: 0,
      committedAt: 1000,
    });
    observer.batchCommitted({
      topic: 't',
      partition: 1,
      report,
      seconds: 1.5,
      commitSeconds: 0.01,
      lastTimestamp: 0,
      committedAt: 1000,
    });
    expect(await m.total('memberflow_inputs_total')).toBe(20);
    expect(await m.total('memberflow_inputs_total', { outcome: 'rejected' })).toBe(4);
    expect(await m.total('memberflow_batches_total')).toBe(2);
    expect(await m.total('memberflow_batch_duration_seconds_sum')).toBe(2);
    expect(await m.total('memberflow_batch_duration_seconds_count')).toBe(2);
    expect(await m.total('memberflow_fenced_retries_total', { cause: 'fence' })).toBe(2);
    expect(await m.total('memberflow_no_such_series')).toBe(0);
  });
});
