/**
 * Failpoints: crash a worker at an exact step, so tests can prove recovery
 * from the worst moment (state written, outputs not yet published, offsets not
 * committed) instead of hoping a random kill lands there. Off unless
 * MEMBERFLOW_FAILPOINT is set, e.g. `kill-after-state-write:3` sends SIGKILL
 * to the process after its third successful state write.
 */
export function afterStateWriteFailpoint(spec: string | undefined): () => void {
  const match = /^kill-after-state-write:(\d+)$/.exec(spec ?? '');
  if (!match) return () => undefined;
  let remaining = Number(match[1]);
  return () => {
    remaining--;
    if (remaining === 0) process.kill(process.pid, 'SIGKILL');
  };
}
