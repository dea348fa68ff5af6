// A pool of Workers takes jobs from one Channel and answers on another. The
// main thread closes the job channel once every job is in it: each Worker's
// `for await` loop ends when the channel is closed and drained.
//
//   bun examples/channel.ts          deno run -A examples/channel.ts
import { Channel } from "shared-atomic";

const WORKERS = 3;
const JOBS = 10;

const jobs = Channel.create({ capacity: 4, messageSize: 64 }); // fewer slots than jobs: send waits for room
const results = Channel.create({ capacity: 16, messageSize: 64 });

const url = new URL("./channel.worker.ts", import.meta.url).href;
const workers = Array.from({ length: WORKERS }, () => {
  const worker = new Worker(url, { type: "module" });
  worker.postMessage({ jobs: jobs.descriptor(), results: results.descriptor() });
  return new Promise<number>((resolve) => {
    worker.onmessage = (e) => {
      worker.terminate();
      resolve(e.data);
    };
  });
});

for (let n = 1; n <= JOBS; n++) await jobs.sendAsync(JSON.stringify({ n })); // the event loop keeps running
jobs.close(); // no more jobs: the Workers drain what is left, then stop

const answers: { n: number; square: number }[] = [];
for (let i = 0; i < JOBS; i++) answers.push(JSON.parse((await results.recvTextAsync())!));
answers.sort((a, b) => a.n - b.n);
for (const { n, square } of answers) console.log(`${n}² = ${square}`);
const handled = await Promise.all(workers);
console.log(`jobs handled: ${handled.reduce((a, b) => a + b, 0)} by ${WORKERS} Workers`);
