// The docs' Redis recipes, as written: docs/sharing.md's node-redis and ioredis code blocks (found by their headings),
// each run unchanged as a program in 4 Node processes started together, then in a 5th started after them, against
// one stand-in on 127.0.0.1 and the real Redis of the fleet tests. Each process asks for a token as it starts, so a
// recipe that does not share from a cold start shows here. Each run has an API key of its own, so a store key of
// its own. Run by `npm run test:fleet` (REDIS_URL, or a redis-server binary it starts itself).
import { randomBytes } from 'node:crypto'
import { readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { createClient } from 'redis'
import { createStandIn } from '../../dist/testing.js'
import { exec } from '../../scripts/exec.mjs'
import { listen } from '../../scripts/loopback.mjs'
import { extractBlocks, packageWorkspace } from '../docs/run.mjs'
import { findRedis } from './redis.mjs'
import { derive, unseal } from './sealed.mjs'

const PAGE = fileURLToPath(new URL('../../docs/sharing.md', import.meta.url))
const RECIPES = [
  { name: 'node-redis', heading: /^node-redis\b/ },
  { name: 'ioredis', heading: /^ioredis$/ },
]
const TOGETHER = 4
const RUNS = Number(process.env.RECIPE_RUNS ?? 3)
const CHILD_LIMIT = 30_000 // the watchdog kills a process still alive after this

// Loaded before the recipe: fetch reaches 127.0.0.1 only, so a session that ignored APIVIDEO_BASE_URL fails here
// instead of calling api.video.
const LOOPBACK_ONLY = `const networkFetch = globalThis.fetch
globalThis.fetch = async (input, init) => {
  const { hostname, origin } = new URL(input instanceof Request ? input.url : input)
  if (hostname !== '127.0.0.1') throw new TypeError('the recipe test reaches 127.0.0.1 only, not ' + origin)
  return networkFetch(input, init)
}
`

const redis = await findRedis().catch((error) => {
  console.error(`recipes: ${error.message}`)
  process.exit(1)
})
const client = await createClient({ url: redis.url })
  .on('error', () => {})
  .connect()
const work = packageWorkspace('fleet-recipes-')
writeFileSync(join(work, 'loopback-only.mjs'), LOOPBACK_ONLY)
const blocks = extractBlocks(readFileSync(PAGE, 'utf8'), PAGE)
const measured = []

/** The recipe's code block, as written, in a file of the workspace. */
function recipeFile({ name, heading }) {
  const found = blocks.filter((block) => heading.test(block.heading))
  assert.is(found.length, 1, `one code block under the "${name}" heading of docs/sharing.md`)
  const file = join(work, `${name}.mjs`)
  writeFileSync(file, found[0].code)
  return file
}

/** One run: a fresh API key and stand-in; 4 processes started together, then a 5th once they have ended. */
async function runRecipe(file) {
  const apiKey = `recipe-${randomBytes(12).toString('hex')}`
  const standIn = createStandIn({ apiKeys: [apiKey] })
  const server = await listen(standIn.handler)
  // The recipes reach the stand-in through APIVIDEO_BASE_URL: they set no baseUrl.
  const env = { APIVIDEO_API_KEY: apiKey, APIVIDEO_BASE_URL: server.url, REDIS_URL: redis.url, NODE_NO_WARNINGS: '1' }
  const start = () =>
    exec(process.execPath, ['--import', './loopback-only.mjs', file], { cwd: work, env, timeout: CHILD_LIMIT })
  const { key, ...keys } = derive(apiKey, server.url)
  try {
    const together = await Promise.all(Array.from({ length: TOGETHER }, start))
    const first = standIn.counts.auth
    const stored = await client.get(key)
    const later = await start()
    const second = standIn.counts.auth - first
    return { processes: [...together, later], first, second, stored: stored && unseal(stored, { key, ...keys }) }
  } finally {
    await server.close()
    const leases = await client.keys(`${key}:lease:*`)
    await client.del([key, ...leases])
  }
}

const recipes = suite("fleet: the docs' Redis recipes, as written")

recipes.after(async () => {
  client.destroy()
  await redis.stop()
  if (!process.env.DOC_TEST_KEEP) rmSync(work, { recursive: true, force: true })
  console.log(`\nrecipes: auth requests per run (${TOGETHER} processes started together, then 1 more)`)
  for (const { name, run, first, second } of measured)
    console.log(`  ${name.padEnd(11)} run ${run}: together ${first} (= 1), then ${second} (= 0)`)
})

for (const recipe of RECIPES) {
  recipes(`${recipe.name}: ${TOGETHER} cold processes make 1 auth request, a 5th after them none`, async () => {
    const file = recipeFile(recipe)
    const failed = []
    for (let run = 1; run <= RUNS; run++) {
      const { processes, first, second, stored } = await runRecipe(file)
      measured.push({ name: recipe.name, run, first, second })
      for (const [i, p] of processes.entries()) {
        const why = p.signal ? `killed after ${CHILD_LIMIT} ms` : `exit ${p.code}`
        if (p.code !== 0) failed.push(`run ${run}, process ${i + 1}: ${why}\n${p.output.trim()}`)
      }
      if (!stored?.token) failed.push(`run ${run}: no token in Redis once the processes started together had ended`)
      if (first !== 1 || second !== 0) failed.push(`run ${run}: ${first} auth requests together, then ${second}`)
    }
    assert.equal(failed, [], '1 auth request for the processes started together, 0 for the one after them')
  })
}

recipes.run()
