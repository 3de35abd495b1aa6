// npm run bench: builds dist/, measures every figure beside its peers, prints it against its target,
// and writes bench/results.md and bench/chart.svg. Nothing here is part of npm test.
// It runs on a snapshot of the working tree (.tmp/bench/), so a dist/ rebuilt meanwhile cannot change its figures.
import { execFileSync } from 'node:child_process'
import { cpSync, mkdirSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { cpus } from 'node:os'
import { measureImportCost } from './import-cost.mjs'
import { NODE, ROOT, bytes, child, ratio } from './lib.mjs'
import { chart, chartPanels, markdownTable, rows } from './report.mjs'
import { measureSizes } from './size.mjs'

if (!process.env.BENCH_OUT) {
  const snapshot = `${ROOT}.tmp/bench/`
  rmSync(snapshot, { recursive: true, force: true })
  mkdirSync(snapshot, { recursive: true })
  const skip = new Set(['.git', '.tmp', 'dist', 'node_modules'])
  for (const path of readdirSync(ROOT).filter((p) => !skip.has(p))) cpSync(`${ROOT}${path}`, `${snapshot}${path}`, { recursive: true })
  symlinkSync(`${ROOT}node_modules`, `${snapshot}node_modules`)
  execFileSync(NODE, [`${snapshot}bench/run.mjs`], { cwd: snapshot, stdio: 'inherit', env: { ...process.env, BENCH_OUT: `${ROOT}bench/` } })
  rmSync(snapshot, { recursive: true, force: true })
  process.exit(0)
}
const OUT = process.env.BENCH_OUT

const started = performance.now()
const step = (name) => console.log(`\n## ${name} (${((performance.now() - started) / 1000).toFixed(0)} s)`)
const version = (pkg) => JSON.parse(readFileSync(`${ROOT}node_modules/${pkg}/package.json`, 'utf8')).version

step('build')
execFileSync(NODE, ['build.mjs'], { cwd: ROOT, stdio: 'inherit' })

step('size')
const size = await measureSizes()
console.log(`main ${bytes(size.main.gzip)}, builders ${bytes(size.builders.gzip)}, official ${bytes(size.official.gzip)}, oauth4webapi ${bytes(size.oauthWhole.gzip)} / ${bytes(size.oauthRefresh.gzip)}`)

step('import cost')
const importCost = await measureImportCost()
const summary = (ic) => Object.entries(ic.ms).map(([k, v]) => `${k} ${v.toFixed(1)} ms (${ratio(ic.ratio[k])})`).join(', ')
console.log(`plain environment: ${summary(importCost)}`)
const extra = ['NODE_OPTIONS', 'NODE_EXTRA_CA_CERTS'].filter((name) => process.env[name])
const importCostHere = extra.length ? await measureImportCost({ rounds: 15, env: process.env, memory: false }) : undefined
if (importCostHere) console.log(`with this shell's ${extra.join(' and ')}: ${summary(importCostHere)}`)

step('hot path')
const hot = child('hot-path.mjs')
console.log(`token() ${ratio(hot.ratio)} of async constant`)

step('session.fetch overhead')
const fetchOverhead = child('fetch-overhead.mjs')
console.log(`session.fetch ${ratio(fetchOverhead.ratio)} of plain fetch`)

step('requests per callers')
const callers = child('callers.mjs')
console.log(`ours ${callers.ours.cold.requests} + ${callers.ours.renewal.requests}, official ${callers.official.cold.requests} + ${callers.official.renewal.requests}`)

step('memory')
const memory = child('memory.mjs', ['--expose-gc'])
console.log(`${memory.beyondStrings.toFixed(0)} B per session beyond its token strings`)

const figures = { size, importCost, hot, fetchOverhead, callers, memory }
const list = rows(figures)
const seconds = (performance.now() - started) / 1000
step('results')
for (const r of list) console.log(`${r.verdict.padEnd(22)} ${r.figure}: ${r.ours} | must ${r.must}, aim ${r.aim} | ${r.peers}`)

const nodeVersion = execFileSync(NODE, ['--version'], { encoding: 'utf8' }).trim()
const machine = `${cpus().length} × ${cpus()[0]?.model.trim() ?? 'unknown CPU'}`
const inputs = (b) => b.inputs.map((i) => `${i.file} ${bytes(i.bytes)}`).join(', ')
writeFileSync(`${OUT}results.md`, `# Benchmark results

Written by \`npm run bench\` on ${new Date().toISOString().slice(0, 10)}, Node ${nodeVersion}, ${machine}; the whole run took ${seconds.toFixed(0)} s.
Peers: @api.video/nodejs-client ${version('@api.video/nodejs-client')} (axios ${version('axios')}), oauth4webapi ${version('oauth4webapi')}. Every figure is measured beside its baseline in the same run; times are medians of interleaved rounds, ratios medians of per-round ratios.

${markdownTable(list)}

![Size and import cost against the peers](chart.svg)

## Details

- **Size** (esbuild ${version('esbuild')}, ES2022, minified, gzip level 9; ours on the neutral platform, split at dynamic imports as \`dist/\` is). The main entry file holds, minified: ${inputs(size.main)}. Loaded on first use: ${size.main.chunks.map((c) => `${c.file} ${bytes(c.gzip)}`).join(', ') || 'nothing'}. The builders alone: ${inputs(size.builders)}. The official client's auth path (\`new ApiVideoClient({ apiKey }).getAccessToken()\`) for the neutral platform: ${size.officialNeutral.error ?? bytes(size.officialNeutral.gzip)}; for the node platform ${bytes(size.official.gzip)}. oauth4webapi's refresh subset is \`refreshTokenGrantRequest\` + \`processRefreshTokenResponse\`.
- **Import cost** (${importCost.rounds} rounds, each \`node -e\` process spawned and awaited, in a plain environment: no \`NODE_OPTIONS\`, no \`NODE_EXTRA_CA_CERTS\`): empty Node ${importCost.ms.empty.toFixed(1)} ms; \`import('./bench/fixtures/empty.mjs')\`, an empty ES module, ${importCost.ms.emptyModule.toFixed(1)} ms (${ratio(importCost.ratio.emptyModule)}): what Node charges for any first ES module file; \`import('apivideo-auth')\` ${importCost.ms.ours.toFixed(1)} ms (${ratio(importCost.ratio.ours)}; ${ratio(importCost.oursOverEmptyModule)} of the empty module); \`require('apivideo-auth')\` ${importCost.ms.oursCjs.toFixed(1)} ms (${ratio(importCost.ratio.oursCjs)}); the official client ${importCost.ms.official.toFixed(1)} ms (${ratio(importCost.ratio.official)}). Peak RSS (maxRSS printed by the process): empty ${importCost.rssMB.empty.toFixed(1)} MB, empty module ${importCost.rssMB.emptyModule.toFixed(1)} MB, ours ${importCost.rssMB.ours.toFixed(1)} MB (CJS ${importCost.rssMB.oursCjs.toFixed(1)} MB), official ${importCost.rssMB.official.toFixed(1)} MB.${importCostHere ? ` With this machine's ${extra.join(' and ')} left in place (${importCostHere.rounds} rounds): empty Node ${importCostHere.ms.empty.toFixed(1)} ms, empty module ${ratio(importCostHere.ratio.emptyModule)}, ours ${ratio(importCostHere.ratio.ours)} (CJS ${ratio(importCostHere.ratio.oursCjs)}), official ${ratio(importCostHere.ratio.official)}.` : ''}
- **Hot path** (${hot.rounds} rounds of ${hot.batch.toLocaleString('en-US')} awaited calls per variant, one loop): \`session.token()\` ${(hot.ops.token / 1e6).toFixed(1)} M/s, \`async () => constant\` ${(hot.ops.constant / 1e6).toFixed(1)} M/s, \`async () => (Date.now(), constant)\` ${(hot.ops.clock / 1e6).toFixed(1)} M/s: reading the clock, which any expiring cache must, is ${ratio(hot.clockRatio)} of the baseline by itself; \`token()\` is ${ratio(hot.overClock)} of that floor.
- **session.fetch** (${fetchOverhead.rounds} rounds of ${fetchOverhead.batch} sequential GETs per variant to a node:http server in another process, body read): ${fetchOverhead.perSecond.session.toFixed(0)} vs ${fetchOverhead.perSecond.plain.toFixed(0)} requests/s; the server saw ${JSON.stringify(fetchOverhead.requests)}.
- **Requests per callers**: ${callers.callers.toLocaleString('en-US')} concurrent \`token()\` calls on a cold session made ${callers.ours.cold.requests} request (${callers.ours.cold.paths.join(', ')}), all callers got the same token; one minute before expiry (fake clock), ${callers.ours.renewal.requests} (${callers.ours.renewal.paths.join(', ')}). The official client (\`baseUri\` pointed at a loopback stand-in) sent ${callers.official.cold.requests.toLocaleString('en-US')} requests to ${callers.official.cold.paths.join(', ')} for the same callers (${callers.official.cold.basicAuth.toLocaleString('en-US')} with Basic credentials, ${callers.official.cold.failed} failed, ${callers.official.cold.distinctTokens.toLocaleString('en-US')} distinct tokens, ${(callers.official.cold.ms / 1000).toFixed(1)} s), and ${callers.official.renewal.requests.toLocaleString('en-US')} again for a second burst: it keeps no token.
- **Memory** (${memory.sessions.toLocaleString('en-US')} sessions, one-letter tokens, heapUsed after forced GC, slots preallocated): ${memory.perSession.toFixed(0)} B per session, of which the token strings ${memory.tokenStringsPerSession.toFixed(0)} B (one-letter strings are V8's shared single-character strings), leaving ${memory.beyondStrings.toFixed(0)} B.
`)
writeFileSync(`${OUT}chart.svg`, chart(chartPanels(figures)))
console.log(`\nwrote bench/results.md and bench/chart.svg in ${seconds.toFixed(0)} s`)
