// The recipes' `increment` (the fleet's rate-limit budget), as written: docs/sharing.md's node-redis, ioredis,
// Upstash and Deno KV code blocks, each run unchanged as a program, on the real Redis of the fleet tests (Upstash's
// through tests/fleet/upstash-rest.mjs) and on a real Deno KV file. In the workspace, 'apivideo-auth/share' is the
// counting module of tests/fleet/counting.mjs: before the session's first renewal it runs the test's increments
// through the store the recipe built, and reports what each answered. For each recipe:
// - 4 processes started together, 50 increments each (10 at a time) on one key: the answers are 1 to 200, each once;
// - a 5th process, 10 more with a TTL 10 times longer: 201 to 210, and (Redis) the key's TTL was not set again;
// - then, on a fresh key with a 500 ms TTL, increments one after another until one answers 1 again: the key expired
//   500 ms after its first increment although every increment came well within 500 ms of the one before, so the
//   later increments did not extend it, and a key that expired starts again at 1.
// Run by `npm run test:fleet` (REDIS_URL, or a redis-server binary it starts itself).
import { randomBytes } from 'node:crypto'
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { createClient } from 'redis'
import { createStandIn } from '../../dist/testing.js'
import { exec } from '../../scripts/exec.mjs'
import { listen } from '../../scripts/loopback.mjs'
import { extractBlocks } from '../docs/run.mjs'
import { countingShare, startCollector } from './counting.mjs'
import { findRedis } from './redis.mjs'
import { startUpstashRest } from './upstash-rest.mjs'

const root = fileURLToPath(new URL('../..', import.meta.url))
const PAGE = join(root, 'docs/sharing.md')
const DENO = join(root, 'node_modules/.bin/deno')
const TOGETHER = 4
const EACH = 50
const CONCURRENCY = 10
const TTL_MS = 60_000
const SHORT_TTL_MS = 500
const CHILD_LIMIT = 60_000 // the watchdog kills a process still alive after this

const redis = await findRedis().catch((error) => {
  console.error(`increment: ${error.message}`)
  process.exit(1)
})
const client = await createClient({ url: redis.url })
  .on('error', () => {})
  .connect()
const upstash = await startUpstashRest({ redisUrl: redis.url })
const collector = await startCollector()
const apiKey = `increment-${randomBytes(12).toString('hex')}`
const standIn = createStandIn({ apiKeys: [apiKey] })
const server = await listen(standIn.handler)
const blocks = extractBlocks(readFileSync(PAGE, 'utf8'), PAGE)
mkdirSync(join(root, '.tmp'), { recursive: true })
const work = mkdtempSync(join(root, '.tmp', 'fleet-increment-'))
const measured = []

const RECIPES = [
  { name: 'node-redis', heading: /^node-redis\b/, env: { REDIS_URL: redis.url }, redis: true },
  { name: 'ioredis', heading: /^ioredis$/, env: { REDIS_URL: redis.url }, redis: true },
  {
    name: 'upstash',
    heading: /^Upstash Redis\b/,
    env: { UPSTASH_REDIS_REST_URL: upstash.url, UPSTASH_REDIS_REST_TOKEN: upstash.token },
    redis: true,
  },
  { name: 'deno-kv', heading: /^Deno KV$/, env: {}, deno: true },
]

/**
 * A directory for one recipe: its block as written, and 'apivideo-auth' and 'apivideo-auth/share' as it imports
 * them (the built package, the counting module). Answers `run(plan, count)`: that many processes started together,
 * each running the plan, and their reports.
 */
function workspaceOf(recipe) {
  const found = blocks.filter((block) => recipe.heading.test(block.heading))
  assert.is(found.length, 1, `one code block under the "${recipe.name}" heading of docs/sharing.md`)
  const dir = join(work, recipe.name)
  const shareFile = recipe.deno ? join(dir, 'share.mjs') : join(dir, 'node_modules/apivideo-auth/share.js')
  mkdirSync(join(dir, 'node_modules/apivideo-auth'), { recursive: true })
  const block = join(dir, recipe.deno ? 'recipe.ts' : 'recipe.mjs')
  writeFileSync(block, found[0].code)
  const dist = (file) => pathToFileURL(join(root, 'dist', file)).href
  if (recipe.deno) {
    const imports = {
      'npm:apivideo-auth': dist('index.js'),
      'npm:apivideo-auth/share': pathToFileURL(shareFile).href,
    }
    writeFileSync(join(dir, 'import-map.json'), JSON.stringify({ imports }))
  } else {
    // A package.json of its own, so that 'apivideo-auth' is not the repository's own name (Node resolves a package's
    // own name to itself before it looks in node_modules).
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ private: true, type: 'module' }))
    const exports = { '.': './index.js', './share': './share.js' }
    const manifest = { name: 'apivideo-auth', type: 'module', exports }
    writeFileSync(join(dir, 'node_modules/apivideo-auth/package.json'), JSON.stringify(manifest))
    writeFileSync(join(dir, 'node_modules/apivideo-auth/index.js'), `export * from '${dist('index.js')}'\n`)
  }
  // Every process of the recipe shares one Deno directory, so Deno.openKv() opens one KV file for them all.
  const env = {
    ...recipe.env,
    APIVIDEO_API_KEY: apiKey,
    APIVIDEO_BASE_URL: server.url,
    NODE_NO_WARNINGS: '1',
    DENO_DIR: join(dir, '.deno'),
  }
  const flags = [
    '--no-prompt',
    '--no-remote',
    '--no-npm',
    '--no-lock',
    '--import-map=import-map.json',
    '--unstable-kv',
  ]
  const allow = ['--allow-env', '--allow-net=127.0.0.1', `--allow-read=${dir},${root}dist`, `--allow-write=${dir}`]
  const command = recipe.deno ? [DENO, ['run', ...flags, ...allow, block]] : [process.execPath, [block]]
  return {
    async run(steps, count) {
      writeFileSync(shareFile, countingShare(dist('share.js'), { collector: collector.url, steps }))
      const processes = await Promise.all(
        Array.from({ length: count }, () => exec(...command, { cwd: dir, env, timeout: CHILD_LIMIT })),
      )
      for (const p of processes) assert.is(p.code, 0, `a process failed:\n${p.output}`)
      const reports = collector.reports.splice(0)
      assert.is(reports.length, count, 'a report from each process')
      for (const report of reports) assert.is(report.error, undefined, `an increment failed: ${report.error}`)
      return reports
    },
  }
}

const range = (from, to) => Array.from({ length: to - from + 1 }, (_, i) => from + i)
const sorted = (counts) => [...counts].sort((a, b) => a - b)

const increments = suite("fleet: the recipes' increment, as written")

increments.after(async () => {
  client.destroy()
  await upstash.close()
  await collector.close()
  await server.close()
  await redis.stop()
  if (!process.env.DOC_TEST_KEEP) rmSync(work, { recursive: true, force: true })
  console.log(`\nincrement: ${TOGETHER} processes × ${EACH} on one key, then 10 more, then a ${SHORT_TTL_MS} ms key`)
  for (const { name, together, later, pttl, beforeReset } of measured)
    console.log(
      `  ${name.padEnd(11)} answers ${together} then ${later}; ` +
        `${pttl ? `PTTL ${pttl[0]} then ${pttl[1]} ms; ` : ''}${beforeReset} increments before the key expired`,
    )
})

for (const recipe of RECIPES) {
  increments(`${recipe.name}: 200 increments from 4 processes count to 200, and the TTL is the first's`, async () => {
    const { run } = workspaceOf(recipe)
    const key = `apivideo-auth-test:increment:${randomBytes(8).toString('hex')}`
    const fresh = `${key}:fresh`
    try {
      const together = await run([{ key, ttlMs: TTL_MS, increments: EACH, concurrency: CONCURRENCY }], TOGETHER)
      assert.equal(sorted(together.flatMap((r) => r.steps[0])), range(1, TOGETHER * EACH), 'each count once')
      const pttl = recipe.redis ? [await client.pTTL(key)] : undefined
      if (pttl) {
        assert.is(await client.get(key), String(TOGETHER * EACH))
        assert.ok(pttl[0] > 0 && pttl[0] <= TTL_MS, `a TTL of at most ${TTL_MS} ms: ${pttl[0]}`)
      }

      const [later] = await run(
        [
          { key, ttlMs: 10 * TTL_MS, increments: 10, concurrency: 1 },
          { key: fresh, ttlMs: SHORT_TTL_MS, untilResetMs: 20 * SHORT_TTL_MS },
        ],
        1,
      )
      assert.equal(later.steps[0], range(TOGETHER * EACH + 1, TOGETHER * EACH + 10), 'the next 10 counts, in order')
      if (pttl) {
        pttl.push(await client.pTTL(key))
        assert.ok(pttl[1] > 0 && pttl[1] <= pttl[0], `the TTL was not set again: ${pttl[0]} ms, then ${pttl[1]} ms`)
      }
      const untilReset = later.steps[1]
      const beforeReset = untilReset.length - 1
      assert.is(untilReset.at(-1), 1, `the short-lived key never expired in ${20 * SHORT_TTL_MS} ms`)
      assert.equal(untilReset.slice(0, -1), range(1, beforeReset), 'counts from 1, one by one, until it expired')
      // Only increments that came within the TTL of the one before could have kept an extended key alive.
      assert.ok(beforeReset >= 2, `${beforeReset} increments in ${SHORT_TTL_MS} ms: too slow to tell`)
      measured.push({
        name: recipe.name,
        together: '1-200',
        later: `${later.steps[0][0]}-${later.steps[0].at(-1)}`,
        pttl,
        beforeReset,
      })
    } finally {
      if (recipe.redis) await client.del([key, fresh])
    }
  })
}

increments.run()
