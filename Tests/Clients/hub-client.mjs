// The runs hub as a JavaScript client sees it (Tests/Api/JavaScriptHubClientTests.cs): connects with
// @microsoft/signalr, joins every run's events, starts a run over REST, collects events until that run finishes and
// prints them as one JSON line. Usage: node hub-client.mjs <service url> <datasetId> <modelId>; the key in EXPERIMENTS_KEY.
import * as signalR from "@microsoft/signalr";

const [service, datasetId, modelId] = process.argv.slice(2);
const key = process.env.EXPERIMENTS_KEY;
const hub = new signalR.HubConnectionBuilder()
  .withUrl(new URL("hubs/runs", service).href, key ? { accessTokenFactory: () => key } : {})
  .configureLogging(signalR.LogLevel.Warning)
  .build();

const events = [];
let runId;
let finish;
const finished = new Promise(resolve => { finish = resolve; });
for (const name of ["RunStatusChanged", "EpochCompleted", "BatchProgress", "LogLine"]) {
  hub.on(name, payload => {
    events.push({ event: name, payload });
    if (name === "RunStatusChanged" && payload.runId === runId && ["succeeded", "failed", "cancelled"].includes(payload.status)) {
      finish();
    }
  });
}

await hub.start();
await hub.invoke("JoinAll");
const response = await fetch(new URL("api/runs", service), {
  method: "POST",
  headers: { "Content-Type": "application/json", ...(key ? { Authorization: `Bearer ${key}` } : {}) },
  body: JSON.stringify({ datasetId, modelId, optimizer: { type: "adam", lr: 0.01 }, loss: { type: "crossEntropy" }, epochs: 4, batchSize: 16 }),
});
if (response.status !== 202) {
  console.error(`POST /api/runs answered ${response.status}: ${await response.text()}`);
  process.exit(3);
}
runId = (await response.json()).id;
if (events.some(e => e.event === "RunStatusChanged" && e.payload.runId === runId && ["succeeded", "failed", "cancelled"].includes(e.payload.status))) {
  finish();
}
const timeout = setTimeout(() => { console.error(`run ${runId} did not finish within 120 s; received: ${JSON.stringify(events).slice(0, 2000)}`); process.exit(2); }, 120_000);
await finished;
clearTimeout(timeout);
await hub.stop();
console.log(JSON.stringify({ runId, events }));
