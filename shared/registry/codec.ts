import { redactCredentials } from '../util/redact.js';
import { COMPATIBILITY, SchemaRegistry, SchemaType } from '@kafkajs/confluent-schema-registry';
import { physicalTopic, topicSpecs, type LogicalTopic } from '../contracts/topics.js';
import { schemaText } from '../contracts/schemas.js';
import { registryAccess, registryClientArgs, registryRequest, type RegistryAccess } from './access.js';

export function subjectFor(namespace: string, topic: LogicalTopic): string {
  return `${physicalTopic(namespace, topic)}-value`;
}

/**
 * What the registry checks each new version of a subject against. memberflow's outputs: both
 * ways, over every earlier version, so a reader generated from any earlier schema reads new
 * records (enums carry a default symbol for that) and a new reader reads old ones. The input
 * activity.events: backward, as its reader memberflow needs (upstream owns that contract).
 */
export function compatibilityFor(topic: LogicalTopic): COMPATIBILITY {
  return topic === 'activity.events' ? COMPATIBILITY.BACKWARD : COMPATIBILITY.FULL_TRANSITIVE;
}

export class RegistryError extends Error {
  override name = 'RegistryError';
  readonly retriable: boolean;
  constructor(message: string, options: { cause?: unknown; retriable: boolean }) {
    super(message, { cause: options.cause });
    this.retriable = options.retriable;
  }
}

/**
 * Confluent-framed Avro through a Confluent-compatible registry. Schema ids
 * are resolved once at start (registering the schemas), never per message.
 */
/** A registry client error as text: its message, or its status and body (the client may throw a plain object). */
export function describeRegistryError(err: unknown): string {
  if (err instanceof Error) return err.message;
  if (typeof err === 'object' && err !== null) {
    const { status, message } = err as { status?: unknown; message?: unknown };
    const parts = [
      // eslint-disable-next-line @typescript-eslint/no-base-to-string -- whatever the client threw as status (an HTTP code), as text
      status === undefined ? '' : `status ${String(status)}`,
      typeof message === 'string' ? message : '',
    ].filter(Boolean);
    if (parts.length > 0) return parts.join(': ');
  }
  return 'the registry refused the request';
}

export class AvroCodec {
  private readonly ids = new Map<LogicalTopic, number>();
  readonly registry: SchemaRegistry;

  readonly registryUrl: string;
  private readonly access: RegistryAccess;

  constructor(
    /** The registry's URL, or the URL with credentials and a CA (registry/access.ts). */
    access: string | RegistryAccess,
    private readonly namespace: string,
  ) {
    this.access = registryAccess(access);
    this.registryUrl = this.access.url;
    this.registry = new SchemaRegistry({
      ...registryClientArgs(this.access),
      retry: { retries: 5, initialRetryTimeInSecs: 0.2 },
    });
  }

  /**
   * Registers every topic's schema under `<topic>-value` and caches the ids. A new subject gets
   * the compatibility of `compatibilityFor`; one that exists keeps the level it has (a subject
   * first registered by an older memberflow stays BACKWARD until its operators raise it).
   */
  async registerAll(
    topics: readonly LogicalTopic[] = topicSpecs.map((s) => s.logical),
  ): Promise<Map<LogicalTopic, number>> {
    for (const topic of topics) {
      const subject = subjectFor(this.namespace, topic);
      try {
        const compatibility = (await this.subjectCompatibility(subject)) ?? compatibilityFor(topic);
        const { id } = await this.registry.register(
          { type: SchemaType.AVRO, schema: schemaText(topic) },
          { subject, compatibility },
        );
        this.ids.set(topic, id);
      } catch (err) {
        throw new RegistryError(
          redactCredentials(
            `cannot register schema for subject ${subject} at ${this.registryUrl}: ${describeRegistryError(err)}`,
          ),
          {
            cause: err,
            retriable: false,
          },
        );
      }
    }
    return new Map(this.ids);
  }

  /** The compatibility level set on a subject, or null for a subject the registry does not know yet. */
  async subjectCompatibility(subject: string): Promise<COMPATIBILITY | null> {
    const res = await registryRequest(this.access, 'GET', `/config/${encodeURIComponent(subject)}`);
    if (res.status === 404) return null;
    if (res.status < 200 || res.status > 299)
      throw new Error(`the registry answered ${res.status} when asked the compatibility of ${subject}`);
    const level = (res.body as { compatibilityLevel?: string } | null)?.compatibilityLevel?.toUpperCase();
    // eslint-disable-next-line @typescript-eslint/no-unsafe-enum-assignment -- COMPATIBILITY's values are the registry's own level names
    return level === undefined ? null : (level as COMPATIBILITY);
  }

  schemaId(topic: LogicalTopic): number {
    const id = this.ids.get(topic);
    if (id === undefined)
      throw new RegistryError(`schema for ${topic} not registered; call registerAll() at start`, { retriable: false });
    return id;
  }

  async encode(topic: LogicalTopic, value: Record<string, unknown>): Promise<Buffer> {
    return this.registry.encode(this.schemaId(topic), value);
  }

  /** Decodes a Confluent-framed Avro payload (magic byte 0, 4-byte schema id, body). */
  async decode(buffer: Buffer): Promise<unknown> {
    return this.registry.decode(buffer);
  }
}

export function isConfluentFramed(buffer: Buffer): boolean {
  return buffer.length >= 5 && buffer[0] === 0;
}
