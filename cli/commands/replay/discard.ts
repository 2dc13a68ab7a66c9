/** `replay discard`: removes a replay namespace (topics, groups, Redis keys, registry subjects); never live state. */
import { workerNames } from '../../../services/index.js';
import { readLivePointer } from '../../../shared/redis/live-pointer.js';
import { registryAccessOf } from '../../../shared/clients.js';
import { deleteKeys } from '../../../shared/redis/client.js';
import { namespacePattern, workerKeysPattern } from '../../../shared/redis/keys.js';
import { registryRequest } from '../../../shared/registry/access.js';
import { ReplayRefused, type ReplayContext } from './shared.js';

export interface DiscardReport {
  namespace: string;
  topics: number;
  groups: number;
  keys: number;
  subjects: number;
}

/**
 * `replay discard --state-only --worker w`: after a promote, the state the live workers left
 * behind (Redis keys and consumer group of `w` in a namespace its live pointer no longer
 * names). Topics are kept: the namespace may hold the live topics.
 */
export async function discardOldState(rc: ReplayContext, namespace: string, worker: string): Promise<DiscardReport> {
  const p = await readLivePointer(rc.clients.redis, rc.liveNamespace, worker);
  if (p.namespace === namespace || p.target === namespace)
    throw new ReplayRefused(
      `${namespace} is ${p.namespace === namespace ? 'the live state' : 'being promoted'} of ${worker}`,
    );
  const group = `${namespace}.${worker}`;
  const { groups } = await rc.admin.describeGroups([group]);
  if ((groups[0]?.members.length ?? 0) > 0)
    throw new ReplayRefused(`group ${group} has running members: a replay or an old worker still uses this state`);
  const known = (await rc.admin.listGroups()).groups.some((g) => g.groupId === group);
  if (known) await rc.admin.deleteGroups([group]);
  const keys = await deleteKeys(rc.clients.redis, workerKeysPattern(namespace, worker));
  return { namespace, topics: 0, groups: known ? 1 : 0, keys, subjects: 0 };
}

export async function replayDiscard(rc: ReplayContext, namespace: string): Promise<DiscardReport> {
  if (namespace === rc.liveNamespace) throw new ReplayRefused(`${namespace} holds the live topics`);
  for (const w of workerNames()) {
    const p = await readLivePointer(rc.clients.redis, rc.liveNamespace, w);
    if (p.namespace === namespace || p.target === namespace)
      throw new ReplayRefused(
        `${namespace} is ${p.namespace === namespace ? 'the live state' : 'being promoted'} of ${w}`,
      );
  }
  const prefix = `${namespace}.`;
  const topics = (await rc.admin.listTopics()).filter((t) => t.startsWith(prefix));
  if (topics.length > 0) await rc.admin.deleteTopics({ topics });
  const groups = (await rc.admin.listGroups()).groups.map((g) => g.groupId).filter((g) => g.startsWith(prefix));
  if (groups.length > 0) await rc.admin.deleteGroups(groups);
  const keys = await deleteKeys(rc.clients.redis, namespacePattern(namespace));
  let subjects = 0;
  const registry = registryAccessOf(rc.ctx.env);
  const ok = (status: number) => status >= 200 && status < 300;
  const listed = await registryRequest(registry, 'GET', '/subjects').then(
    (r) => (ok(r.status) && Array.isArray(r.body) ? (r.body as string[]) : []),
    () => [],
  );
  for (const s of listed.filter((x) => x.startsWith(prefix))) {
    if (
      ok(
        (await registryRequest(registry, 'DELETE', `/subjects/${encodeURIComponent(s)}`).catch(() => ({ status: 0 })))
          .status,
      )
    )
      subjects++;
  }
  return { namespace, topics: topics.length, groups: groups.length, keys, subjects };
}
