import { workerDefinition } from '../../services/index.js';
import type { RankedItem } from '../../services/recommendations/model.js';
import { rankFor, recoModelVersion } from '../../services/recommendations/model.js';
import { recoMembersName, type RecoMemberState } from '../../services/recommendations/member-logic.js';
import { recoModelReader } from '../../services/recommendations/view-redis.js';
import { connectClients } from '../../shared/clients.js';
import { MemberStore } from '../../shared/redis/member-store.js';
import type { CommandContext } from '../context.js';

export interface RecommendReport {
  userId: string;
  /** False when reco-members has never seen the member: the list is the cold start's. */
  known: boolean;
  owned: number;
  recentItems: string[];
  items: RankedItem[];
  modelVersion: string;
}

/** The read path for apps: a member's current top N from the live model, as reco-members would rank it now. */
export async function recommendCommand(ctx: CommandContext, userId: string, top?: number): Promise<RecommendReport> {
  const clients = connectClients(ctx.env, ctx.log, 'memberflow-recommend');
  try {
    const reco = top === undefined ? ctx.rules.reco : { ...ctx.rules.reco, top };
    const store = new MemberStore<RecoMemberState>(
      clients.redis,
      ctx.env.MEMBERFLOW_NAMESPACE,
      workerDefinition(recoMembersName),
    );
    const state = await store.state(userId);
    const member = state ?? { items: [], categories: [], lastEmitted: {} };
    const view = await recoModelReader(clients.redis, ctx.env.MEMBERFLOW_NAMESPACE, () => ctx.rules).load([member], []);
    return {
      userId,
      known: state !== null,
      owned: member.items.length,
      recentItems: member.items.slice(-reco.recentItems),
      items: rankFor(member, view, reco),
      modelVersion: recoModelVersion(reco),
    };
  } finally {
    await clients.close();
  }
}
