import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { scriptReply } from '../../shared/redis/script-replies.js';

const lua = (name: string) => readFileSync(new URL(`../../shared/redis/lua/${name}`, import.meta.url), 'utf8');

describe("the fenced scripts' replies: named once in Lua, once in TypeScript, the same", () => {
  it('fence.lua and script-replies.ts give each code the same number', () => {
    const named = Object.fromEntries(
      [...lua('fence.lua').matchAll(/^local ([A-Z_]+) = (-?\d+)$/gm)].map((m) => [m[1]!, Number(m[2])]),
    );
    expect(named).toEqual({
      LOST_RACE: scriptReply.lostRace,
      POINTER_MOVED: scriptReply.pointerMoved,
      FENCE_MISSING: scriptReply.fenceMissing,
    });
  });

  it('the scripts return codes by name, never a bare negative number', () => {
    for (const name of ['commit-member.lua', 'mark-applied.lua']) {
      const body = lua(name).replace(/--\[\[[\s\S]*?\]\]/g, '');
      expect(body, name).not.toMatch(/return\s+-\d/);
      expect(body, name).toContain('fenceRefusal(');
    }
  });
});
