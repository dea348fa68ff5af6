// The Worker of channel.ts: squares each job until the job channel is closed and drained.
import { type AtomicDescriptor, Channel } from "shared-atomic";

interface Job {
  jobs: AtomicDescriptor;
  results: AtomicDescriptor;
}

// A Worker's global scope, typed so this file checks in Bun and Deno alike.
const scope = globalThis as unknown as { onmessage: (e: MessageEvent<Job>) => void; postMessage(m: unknown): void };

scope.onmessage = async ({ data }) => {
  const jobs = Channel.from(data.jobs);
  const results = Channel.from(data.results);
  let handled = 0;
  for await (const message of jobs) {
    const { n } = JSON.parse(new TextDecoder().decode(message));
    results.send(JSON.stringify({ n, square: n * n }));
    handled++;
  }
  scope.postMessage(handled);
};
