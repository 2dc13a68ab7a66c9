import kafkajs, { type AclEntry, type Admin } from 'kafkajs';
import { externallyWrittenTopics, physicalTopic, topicSpecs } from '../contracts/topics.js';

/** The three principals of a locked-down deployment, as Kafka names them (e.g. `User:workers`). */
export interface Principals {
  /** An upstream app: writes activity events, nothing else. */
  app: string;
  /** memberflow's workers, ticker and tools. */
  workers: string;
  /** A notification service: reads memberflow's outputs, writes nothing. */
  notifier: string;
}

// kafkajs is CommonJS: its enums are read off the default export (Node's ESM loader does not see them as named exports).
const { AclOperationTypes, AclPermissionTypes, AclResourceTypes, ResourcePatternTypes } = kafkajs;
type AclOperation = (typeof AclOperationTypes)[keyof typeof AclOperationTypes];
type AclResource = (typeof AclResourceTypes)[keyof typeof AclResourceTypes];
type PatternType = (typeof ResourcePatternTypes)[keyof typeof ResourcePatternTypes];

const allow = (
  principal: string,
  resourceType: AclResource,
  resourceName: string,
  patternType: PatternType,
  operation: AclOperation,
): AclEntry => ({
  principal,
  host: '*',
  resourceType,
  resourceName,
  resourcePatternType: patternType,
  operation,
  permissionType: AclPermissionTypes.ALLOW,
});

/**
 * memberflow's ACLs for a namespace, least privilege each (docs/SECURITY.md lists them):
 * - app: write and describe `<ns>.activity.events`, nothing else;
 * - workers: the namespace's topics (prefix `<ns>.`: read, write, describe, and describe configs: a
 *   worker on the confluent client reads whether activity.events is LogAppendTime), its consumer groups
 *   (read, describe) and transactional ids (write, describe; they start with the group name).
 *   Creating topics and altering their configs (`topics create`) is an admin's; a replay works in a
 *   namespace of its own, which needs its own `acls apply`;
 * - notifier: read and describe the topics memberflow writes, and its own groups
 *   (`<ns>.notifier` prefix); no write anywhere.
 */
export function memberflowAcls(namespace: string, p: Principals): AclEntry[] {
  const { TOPIC, GROUP, TRANSACTIONAL_ID } = AclResourceTypes;
  const { LITERAL, PREFIXED } = ResourcePatternTypes;
  const ops = AclOperationTypes;
  const prefix = `${namespace}.`;
  const input = physicalTopic(namespace, 'activity.events');
  const outputs = topicSpecs.map((s) => s.logical).filter((t) => !externallyWrittenTopics.includes(t));
  return [
    allow(p.app, TOPIC, input, LITERAL, ops.WRITE),
    allow(p.app, TOPIC, input, LITERAL, ops.DESCRIBE),
    ...[ops.READ, ops.WRITE, ops.DESCRIBE, ops.DESCRIBE_CONFIGS].map((op) =>
      allow(p.workers, TOPIC, prefix, PREFIXED, op),
    ),
    ...[ops.READ, ops.DESCRIBE].map((op) => allow(p.workers, GROUP, prefix, PREFIXED, op)),
    ...[ops.WRITE, ops.DESCRIBE].map((op) => allow(p.workers, TRANSACTIONAL_ID, prefix, PREFIXED, op)),
    ...outputs.flatMap((t) =>
      [ops.READ, ops.DESCRIBE].map((op) => allow(p.notifier, TOPIC, physicalTopic(namespace, t), LITERAL, op)),
    ),
    ...[ops.READ, ops.DESCRIBE].map((op) => allow(p.notifier, GROUP, `${prefix}notifier`, PREFIXED, op)),
  ];
}

/** Creates memberflow's ACLs for a namespace (idempotent: the broker keeps one of each). */
export async function applyAcls(admin: Admin, namespace: string, p: Principals): Promise<number> {
  const acl = memberflowAcls(namespace, p);
  await admin.createAcls({ acl });
  return acl.length;
}
