/**
 * Failpoints: crash a worker at an exact step, so tests can prove recovery
 * from the worst moments instead of hoping a random kill lands there. Off
 * unless MEMBERFLOW_FAILPOINT is set to `kill-<point>:<n>`, which sends
 * SIGKILL to the process the n-th time it passes that point:
 * - `after-state-write`: state written to Redis, outputs not yet published;
 * - `after-publish`: outputs published, offsets not yet committed.
 * Only batches that changed state count.
 */
export type FailpointName = 'after-state-write' | 'after-publish';

export type Failpoint = (point: FailpointName) => void;

export function failpointFromSpec(spec: string | undefined): Failpoint {
  const match = /^kill-(after-state-write|after-publish):(\d+)$/.exec(spec ?? '');
  if (!match) return () => undefined;
  const target = match[1] as FailpointName;
  let remaining = Number(match[2]);
  return (point) => {
    if (point !== target) return;
    remaining--;
    if (remaining === 0) process.kill(process.pid, 'SIGKILL');
  };
}
