// Runs the browser scenarios (all, or those named on the command line) and writes results.json.
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ARTIFACTS, Evidence, launch, resetLanguages } from "./harness.mjs";
import { SCENARIOS } from "./scenarios.mjs";

const wanted = process.argv.slice(2);
const names = wanted.length > 0 ? wanted : Object.keys(SCENARIOS);
mkdirSync(ARTIFACTS, { recursive: true });
await resetLanguages(["doctor.ki", "doctor.sermas", "patient.es", "patient.se", "ops.admin", "dpo.sermas"]);
const browser = await launch();
const results = {};
try {
  for (const name of names) {
    const started = Date.now();
    const evidence = new Evidence(name);
    try {
      const outcome = await SCENARIOS[name](browser, evidence);
      results[name] = outcome?.skip ? { status: "skipped", reason: outcome.skip } : { status: "passed" };
      await browser.endScenario(null);
    } catch (error) {
      results[name] = { status: "failed", reason: String(error?.stack ?? error) };
      await browser.endScenario(evidence.dir);
    }
    results[name].seconds = (Date.now() - started) / 1000;
    results[name].screenshots = evidence.dir;
    console.log(`${results[name].status.toUpperCase()} ${name} (${results[name].seconds.toFixed(1)} s)`);
    if (results[name].status === "failed") console.log(results[name].reason);
  }
} finally {
  await browser.close();
  writeFileSync(join(ARTIFACTS, "results.json"), JSON.stringify(results, null, 2));
}
