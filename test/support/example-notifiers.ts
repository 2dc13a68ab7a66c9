import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { expect } from 'vitest';
import type { OutputEvent } from '../../shared/kernel/types.js';
import { sleep, waitFor } from './harness.js';

/** What the example notifiers print, one JSON object per line (examples/node-notifier, examples/java-notifier). */
export type NotifierLine =
  | { type: 'bootstrap'; member: string; tier: string; sequence: string; changeEventId: string }
  | { type: 'notify'; member: string; eventId: string; sequence: string; newTier: string };

export interface ExampleNotifier {
  name: string;
  child: ChildProcess;
  lines: NotifierLine[];
  stderr: () => string;
}

/** Builds examples/java-notifier with Maven (its jars into target/dependency); fails loudly without Maven. */
export function buildJavaNotifier(): void {
  execFileSync('mvn', ['-B', '-q', '-f', 'examples/java-notifier/pom.xml', 'package'], {
    stdio: ['ignore', 'ignore', 'inherit'],
    timeout: 600_000,
  });
}

export function startExampleNotifier(
  name: string,
  command: string,
  args: string[],
  env: Record<string, string>,
): ExampleNotifier {
  const child = spawn(command, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: NotifierLine[] = [];
  let partial = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => {
    const all = (partial + d.toString()).split('\n');
    partial = all.pop()!;
    for (const l of all) if (l.trim()) lines.push(JSON.parse(l) as NotifierLine);
  });
  child.stderr.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
  return { name, child, lines, stderr: () => stderr };
}

/**
 * A notifier that bootstrapped from member.tiers mid-run must act on exactly the tier changes
 * after each member's table record (`changes`, in the reference's order: those with a greater
 * sequence), each once, and end with every member's final tier (the reference's last member.tiers
 * record). Every table record it read must carry its change's sequence. Stops it.
 */
export async function checkNotifier(
  n: ExampleNotifier,
  changes: readonly OutputEvent[],
  outputs: readonly OutputEvent[],
): Promise<void> {
  const boot = new Map(n.lines.flatMap((l) => (l.type === 'bootstrap' ? [[l.member, l] as const] : [])));
  const sequenceOf = (o: OutputEvent) => (o.value as { sequence: string }).sequence;
  const sequenceById = new Map(changes.map((o) => [o.id, sequenceOf(o)]));
  for (const b of boot.values())
    expect(b.sequence, `${n.name}: the table record of ${b.member} and its change ${b.changeEventId}`).toBe(
      sequenceById.get(b.changeEventId),
    );
  const want = new Map<string, string[]>();
  for (const o of changes) {
    const b = boot.get(o.key);
    if (b && sequenceOf(o) <= b.sequence) continue;
    want.set(o.key, [...(want.get(o.key) ?? []), o.id]);
  }
  const wantCount = [...want.values()].reduce((t, l) => t + l.length, 0);
  await waitFor(
    () => n.lines.filter((l) => l.type === 'notify').length >= wantCount,
    180_000,
    `${n.name} to act on ${wantCount} changes`,
  ).catch((err: unknown) => {
    throw new Error(
      `${(err as Error).message}; it printed ${n.lines.length} lines (exit ${n.child.exitCode}):\n${n.stderr()}`,
    );
  });
  // Anything more it would print (a second copy) has had a moment to arrive.
  await sleep(1000);
  n.child.kill('SIGTERM');
  const notified = new Map<string, string[]>();
  for (const l of n.lines)
    if (l.type === 'notify') notified.set(l.member, [...(notified.get(l.member) ?? []), l.eventId]);
  expect(boot.size, `${n.name}: members in the table when it started (mid-run)`).toBeGreaterThan(0);
  expect(wantCount, `${n.name}: changes after its table`).toBeGreaterThan(0);
  expect(notified, `${n.name}: the changes it acted on`).toEqual(want);
  const finalTier = new Map<string, string>([...boot].map(([m, b]) => [m, b.tier]));
  for (const l of n.lines) if (l.type === 'notify') finalTier.set(l.member, l.newTier);
  const wantFinal = new Map<string, string>();
  for (const o of outputs) if (o.topic === 'member.tiers') wantFinal.set(o.key, (o.value as { tier: string }).tier);
  expect(finalTier, `${n.name}: every member's tier at the end`).toEqual(wantFinal);
}
