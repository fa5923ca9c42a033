// The AWS SDK for JavaScript v3 against `credchain serve`: node client.js SECONDS [INTERVAL]
//
// Configured only by the environment (AWS_CONTAINER_CREDENTIALS_FULL_URI and
// AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE). One fromNodeProviderChain() provider for the whole
// run, as an application keeps one, so the SDK's own memoization (credentials treated as
// expired 5 minutes before their expiry) is what runs; the chain reaches the container
// endpoint through @aws-sdk/credential-provider-http's fromHttp. Each iteration prints one JSON
// line: {"t", "access_key_id", "expiration"} or {"t", "error"}.
"use strict";
const { fromNodeProviderChain } = require("@aws-sdk/credential-providers");

async function main() {
  const seconds = Number(process.argv[2]);
  const interval = process.argv.length > 3 ? Number(process.argv[3]) : 0.5;
  const end = Date.now() + seconds * 1000;
  const provider = fromNodeProviderChain();
  for (;;) {
    let line;
    try {
      const creds = await provider();
      line = {
        t: Date.now() / 1000,
        access_key_id: creds.accessKeyId,
        expiration: creds.expiration ? creds.expiration.getTime() / 1000 : null,
      };
    } catch (err) {
      line = { t: Date.now() / 1000, error: `${err && err.name}: ${err && err.message}` };
    }
    process.stdout.write(JSON.stringify(line) + "\n");
    if (Date.now() + interval * 1000 >= end) return;
    await new Promise((resolve) => setTimeout(resolve, interval * 1000));
  }
}

main().then(
  () => process.exit(0),
  (err) => {
    process.stderr.write(`client failed: ${err && err.stack}\n`);
    process.exit(1);
  },
);
