import { workerDefinition } from '../../services/index.js';
import { connectClients } from '../../shared/clients.js';
import { MemberStore } from '../../shared/redis/member-store.js';
import type { MemberProfile } from '../../services/behavior-events/profile.js';
import type { CommandContext } from '../context.js';

export async function profileCommand(ctx: CommandContext, memberId: string): Promise<void> {
  const clients = connectClients(ctx.env, ctx.log, 'memberflow-profile');
  try {
    const store = new MemberStore<MemberProfile>(
      clients.redis,
      ctx.env.MEMBERFLOW_NAMESPACE,
      workerDefinition('behavior-events'),
    );
    const state = await store.state(memberId);
    if (state === null) {
      process.stderr.write(`no profile for member ${memberId} in namespace ${ctx.env.MEMBERFLOW_NAMESPACE}\n`);
      process.exitCode = 1;
      return;
    }
    process.stdout.write(`${JSON.stringify({ memberId, ...state }, null, 2)}\n`);
  } finally {
    await clients.close();
  }
}
