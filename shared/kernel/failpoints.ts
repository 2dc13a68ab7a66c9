/**
 * Failpoints: stop a worker at an exact step, so tests can prove recovery from
 * the worst moments instead of hoping a random kill or stop lands there. Off
 * unless MEMBERFLOW_FAILPOINT (or the runtime's `failpoint` option) is set to
 * - `kill-<point>:<n>`: SIGKILL to the process the n-th time it passes that point;
 * - `pause-<point>:<n>:<ms>`: the n-th time, the batch waits that long there (a slow
 *   publish, a GC pause), so a test can stop the worker or move its pointer meanwhile.
 * Points:
 * - `after-state-write`: state written to Redis, outputs not yet published;
 * - `after-publish`: outputs published, offsets not yet committed;
 * - `after-commit`: offsets committed, the batch's outputs not yet dropped from the outboxes.
 * Only batches that changed state count.
 */
export type FailpointName = 'after-state-write' | 'after-publish' | 'after-commit';

export type Failpoint = (point: FailpointName) => void | Promise<void>;

export function failpointFromSpec(spec: string | undefined): Failpoint {
  const match = /^(kill|pause)-(after-state-write|after-publish|after-commit):(\d+)(?::(\d+))?$/.exec(spec ?? '');
  if (!match || (match[1] === 'pause') !== (match[4] !== undefined)) return () => undefined;
  const action = match[1] as 'kill' | 'pause';
  const target = match[2] as FailpointName;
  const pauseMs = Number(match[4] ?? 0);
  let remaining = Number(match[3]);
  return (point) => {
    if (point !== target) return;
    remaining--;
    if (remaining !== 0) return;
    if (action === 'kill') process.kill(process.pid, 'SIGKILL');
    else return new Promise<void>((r) => setTimeout(r, pauseMs));
  };
}
