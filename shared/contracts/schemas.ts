/** The Avro schemas of the topics (schemas/<topic>.avsc), as text and as local avsc types. */
import { readFileSync } from 'node:fs';
import avro from 'avsc';
import type { LogicalTopic } from './topics.js';

const schemaDir = new URL('../../schemas/', import.meta.url);

/** The Avro schema text of a topic, from `schemas/<topic>.avsc`. */
export function schemaText(topic: LogicalTopic): string {
  return readFileSync(new URL(`${topic}.avsc`, schemaDir), 'utf8');
}

const localTypes = new Map<LogicalTopic, avro.Type>();
/** A local avsc type for a topic, for validating JSON input without the registry. */
export function avroType(topic: LogicalTopic): avro.Type {
  let type = localTypes.get(topic);
  if (!type) {
    type = avro.Type.forSchema(JSON.parse(schemaText(topic)) as avro.Schema);
    localTypes.set(topic, type);
  }
  return type;
}
