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
