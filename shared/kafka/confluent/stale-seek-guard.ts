/**
 * A process-wide unhandledRejection filter, because the client's stale seek fails in a promise nobody holds
 * (nothing to catch it on). It swallows only that seek's ERR__STATE while or just after one of this process's
 * consumers disconnects (isStaleSeekAfterDisconnect); every other rejection is rethrown and ends the process.
 */
import type { Logger } from '../../log.js';
import type { ConfluentKafkaJS } from './library.js';

/**
 * The compatible consumer rewinds a batch left unresolved by queueing a seek, which its run loop
 * performs later, inside a promise nobody holds. When a worker abandons its batches because it is
 * leaving (a promote moved the live pointer, or a stop), the disconnect can come first: the queued
 * seek then fails with ERR__STATE ("... can only be called while connected") as an unhandled
 * rejection, and Node ends the process, which was about to carry on in its new generation. That
 * one error while a consumer of this process disconnects is harmless (the abandoned batch was
 * never committed: the group's next owner reads it again); it is logged and ignored. Any other
 * unhandled rejection still ends the process, as without the listener.
 */
export const disconnectingConsumers = new Set<object>();
/** How long after a disconnect a queued seek of that consumer may still fail. */
export const staleSeekGraceMs = 5_000;
let staleSeekGuardInstalled = false;

export function isStaleSeekAfterDisconnect(
  reason: unknown,
  api: Pick<ConfluentKafkaJS, 'isKafkaJSError' | 'ErrorCodes'>,
  disconnecting: boolean,
): boolean {
  if (!disconnecting || !api.isKafkaJSError(reason)) return false;
  const e = reason as { code?: unknown; message?: unknown };
  return (
    e.code === api.ErrorCodes.ERR__STATE &&
    typeof e.message === 'string' &&
    /can only be called while connected/.test(e.message)
  );
}

export function installStaleSeekGuard(api: ConfluentKafkaJS, log: Logger): void {
  if (staleSeekGuardInstalled) return;
  staleSeekGuardInstalled = true;
  process.on('unhandledRejection', (reason) => {
    if (isStaleSeekAfterDisconnect(reason, api, disconnectingConsumers.size > 0)) {
      log.warn(
        { err: reason },
        'a rewind the client queued before disconnecting failed: ignored (the batch was not committed)',
      );
      return;
    }
    throw reason;
  });
}
