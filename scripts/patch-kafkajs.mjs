// Runs after `npm ci` (package.json postinstall): fixes two defects of kafkajs 2.2.4 that break
// exactly-once outputs. Each patch is applied once (a patched file is left alone), and any other
// kafkajs version stops the install: check these places in it and update the patches.
//
// 1. The read_committed filter (src/consumer/filterAbortedMessages.js). kafkajs drops records of
//    aborted transactions by walking the fetch's aborted-transaction list (sorted by first offset)
//    as it walks the records, but it takes at most one entry per record: when two aborted
//    transactions begin at or before one record (several transactional producers write one
//    partition, and a fetch starts past their first offsets), the second producer is not marked,
//    and its aborted records reach the consumer as if committed. memberflow writes every output
//    partition from one transactional producer per input partition, so this happens after any
//    crash: the fault suite found an aborted copy applied downstream. Java's consumer takes every
//    entry whose first offset is at or below the record (Fetcher: abortedProducerIds). So does this.
//
// 2. The retry of a send that spans brokers (src/producer/sendMessages.js). A send makes one
//    request per leader broker and awaits them with Promise.all: when one fails (a leader moved, a
//    transaction still completing), the retry starts at once and sends again to every broker that
//    has no response *yet*, including those whose first request is still in flight. Both requests
//    are written, under different sequence numbers, so the partitions of the slow broker get every
//    record twice, inside one transaction that then commits: the cluster fault suite found copies at
//    read_committed after a partition leader was killed. Every request now settles before a retry,
//    which then goes only to the brokers that failed.
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

const require = createRequire(import.meta.url);
const root = dirname(require.resolve('kafkajs/package.json'));
const version = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).version;

const patches = [
  {
    file: 'src/consumer/filterAbortedMessages.js',
    what: 'read_committed filter',
    edits: [
      [
        `  const remainingAbortedTransactions = [...abortedTransactions]`,
        `  // memberflow (scripts/patch-kafkajs.mjs): in first-offset order, every entry a record has reached.
  const remainingAbortedTransactions = [...abortedTransactions].sort((a, b) =>
    Long.fromValue(a.firstOffset).compare(Long.fromValue(b.firstOffset))
  )`,
      ],
      [
        `    if (
      remainingAbortedTransactions.length &&`,
        `    while (
      remainingAbortedTransactions.length &&`,
      ],
    ],
  },
  {
    file: 'src/producer/sendMessages.js',
    what: 'retry of a send to several brokers',
    edits: [
      [
        `        const requests = await createProducerRequests(responsePerBroker)
        await Promise.all(requests)`,
        `        const requests = await createProducerRequests(responsePerBroker)
        // memberflow (scripts/patch-kafkajs.mjs): every request settles before a retry, else the
        // retry writes again to brokers whose first request is still in flight.
        const failed = (await Promise.allSettled(requests)).find(r => r.status === 'rejected')
        if (failed) throw failed.reason`,
      ],
    ],
  },
];

for (const { file, what, edits } of patches) {
  const path = join(root, file);
  const source = readFileSync(path, 'utf8');
  if (edits.every(([, after]) => source.includes(after))) continue;
  if (version !== '2.2.4' || !edits.every(([before]) => source.includes(before))) {
    console.error(
      `scripts/patch-kafkajs.mjs: kafkajs ${version} is not the 2.2.4 this patch was written for; check its ${what} (${file}) and update the patch`,
    );
    process.exit(1);
  }
  writeFileSync(
    path,
    edits.reduce((s, [before, after]) => s.replace(before, after), source),
  );
  console.log(`kafkajs: ${what} patched (scripts/patch-kafkajs.mjs)`);
}
