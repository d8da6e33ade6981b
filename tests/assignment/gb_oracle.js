// The GrowthBook JavaScript SDK as an oracle for tinylift's tests.
//
//   node gb_oracle.js features <apiHost> <clientKey> <in.json> <out.json>
//     fetches the payload from a running server as any browser would (init),
//     then for each attribute set of in.json's "users" evaluates every feature
//     named in "keys": the variant key when the user is in the experiment,
//     null otherwise. Exposures reported by the tracking callback are counted.
//   node gb_oracle.js functions <in.json> <out.json>
//     answers the conformance cases of in.json, section by section.
"use strict";
const fs = require("fs");
const path = require("path");
const gbPkg = require("@growthbook/growthbook");
const { GrowthBook } = gbPkg;

async function features(apiHost, clientKey, input, output) {
  const { keys, users, track, collectorKey } = JSON.parse(fs.readFileSync(input, "utf8"));
  // the README's set-up: the tracking callback sends each exposure to the collector
  let exposures = [];
  const gb = new GrowthBook({
    apiHost,
    clientKey,
    trackingCallback: (experiment, result) => {
      exposures.push({
        experiment_key: experiment.key,
        variant_key: result.key,
        unit_id: String(result.hashValue),
        timestamp: new Date().toISOString(),
      });
    },
  });
  const res = await gb.init({ timeout: 30000 });
  if (!res.success) throw new Error("could not load the payload: " + JSON.stringify(res));
  if (!keys.every((k) => k in gb.getFeatures())) throw new Error("features are missing");
  const rows = [];
  const posted = [];
  for (let i = 0; i < users.length; i++) {
    await gb.setAttributes(users[i]);
    rows.push(
      keys.map((k) => {
        const r = gb.evalFeature(k);
        return r.source === "experiment" && r.experimentResult ? r.experimentResult.key : null;
      }),
    );
    if (i < track) posted.push(...exposures);
    exposures = [];
  }
  gb.destroy();
  const accepted = [];
  const rejected = [];
  for (let start = 0; start < posted.length; start += 500) {
    const batch = posted.slice(start, start + 500);
    const r = await fetch(apiHost + "/api/exposures", {
      method: "POST",
      headers: { "Content-Type": "application/json", "X-API-Key": collectorKey },
      body: JSON.stringify(batch),
    });
    if (!r.ok) throw new Error("the collector answered " + r.status + ": " + (await r.text()));
    const answer = await r.json();
    const refused = new Set(answer.rejected.map((x) => x.index));
    for (const x of answer.rejected) rejected.push([batch[x.index].unit_id, x.field, x.reason]);
    batch.forEach((e, i) => {
      if (!refused.has(i)) accepted.push([e.experiment_key, e.variant_key, e.unit_id]);
    });
  }
  fs.writeFileSync(output, JSON.stringify({ rows, accepted, rejected }));
}

function runCase(ctx, experiment) {
  const gb = new GrowthBook({ ...ctx, trackingCallback: () => {} });
  const r = gb.run(experiment);
  gb.destroy();
  return r.inExperiment ? r.variationId : -1;
}

function featureCase(ctx, key) {
  const gb = new GrowthBook({ ...ctx, trackingCallback: () => {} });
  const r = gb.evalFeature(key);
  gb.destroy();
  return { value: r.value === undefined ? null : r.value, source: r.source };
}

class MemoryStickyBuckets extends gbPkg.StickyBucketService {
  constructor(docs) {
    super();
    this.docs = { ...docs };
  }
  async getAssignments(attributeName, attributeValue) {
    return this.docs[`${attributeName}||${attributeValue}`] || null;
  }
  async saveAssignments(doc) {
    this.docs[`${doc.attributeName}||${doc.attributeValue}`] = doc;
  }
}

async function stickyCase(ctx, docs, key) {
  const store = new MemoryStickyBuckets(docs);
  const gb = new GrowthBook({ ...ctx, stickyBucketService: store, trackingCallback: () => {} });
  await gb.setAttributes(ctx.attributes || {}); // loads the unit's sticky buckets
  const r = gb.evalFeature(key);
  await new Promise((resolve) => setTimeout(resolve, 0)); // let the save run
  gb.destroy();
  return { value: r.source === "experiment" ? r.experimentResult.key : null, docs: store.docs };
}

// the SDK's hashing helpers are not exported from the package's entry point
const util = require(path.join(path.dirname(require.resolve("@growthbook/growthbook")), "util.js"));

async function functions(input, output) {
  const cases = JSON.parse(fs.readFileSync(input, "utf8"));
  const out = {};
  out.hash = cases.hash.map(([seed, value, version]) => util.hash(seed, value, version));
  out.getBucketRange = cases.getBucketRange.map(([, args]) => util.getBucketRanges(...args));
  out.chooseVariation = cases.chooseVariation.map(([, n, ranges]) =>
    util.chooseVariation(n, ranges),
  );
  out.inNamespace = cases.inNamespace.map(([, id, ns]) => util.inNamespace(id, ns));
  out.getEqualWeights = cases.getEqualWeights.map(([n]) => util.getEqualWeights(n));
  out.evalCondition = cases.evalCondition.map(([, cond, attrs, groups]) =>
    gbPkg.evalCondition(attrs, cond, groups || {}),
  );
  out.run = cases.run.map(([, ctx, exp]) => runCase(ctx, exp));
  out.feature = cases.feature.map(([, ctx, key]) => featureCase(ctx, key));
  out.stickyBucket = [];
  for (const [, ctx, docs, key] of cases.stickyBucket) {
    out.stickyBucket.push(await stickyCase(ctx, docs, key));
  }
  fs.writeFileSync(output, JSON.stringify(out));
}

const [mode, ...args] = process.argv.slice(2);
(mode === "features" ? features(...args) : functions(...args)).catch((e) => {
  console.error(e && e.stack ? e.stack : e);
  process.exit(1);
});
