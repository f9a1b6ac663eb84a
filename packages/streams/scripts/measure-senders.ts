/**
 * Entries per second of each destination sender to its local test receiver: 20,000 entries in
 * batches of 1,000 (the receiver's checks included, as the real services would check). Not a
 * test: a figure for BENCHMARKS.md. Run: `pnpm --filter @auditlog/streams run measure`.
 */
import { randomBytes } from "node:crypto";
import { createDestinationSender, type SenderDeps, type StreamBatch } from "../src/index.ts";
import {
  DatadogIntakeReceiver,
  makeStreamEntries,
  S3TestServer,
  SplunkHecReceiver,
  s3TestCredentials,
  WebhookReceiver,
} from "../test/support/index.ts";

const total = Number(process.argv[2] ?? 20_000);
const batchSize = Number(process.argv[3] ?? 1_000);
const deps: SenderDeps = { allowLocal: true, timeoutMs: 60_000 };
const org = { id: "org_measure", slug: "measure" };
const entries = makeStreamEntries(total, 1);

async function measure(name: string, send: (batch: StreamBatch) => Promise<{ kind: string }>) {
  const started = process.hrtime.bigint();
  const cpuBefore = process.cpuUsage();
  for (let from = 0; from < total; from += batchSize) {
    const outcome = await send({
      streamId: "str_measure",
      org,
      entries: entries.slice(from, from + batchSize),
    });
    if (outcome.kind !== "delivered") throw new Error(`${name}: ${JSON.stringify(outcome)}`);
  }
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  // CPU time of this process, the receiver's work included: the figure a busy machine bends least.
  const cpu = process.cpuUsage(cpuBefore);
  const cpuSeconds = (cpu.user + cpu.system) / 1e6;
  console.log(
    `${name.padEnd(8)} ${total} entries in ${seconds.toFixed(2)} s: ${Math.round(total / seconds)} entries/s ` +
      `(${cpuSeconds.toFixed(2)} CPU s for sender and receiver: ${Math.round(total / cpuSeconds)} entries per CPU second)`,
  );
}

const secret = `whsec_${randomBytes(24).toString("base64")}`;
const webhook = await new WebhookReceiver(secret).start();
const splunk = await new SplunkHecReceiver("measure-token-0001").start();
const datadog = await new DatadogIntakeReceiver("measure-api-key-0001").start();
const s3 = await new S3TestServer("measure").start();
try {
  console.log(`batches of ${batchSize}, each sender to its receiver on 127.0.0.1`);
  const https = createDestinationSender({ type: "https", url: webhook.origin }, secret, deps);
  await measure("https", (b) => https.send(b));
  const hec = createDestinationSender(
    { type: "splunk", url: splunk.origin, sourcetype: "auditlog" },
    splunk.token,
    deps,
  );
  await measure("splunk", (b) => hec.send(b));
  const dd = createDestinationSender(
    {
      type: "datadog",
      site: "datadoghq.com",
      url: `${datadog.origin}/api/v2/logs`,
      service: "auditlog",
      ddsource: "auditlog",
    },
    datadog.apiKey,
    deps,
  );
  await measure("datadog", (b) => dd.send(b));
  const bucket = createDestinationSender(
    {
      type: "s3",
      bucket: s3.bucket,
      prefix: "measure",
      region: "us-east-1",
      endpoint: s3.endpoint,
      forcePathStyle: true,
      accessKeyId: s3TestCredentials.accessKeyId,
    },
    s3TestCredentials.secretAccessKey,
    deps,
  );
  await measure("s3", (b) => bucket.send(b));
  const received = [webhook, splunk, datadog].map((r) => r.entries.length);
  if (received.some((n) => n !== total))
    throw new Error(`receivers got ${received.join(", ")} of ${total}`);
} finally {
  await Promise.all([webhook.stop(), splunk.stop(), datadog.stop(), s3.close()]);
}
