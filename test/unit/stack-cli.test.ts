import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { stackCommand } from '../../cli/commands/stack.js';

describe('memberflow stack', () => {
  it('refuses broker counts the local stack does not run, and --brokers where it means nothing', () => {
    expect(stackCommand('up', { brokers: 2 })).toBe(2);
    expect(stackCommand('status', { brokers: 3 })).toBe(2);
    expect(stackCommand('launch')).toBe(2);
  });

  it('names the three brokers in env --brokers 3, and the one broker without it', () => {
    const env = (args: string[]) =>
      spawnSync('node', ['bin/memberflow.js', 'stack', 'env', ...args], { encoding: 'utf8' }).stdout;
    expect(env(['--brokers', '3'])).toContain('KAFKA_BROKERS=127.0.0.1:9192,127.0.0.1:9193,127.0.0.1:9194\n');
    expect(env([])).toMatch(/^KAFKA_BROKERS=127\.0\.0\.1:9092$/m);
  });
});
