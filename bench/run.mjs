// npm run bench: builds dist/, measures every figure beside its peers, prints it against its target,
// and writes bench/results.md and bench/chart.svg. Nothing here is part of npm test.
// It runs on a snapshot of the working tree (.tmp/bench/), so a dist/ rebuilt meanwhile cannot change its figures.
import { execFileSync } from 'node:child_process'
import { cpSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { cpus } from 'node:os'
import { measureImportCost } from './import-cost.mjs'
import { NODE, ROOT, bytes, child, ratio } from './lib.mjs'
import { chart, chartPanels, markdownTable, rows } from './report.mjs'
import { measureSizes } from './size.mjs'
import { measureRateFleet } from './rate-fleet.mjs'

if (!process.env.BENCH_OUT) {
  // The peers only the bench measures live in bench/package.json, installed on the first run from its lock file.
  if (!existsSync(`${ROOT}bench/node_modules`)) {
    console.log('installing the bench peers (bench/package.json, once)')
    execFileSync('npm', ['ci', '--no-audit', '--no-fund', '--loglevel=error'], {
      cwd: `${ROOT}bench`,
      stdio: ['ignore', 'inherit', 'inherit'],
    })
  }
  const snapshot = `${ROOT}.tmp/bench/`
  rmSync(snapshot, { recursive: true, force: true })
  mkdirSync(snapshot, { recursive: true })
  const skip = new Set(['.git', '.tmp', 'dist', 'node_modules'])
  const copied = (source) => !source.startsWith(`${ROOT}bench/node_modules`)
  for (const path of readdirSync(ROOT).filter((p) => !skip.has(p)))
    cpSync(`${ROOT}${path}`, `${snapshot}${path}`, { recursive: true, filter: copied })
  symlinkSync(`${ROOT}node_modules`, `${snapshot}node_modules`)
  symlinkSync(`${ROOT}bench/node_modules`, `${snapshot}bench/node_modules`)
  execFileSync(NODE, [`${snapshot}bench/run.mjs`], {
    cwd: snapshot,
    stdio: 'inherit',
    env: { ...process.env, BENCH_OUT: `${ROOT}bench/` },
  })
  rmSync(snapshot, { recursive: true, force: true })
  process.exit(0)
}
const OUT = process.env.BENCH_OUT

const started = performance.now()
const step = (name) => console.log(`\n## ${name} (${((performance.now() - started) / 1000).toFixed(0)} s)`)
/** A package's version, from the root's node_modules or the bench's own (bench/package.json). */
const version = (pkg) => {
  const file = [`${ROOT}node_modules/${pkg}/package.json`, `${ROOT}bench/node_modules/${pkg}/package.json`].find(
    existsSync,
  )
  return JSON.parse(readFileSync(file, 'utf8')).version
}

step('build')
execFileSync(NODE, ['build.mjs'], { cwd: ROOT, stdio: 'inherit' })

step('size')
const size = await measureSizes()
console.log(
  `whole core ${bytes(size.core.gzip)}, builders ${bytes(size.builders.gzip)}, ` +
    `official ${bytes(size.official.gzip)}, ` +
    `oauth4webapi ${bytes(size.oauthWhole.gzip)} / ${bytes(size.oauthRefresh.gzip)}`,
)

step('import cost')
const importCost = await measureImportCost()
const summary = (ic) =>
  Object.entries(ic.ms)
    .map(([k, v]) => `${k} ${v.toFixed(1)} ms (${ratio(ic.overEmptyModule[k])} of the empty module)`)
    .join(', ')
console.log(`plain environment: ${summary(importCost)}`)
const extra = ['NODE_OPTIONS', 'NODE_EXTRA_CA_CERTS'].filter((name) => process.env[name])
const importCostHere = extra.length
  ? await measureImportCost({ rounds: 15, env: process.env, memory: false })
  : undefined
if (importCostHere) console.log(`with this shell's ${extra.join(' and ')}: ${summary(importCostHere)}`)

step('hot path')
const hot = child('hot-path.mjs')
console.log(`token() ${ratio(hot.ratio)} of async constant`)

step('session.fetch overhead')
const fetchOverhead = child('fetch-overhead.mjs')
console.log(`session.fetch ${ratio(fetchOverhead.ratio)} of plain fetch`)

step('webhook verification')
const webhooks = child('webhooks.mjs')
console.log(
  `verifyWebhook ${webhooks.perSecond.verifyWebhook.toFixed(0)}/s, createHmac + timingSafeEqual ` +
    `${webhooks.perSecond.createHmac.toFixed(0)}/s: ${ratio(webhooks.ratio)} of the baseline's rate`,
)

step('who sends the API key')
const callers = child('callers.mjs')
console.log(
  `requests that carried the API key: ours ${callers.ours.carriedApiKey}, ` +
    `official ${callers.official.carriedApiKey} (${callers.calls} API calls each)`,
)

step('simulated day')
const day = child('day.mjs')
console.log(
  `${day.days} days of ${day.bursts.toLocaleString('en-US')} bursts: ` +
    `bursts that waited on a renewal ${day.waitedAfterFirstToken}, auth requests ${day.authMin} to ${day.authMax}, ` +
    `least time left on a token served ${(day.leastLeftMs / 1000).toFixed(0)} s`,
)

step('rate-limit fleet')
const rateFleet = await measureRateFleet()
for (const [name, run] of Object.entries(rateFleet.runs))
  console.log(
    `${name}: callers without a 200 ${run.notOk}, 429 answers ${run.tooMany}, ` +
      `budget used ${(run.used * 100).toFixed(0)}% (${run.seconds.toFixed(1)} s), auth requests ${run.auth}`,
  )

step('memory')
const memory = child('memory.mjs', ['--expose-gc'])
console.log(`${memory.beyondStrings.toFixed(0)} B per session beyond its token strings`)

const figures = { size, importCost, hot, fetchOverhead, webhooks, callers, day, memory, rateFleet }
const list = rows(figures)
const seconds = (performance.now() - started) / 1000
step('results')
for (const r of list)
  console.log(`${r.verdict.padEnd(22)} ${r.figure}: ${r.ours} | must ${r.must}, aim ${r.aim} | ${r.peers}`)

const nodeVersion = execFileSync(NODE, ['--version'], { encoding: 'utf8' }).trim()
const machine = `${cpus().length} × ${cpus()[0]?.model.trim() ?? 'unknown CPU'}`
const inputs = (b) => b.inputs.map((i) => `${i.file} ${bytes(i.bytes)}`).join(', ')
const CALLERS_SOURCE = 'bench/callers.mjs'
const dayList = (pick) => day.perDay.map(pick).join(', ')
/** The values the days gave, each once: '27', or '27 or 28'. */
const dayValues = (pick) => [...new Set(day.perDay.map(pick))].join(' or ')
const importCostWithThisShell = importCostHere
  ? ` With this machine's ${extra.join(' and ')} left in place (${importCostHere.rounds} rounds): ` +
    `ours ${ratio(importCostHere.overEmptyModule.ours)} of the empty module ` +
    `(CJS ${ratio(importCostHere.overEmptyModule.oursCjs)}), ` +
    `official ${ratio(importCostHere.overEmptyModule.official)}.`
  : ''
const ESBUILD_TO_GZIP_SIZE =
  `npx esbuild --bundle --minify --format=esm --target=es2022 --platform=node | ` +
  `node -p "require('zlib').gzipSync(require('fs').readFileSync(0), { level: 9 }).length"`
const ESBUILD_NEUTRAL_TO_GZIP_SIZE =
  `npx esbuild --bundle --minify --format=esm --target=es2022 --platform=neutral | ` +
  `node -p "require('zlib').gzipSync(require('fs').readFileSync(0), { level: 9 }).length"`
const resultsMarkdown = [
  `# Benchmark results`,
  ``,
  `Written by \`npm run bench\` on ${new Date().toISOString().slice(0, 10)}, Node ${nodeVersion}, ${machine}; ` +
    `the whole run took ${seconds.toFixed(0)} s.`,
  `Peers: @api.video/nodejs-client ${version('@api.video/nodejs-client')} (axios ${version('axios')}; ` +
    `a root devDependency, since \`npm test\` runs it against the stand-in), ` +
    `oauth4webapi ${version('oauth4webapi')} (in bench/package.json, installed on the first \`npm run bench\`). ` +
    `Every figure is measured beside its baseline in the same run; ` +
    `times are medians of interleaved rounds, ratios medians of per-round ratios. ` +
    `Every peer figure measures the peer as its users call it; its command is under "Commands".`,
  ``,
  markdownTable(list),
  ``,
  `![Size and import cost against the peers](chart.svg)`,
  ``,
  `## Details`,
  ``,
  `- **Size** (esbuild ${version('esbuild')}, ES2022, minified, one bundle, gzip level 9; ` +
    `ours on the neutral platform). ` +
    `The whole core is the bundle of a virtual entry \`export * from '<repo>/src/index.ts'\`, ` +
    `as a quick-start user bundles it (\`session.fetch\` included); it holds, minified: ${inputs(size.core)}. ` +
    `The builders alone (\`export { authenticateRequest, refreshRequest }\` from the same file): ` +
    `${inputs(size.builders)}. ` +
    `The official client's auth path (\`new ApiVideoClient({ apiKey }).getAccessToken()\`) ` +
    `for the neutral platform: ${size.officialNeutral.error ?? bytes(size.officialNeutral.gzip)}; ` +
    `for the node platform ${bytes(size.official.gzip)}. ` +
    `oauth4webapi's refresh subset is \`refreshTokenGrantRequest\` + \`processRefreshTokenResponse\`.`,
  `- **Import cost** (${importCost.rounds} rounds, each \`node -e\` process spawned and awaited, ` +
    `in a plain environment: no \`NODE_OPTIONS\`, no \`NODE_EXTRA_CA_CERTS\`): ` +
    `\`import('./bench/fixtures/empty.mjs')\`, an empty ES module, ${importCost.ms.emptyModule.toFixed(1)} ms: ` +
    `the baseline, since Node charges any first ES module file the same; ` +
    `\`import('./dist/index.js')\` ${importCost.ms.ours.toFixed(1)} ms ` +
    `(${ratio(importCost.overEmptyModule.ours)} of the empty module); ` +
    `\`require('./dist/index.cjs')\` ${importCost.ms.oursCjs.toFixed(1)} ms ` +
    `(${ratio(importCost.overEmptyModule.oursCjs)}); ` +
    `\`import('@api.video/nodejs-client')\` ${importCost.ms.official.toFixed(1)} ms ` +
    `(${ratio(importCost.overEmptyModule.official)}); ` +
    `an empty Node (\`node -e ''\`) ${importCost.ms.empty.toFixed(1)} ms. ` +
    `Peak RSS (maxRSS printed by the process): empty Node ${importCost.rssMB.empty.toFixed(1)} MB, ` +
    `empty module ${importCost.rssMB.emptyModule.toFixed(1)} MB, ` +
    `ours ${importCost.rssMB.ours.toFixed(1)} MB (CJS ${importCost.rssMB.oursCjs.toFixed(1)} MB), ` +
    `official ${importCost.rssMB.official.toFixed(1)} MB.${importCostWithThisShell}`,
  `- **Hot path** (${hot.rounds} rounds of ${hot.batch.toLocaleString('en-US')} awaited calls per variant, ` +
    `one loop): \`session.token()\` ${(hot.ops.token / 1e6).toFixed(1)} M/s, ` +
    `\`async () => constant\` ${(hot.ops.constant / 1e6).toFixed(1)} M/s, ` +
    `\`async () => (Date.now(), constant)\` ${(hot.ops.clock / 1e6).toFixed(1)} M/s, ` +
    `the same reading the session's clock (\`timeOrigin + performance.now()\` caught up with \`Date.now()\`) ` +
    `${(hot.ops.monotonic / 1e6).toFixed(1)} M/s: reading a clock, which any expiring cache must, is ` +
    `${ratio(hot.clockRatio)} of the baseline by itself; \`token()\` is ${ratio(hot.overMonotonic)} of the ` +
    `floor on its own clock and ${ratio(hot.overClock)} of the floor on \`Date.now()\`.`,
  `- **session.fetch** (${fetchOverhead.rounds} rounds of ${fetchOverhead.batch} sequential GETs per variant ` +
    `to a node:http server in another process, body read): ` +
    `${fetchOverhead.perSecond.session.toFixed(0)} vs ${fetchOverhead.perSecond.plain.toFixed(0)} requests/s; ` +
    `the server saw ${JSON.stringify(fetchOverhead.requests)}.`,
  `- **Webhooks** (${webhooks.rounds} rounds of ${webhooks.batch.toLocaleString('en-US')} awaited ` +
    `verifications per variant, one loop, \`bench/webhooks.mjs\`): ` +
    `a ${webhooks.bodyBytes.toLocaleString('en-US')} B ` +
    `event with Node's lower-case headers and its raw body as a Buffer; ` +
    `\`verifyWebhook(input, { secret })\` (Web Crypto: \`importKey\`, then \`verify\`, each a trip to libuv's ` +
    `thread pool on Node) ${webhooks.perSecond.verifyWebhook.toFixed(0)} verifications/s, ` +
    `\`createHmac\` + \`timingSafeEqual\` then \`JSON.parse\` (synchronous, on the main thread) ` +
    `${webhooks.perSecond.createHmac.toFixed(0)}/s. The add-on (${bytes(size.webhooks.gzip)} min+gzip) ` +
    `holds: ${inputs(size.webhooks)}.`,
  `- **Who sends the API key** (\`${CALLERS_SOURCE}\`): ` +
    `the same ${callers.calls.toLocaleString('en-US')} API calls (\`GET /videos\`: ` +
    `${(callers.calls / 2).toLocaleString('en-US')} concurrent on a cold start, ` +
    `${(callers.calls / 2).toLocaleString('en-US')} more one minute before the token expires, ` +
    `on an injected clock) through an apivideo-auth session (\`session.fetch('/videos')\`) ` +
    `and through the official client as its users call it (\`client.videos.list()\`), ` +
    `each against its own stand-in on 127.0.0.1, counted by the stand-in (\`standIn.counts\`). ` +
    `apivideo-auth: ${callers.ours.carriedApiKey} request carried the API key ` +
    `(${callers.ours.apiKeyRequests} \`POST /auth/api-key\`, ` +
    `then ${callers.ours.refreshRequests} \`POST /auth/refresh\` with the refresh token), ` +
    `${callers.ours.resource.toLocaleString('en-US')} resource requests with a Bearer token, ` +
    `${callers.ours.errors} callers with an error. ` +
    `The official client: ${callers.official.carriedApiKey.toLocaleString('en-US')} requests carried the API key, ` +
    `one per call in a \`Basic\` header, ${callers.official.auth} auth requests, ` +
    `${callers.official.errors} callers with an error.`,
  `- **Simulated day** (\`bench/day.mjs\`, ${day.days} days, each on a fresh session and stand-in): ` +
    `a burst of ${day.callers} concurrent \`session.token()\` calls every ${day.everyMs / 1000} s for 24 h ` +
    `(${day.bursts.toLocaleString('en-US')} bursts), tokens of ${day.lifetimeS} s, every auth answer held ` +
    `${day.latencyMs} ms; the session and the stand-in share a simulated clock (the \`now\` option) that the loop ` +
    `moves, so no real time passes. A burst waited when some of its calls had not resolved before the clock moved ` +
    `on. Worst day: ${day.waitedAfterFirstToken} bursts after the first token waited on a renewal ` +
    `(longest wait ${day.longestWaitMs} ms of simulated time); auth requests a day ${dayValues((d) => d.auth)} ` +
    `(${dayValues((d) => `${d.apiKeyRequests} with the key + ${d.refreshRequests} refreshes`)}), ` +
    `least time left before expiry on a token served ${(day.leastLeftMs / 1000).toFixed(0)} s ` +
    `(per day: ${dayList((d) => `${d.leastLeftMs / 1000} s`)}), ` +
    `${day.errors} callers with an error, ${day.unhandled} unhandled rejections; ` +
    `\`session.settled()\` at the end of each day: ${dayValues((d) => d.settled)} ` +
    `(\`none\`: the session has no \`settled()\`).`,
  `- **Rate-limit fleet** (\`bench/rate-fleet.mjs\`, \`tests/fleet/rate-fleet.mjs\`): ` +
    `${rateFleet.processes} Node processes on one real Redis send ${rateFleet.reads} reads in all, ` +
    `${rateFleet.concurrency} at a time each, to one stand-in on 127.0.0.1 whose read budget is ` +
    `${rateFleet.budget} a second (${rateFleet.reads / rateFleet.budget} s is the floor), sharing their tokens; ` +
    `\`with the share\` also shares the budget (the store's \`increment\`), \`without\` paces each process on its ` +
    `own. ${Object.entries(rateFleet.runs)
      .map(
        ([name, run]) =>
          `${name}: ${run.notOk} callers without a 200, ${run.tooMany} 429 answers ` +
          `(per process ${run.tooManyPerProcess.join(', ')}), budget used ${(run.used * 100).toFixed(0)}% ` +
          `in ${run.seconds.toFixed(1)} s, ${run.auth} auth requests`,
      )
      .join('; ')}.`,
  `- **Memory** (${memory.sessions.toLocaleString('en-US')} sessions, one-letter tokens, ` +
    `heapUsed after forced GCs, each followed by a turn of the event loop so pending FinalizationRegistry ` +
    `callbacks run (undici's \`Request\` registers the signal it follows with one), slots preallocated): ` +
    `${memory.perSession.toFixed(0)} B per session, ` +
    `of which the token strings ${memory.tokenStringsPerSession.toFixed(0)} B ` +
    `(one-letter strings are V8's shared single-character strings), ` +
    `leaving ${memory.beyondStrings.toFixed(0)} B.`,
  ``,
  `## Commands`,
  ``,
  `Every figure comes from \`npm run bench\` (the first run installs bench/package.json with \`npm ci\`). ` +
    `Each peer figure alone (sizes are counted with zlib's gzip at level 9, as the bench does; ` +
    `\`gzip -9\` counts a few bytes fewer):`,
  ``,
  `- Official client's auth path, size: ` +
    `\`printf "import ApiVideoClient from '@api.video/nodejs-client'\\nexport const getAccessToken = ` +
    `(apiKey) => new ApiVideoClient({ apiKey }).getAccessToken()" | ${ESBUILD_TO_GZIP_SIZE}\` ` +
    `(and \`--platform=neutral --main-fields=module,main\` for the neutral attempt).`,
  `- oauth4webapi, size, from bench/: \`echo "export * from 'oauth4webapi'" | ${ESBUILD_NEUTRAL_TO_GZIP_SIZE}\`; ` +
    `the refresh subset with ` +
    `\`export { refreshTokenGrantRequest, processRefreshTokenResponse } from 'oauth4webapi'\`.`,
  `- Official client, import cost: \`node -e "import('@api.video/nodejs-client')"\` ` +
    `against \`node -e "import('./bench/fixtures/empty.mjs')"\`, interleaved (\`bench/import-cost.mjs\`).`,
  `- Official client, requests that carried the API key: \`npm run build && node bench/callers.mjs\` ` +
    `(prints the counts of both clients as JSON).`,
  `- The simulated day alone: \`npm run build && node bench/day.mjs\` (prints every day's figures as JSON).`,
  ``,
].join('\n')
writeFileSync(`${OUT}results.md`, resultsMarkdown)
writeFileSync(`${OUT}chart.svg`, chart(chartPanels(figures)))
console.log(`\nwrote bench/results.md and bench/chart.svg in ${seconds.toFixed(0)} s`)
