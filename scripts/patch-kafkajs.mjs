// Runs after `npm ci` (package.json postinstall): fixes kafkajs 2.2.4's read_committed filter.
//
// kafkajs drops records of aborted transactions by walking the fetch's aborted-transaction list
// (sorted by first offset) as it walks the records, but it takes at most one entry per record:
// when two aborted transactions begin at or before one record (several transactional producers
// write one partition, and a fetch starts past their first offsets), the second producer is not
// marked, and its aborted records reach the consumer as if committed. memberflow writes every
// output partition from one transactional producer per input partition, so this happens after
// any crash: the fault suite found an aborted copy applied downstream. Java's consumer takes every
// entry whose first offset is at or below the record (Fetcher: abortedProducerIds). So does this.
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

const require = createRequire(import.meta.url);
const root = dirname(require.resolve('kafkajs/package.json'));
const version = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).version;
const file = join(root, 'src/consumer/filterAbortedMessages.js');
const source = readFileSync(file, 'utf8');
const before = `  const remainingAbortedTransactions = [...abortedTransactions]`;
const after = `  // memberflow (scripts/patch-kafkajs.mjs): in first-offset order, every entry a record has reached.
  const remainingAbortedTransactions = [...abortedTransactions].sort((a, b) =>
    Long.fromValue(a.firstOffset).compare(Long.fromValue(b.firstOffset))
  )`;
const loopBefore = `    if (
      remainingAbortedTransactions.length &&`;
const loopAfter = `    while (
      remainingAbortedTransactions.length &&`;
if (source.includes(after) && source.includes(loopAfter)) process.exit(0);
if (version !== '2.2.4' || !source.includes(before) || !source.includes(loopBefore)) {
  console.error(`scripts/patch-kafkajs.mjs: kafkajs ${version} is not the 2.2.4 this patch was written for; check its read_committed filter (src/consumer/filterAbortedMessages.js) and update the patch`);
  process.exit(1);
}
writeFileSync(file, source.replace(before, after).replace(loopBefore, loopAfter));
console.log('kafkajs: read_committed filter patched (scripts/patch-kafkajs.mjs)');
