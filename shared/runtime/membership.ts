/** Consumer-group errors that mean this member left its group, as the consumer must see them to re-join. */
/** Group errors after which the consumer must re-join: this member left the group while it worked. */
const membershipErrorTypes = new Set([
  'UNKNOWN_MEMBER_ID',
  'ILLEGAL_GENERATION',
  'REBALANCE_IN_PROGRESS',
  'NOT_COORDINATOR_FOR_GROUP',
]);

/**
 * A commit refused because this member is no longer in the group (a process paused past its
 * session, a zombie) reaches us wrapped by kafkajs' retrier as non-retriable, which would stop
 * the consumer for good. kafkajs' runner re-joins the group on the bare protocol error, so hand
 * that back: the batch's effects are in Redis, the partition's owner redoes it as a redelivery.
 */
export function membershipError(err: unknown): unknown {
  let root = err as { cause?: unknown; type?: unknown } | null;
  while (root && typeof root === 'object' && root.cause) root = root.cause;
  return root && typeof root.type === 'string' && membershipErrorTypes.has(root.type) ? root : err;
}
