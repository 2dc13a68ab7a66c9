/**
 * Every Redis key memberflow writes is built here. A member's keys carry the
 * hash tag {u:<id>}, so all of them live in one Redis Cluster slot and one Lua
 * script may touch them together.
 */
export function memberKey(namespace: string, worker: string, memberId: string): string {
  return `mf:${namespace}:${worker}:{u:${memberId}}`;
}

export function namespacePattern(namespace: string): string {
  return `mf:${namespace}:*`;
}

/** Per input partition: members by next due time (a hint; each member's own state decides). */
export function timersKey(namespace: string, worker: string, tp: string): string {
  return `mf:${namespace}:${worker}:timers:{tp:${tp}}`;
}

/** Per tick: the members it was applied to, so a redelivered tick re-publishes exactly theirs. */
export function tickJournalKey(namespace: string, worker: string, tp: string, offset: string): string {
  return `mf:${namespace}:${worker}:tick:{tp:${tp}}:${offset}`;
}

/** A worker's sorted-set projection (see WorkerLogic.projections): one key per projection name. */
export function projectionKey(namespace: string, worker: string, name: string): string {
  return `mf:${namespace}:${worker}:proj:${name}`;
}

/** Per input partition, the highest offset a batch of this state namespace may have applied and published. */
export function appliedMarksKey(namespace: string, worker: string): string {
  return `mf:${namespace}:${worker}:applied`;
}

/** A member's outbox: outputs of its applied inputs until their offsets are committed. Same slot as the record. */
export function outboxKey(namespace: string, worker: string, memberId: string): string {
  return `mf:${namespace}:${worker}:out:{u:${memberId}}`;
}

/** Per input partition: batches whose outbox entries are not dropped yet (field: highest offset, value: members). */
export function unsettledKey(namespace: string, worker: string, tp: string): string {
  return `mf:${namespace}:${worker}:unsettled:{tp:${tp}}`;
}
