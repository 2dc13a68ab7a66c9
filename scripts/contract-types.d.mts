// Types of scripts/contract-types.mjs for the test that imports it.
export interface TopicSchema {
  topic: string;
  schema: unknown;
}
export const generatedPath: string;
export function contractTypes(schemas: TopicSchema[]): string;
export function readSchemas(dir?: string): TopicSchema[];
