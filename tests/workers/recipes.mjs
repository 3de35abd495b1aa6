// The docs' Workers recipes, as written, under Miniflare: docs/sharing.md's Workers KV and Durable Object code blocks
// (found by their headings), each bundled by esbuild as a user's Worker would be, and run as 4 Workers at once in one
// Miniflare: 4 isolates, each with its own module state (so its own session), sharing one KV namespace or one
// Durable Object. Their fetch to api.video goes to the stand-in on 127.0.0.1 (Miniflare's outbound service).
// - 4 cold isolates, 5 requests each at once: every answer a 200; KV: at most 4 auth requests (no atomic claim, so
//   each cold isolate may renew), the Durable Object: 1.
// - Then a fresh isolate, in a new Miniflare (a new workerd process) on the same storage on disk: 0 auth requests.
// - The Durable Object's increment, through the counting module of tests/fleet/counting.mjs: 4 isolates × 50 on one
//   key count to 200, each count once; 10 more from a 5th go on from 201; a key with a 500 ms TTL, incremented one
//   call after another, starts again at 1 once expired (later increments did not extend it), and the object's alarm
//   then deletes it (seen through a subclass of the recipe's TokenStore that lists the stored keys).
// Run by `npm run test:workers`, in `npm test` (Miniflare runs the project's pinned workerd; no Redis needed).
import { randomBytes } from 'node:crypto'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { build } from 'esbuild'
import { Miniflare } from 'miniflare'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { createStandIn } from '../../dist/testing.js'
import { listen } from '../../scripts/loopback.mjs'
import { extractBlocks, packageWorkspace } from '../docs/run.mjs'
import { countingShare, startCollector } from '../fleet/counting.mjs'
import { derive, unseal } from '../fleet/sealed.mjs'

const root = fileURLToPath(new URL('../..', import.meta.url))
const PAGE = join(root, 'docs/sharing.md')
const API_URL = 'https://ws.api.video' // the recipes' base URL: the session's default
const WORKERS = 4
const REQUESTS = 5
const EACH = 50
const SHORT_TTL_MS = 500
const RECIPES = {
  kv: { heading: /^Cloudflare Workers KV$/, bindings: () => ({ kvNamespaces: { TOKENS: 'tokens' } }) },
  durableObject: {
    heading: /^Cloudflare Durable Objects$/,
    // The first Worker defines the class; the others bind the same one, as a Worker's isolates all do.
    bindings: (index, className = 'TokenStore') => ({
      durableObjects: { TOKENS: index === 0 ? className : { className, scriptName: 'worker-0' } },
    }),
  },
}

const started = Date.now()
const blocks = extractBlocks(readFileSync(PAGE, 'utf8'), PAGE)
const work = packageWorkspace('workers-recipes-')
const collector = await startCollector()
const measured = []

// A Worker module that is the Durable Object recipe, with one more class: its TokenStore with a method that lists
// the keys the object stores, so that a test can see that expired entries go.
const INSPECTED = `export * from './recipe.mjs'
export { default } from './recipe.mjs'
import { TokenStore } from './recipe.mjs'
export class InspectedTokenStore extends TokenStore {
  async storedKeys() {
    return [...(await this.ctx.storage.list()).keys()]
  }
}
`

/**
 * The recipe's code block, as written, bundled as a Worker; `share` replaces 'apivideo-auth/share' when given, and
 * `inspected` adds InspectedTokenStore.
 */
async function bundle(recipe, { share, inspected = false } = {}) {
  const found = blocks.filter((block) => recipe.heading.test(block.heading))
  assert.is(found.length, 1, `one code block under ${recipe.heading} in docs/sharing.md`)
  const dir = mkdtempSync(join(work, 'worker-'))
  writeFileSync(join(dir, 'recipe.mjs'), found[0].code)
  writeFileSync(join(dir, 'inspected.mjs'), INSPECTED)
  const replaceShare = {
    name: 'counting share',
    setup(esbuild) {
      esbuild.onResolve({ filter: /^apivideo-auth\/share$/ }, () => ({ path: share }))
    },
  }
  const { outputFiles } = await build({
    entryPoints: [join(dir, inspected ? 'inspected.mjs' : 'recipe.mjs')],
    bundle: true,
    format: 'esm',
    platform: 'browser',
    conditions: ['workerd', 'worker'],
    target: 'es2022',
    external: ['cloudflare:*'],
    plugins: share ? [replaceShare] : [],
    write: false,
    logLevel: 'silent',
  })
  return outputFiles[0].text
}

/**
 * A Miniflare of `scripts.length` Workers, `worker-0`…, each running its script with the recipe's binding, on the
 * storage kept in `dir`; their fetch to api.video goes to `standInUrl`, to 127.0.0.1 as it is.
 */
function miniflare(recipe, scripts, { apiKey, standInUrl, dir, className }) {
  const outboundService = (request) => {
    const url = new URL(request.url)
    const target = url.hostname === '127.0.0.1' ? url.href : standInUrl + url.pathname + url.search
    return fetch(new Request(target, request))
  }
  return new Miniflare({
    cf: false, // Miniflare's own placeholder for request.cf, instead of fetching Cloudflare's
    kvPersist: join(dir, 'kv'),
    durableObjectsPersist: join(dir, 'do'),
    workers: scripts.map((script, index) => ({
      name: `worker-${index}`,
      modules: true,
      script,
      compatibilityDate: '2025-01-01',
      bindings: { APIVIDEO_API_KEY: apiKey },
      outboundService,
      ...recipe.bindings(index, className),
    })),
  })
}

/** Sends each Worker of `mf` `count` requests at once; answers their statuses. */
async function requests(mf, names, count) {
  const each = async (name) => {
    const worker = await mf.getWorker(name)
    const one = async () => {
      const response = await worker.fetch('http://worker/')
      await response.arrayBuffer()
      return response.status
    }
    return Promise.all(Array.from({ length: count }, one))
  }
  return (await Promise.all(names.map(each))).flat()
}

/** The store's value under `key`, read as the recipe's binding holds it, once the background write has landed. */
async function storedValue(mf, recipe, key) {
  const read =
    recipe === RECIPES.kv
      ? async () => (await mf.getKVNamespace('TOKENS')).get(key)
      : async () => {
          const namespace = await mf.getDurableObjectNamespace('TOKENS', 'worker-0')
          return namespace.get(namespace.idFromName('apivideo-auth')).get(key)
        }
  // ctx.waitUntil(session.settled()) holds the write past the answers: wait for it to land, at most 10 s.
  for (const deadline = Date.now() + 10_000; Date.now() < deadline;) {
    const value = await read()
    if (value != null) return value
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
  return undefined
}

/** 4 cold isolates of 5 requests each, then a fresh one on the same storage; answers the auth requests of each. */
async function coldThenFresh(recipe) {
  const apiKey = `workers-${randomBytes(12).toString('hex')}`
  const standIn = createStandIn({ apiKeys: [apiKey] })
  const server = await listen(standIn.handler)
  const dir = mkdtempSync(join(work, 'storage-'))
  const script = await bundle(recipe)
  const options = { apiKey, standInUrl: server.url, dir }
  const names = Array.from({ length: WORKERS }, (_, i) => `worker-${i}`)
  try {
    const together = miniflare(
      recipe,
      names.map(() => script),
      options,
    )
    let statuses, stored
    try {
      statuses = await requests(together, names, REQUESTS)
      stored = await storedValue(together, recipe, derive(apiKey, API_URL).key)
    } finally {
      await together.dispose()
    }
    const cold = standIn.counts.auth
    const fresh = miniflare(recipe, [script], options)
    try {
      statuses.push(...(await requests(fresh, ['worker-0'], REQUESTS)))
    } finally {
      await fresh.dispose()
    }
    return { statuses, cold, fresh: standIn.counts.auth - cold, stored, keys: derive(apiKey, API_URL) }
  } finally {
    await server.close()
  }
}

const workers = suite("Workers: the docs' KV and Durable Object recipes under Miniflare")

workers.after(async () => {
  await collector.close()
  if (!process.env.DOC_TEST_KEEP) rmSync(work, { recursive: true, force: true })
  console.log(`\nworkers: auth requests (${WORKERS} cold isolates × ${REQUESTS} requests, then a fresh one)`)
  for (const line of measured) console.log(`  ${line}`)
  console.log(`  (${((Date.now() - started) / 1000).toFixed(1)} s)`)
})

for (const [name, recipe, bound] of [
  ['Workers KV', RECIPES.kv, WORKERS],
  ['Durable Object', RECIPES.durableObject, 1],
]) {
  workers(`${name}: ${WORKERS} cold isolates make at most ${bound}, a fresh one after them none`, async () => {
    const { statuses, cold, fresh, stored, keys } = await coldThenFresh(recipe)
    measured.push(`${name.padEnd(15)} cold ${cold} (<= ${bound}), then fresh ${fresh} (= 0)`)
    assert.equal(statuses, Array((WORKERS + 1) * REQUESTS).fill(200), 'every answer a 200')
    assert.ok(stored, 'the token was written to the store')
    assert.match(unseal(stored, keys).token, /^[!-~]+$/, 'the stored value holds a token')
    assert.ok(cold >= 1 && cold <= bound, `${cold} auth requests from ${WORKERS} cold isolates`)
    assert.is(fresh, 0, 'the fresh isolate took the shared token')
  })
}

workers('Durable Object: increments count to 200, the TTL is the first’s, expired entries go', async () => {
  const apiKey = `workers-${randomBytes(12).toString('hex')}`
  const standIn = createStandIn({ apiKeys: [apiKey] })
  const server = await listen(standIn.handler)
  const key = `apivideo-auth-test:increment:${randomBytes(8).toString('hex')}`
  const fresh = `${key}:fresh`
  const counting = async (steps) => {
    const share = join(work, `share-${randomBytes(4).toString('hex')}.mjs`)
    writeFileSync(share, countingShare(join(root, 'dist/share.js'), { collector: collector.url, steps }))
    return bundle(RECIPES.durableObject, { share, inspected: true })
  }
  const together = await counting([{ key, ttlMs: 60_000, increments: EACH, concurrency: 10 }])
  const later = await counting([
    { key, ttlMs: 600_000, increments: 10, concurrency: 1 },
    { key: fresh, ttlMs: SHORT_TTL_MS, untilResetMs: 20 * SHORT_TTL_MS },
  ])
  const scripts = [...Array(WORKERS).fill(together), later]
  const dir = mkdtempSync(join(work, 'storage-'))
  const mf = miniflare(RECIPES.durableObject, scripts, {
    apiKey,
    standInUrl: server.url,
    dir,
    className: 'InspectedTokenStore',
  })
  const range = (from, to) => Array.from({ length: to - from + 1 }, (_, i) => from + i)
  try {
    const names = scripts.map((_, i) => `worker-${i}`)
    assert.equal(await requests(mf, names.slice(0, WORKERS), 1), Array(WORKERS).fill(200))
    const first = collector.reports.splice(0)
    assert.is(first.length, WORKERS, 'a report from each isolate')
    for (const report of first) assert.is(report.error, undefined, `an increment failed: ${report.error}`)
    const counts = first.flatMap((report) => report.steps[0]).sort((a, b) => a - b)
    assert.equal(counts, range(1, WORKERS * EACH), 'each count once')

    assert.equal(await requests(mf, [names[WORKERS]], 1), [200])
    const [{ steps, error }] = collector.reports.splice(0)
    assert.is(error, undefined, `an increment failed: ${error}`)
    assert.equal(steps[0], range(WORKERS * EACH + 1, WORKERS * EACH + 10), 'the next 10, in order')
    const beforeReset = steps[1].length - 1
    assert.is(steps[1].at(-1), 1, `the short-lived key never expired in ${20 * SHORT_TTL_MS} ms`)
    assert.equal(steps[1].slice(0, -1), range(1, beforeReset), 'one by one from 1')
    assert.ok(beforeReset >= 2, `${beforeReset} increments in ${SHORT_TTL_MS} ms: too slow to tell`)

    // The object's alarm deletes the short-lived key once it has expired again; the counter of 60 s stays.
    const namespace = await mf.getDurableObjectNamespace('TOKENS', 'worker-0')
    const object = namespace.get(namespace.idFromName('apivideo-auth'))
    let stored = await object.storedKeys()
    assert.ok(stored.includes(fresh), 'the short-lived key is stored')
    for (const deadline = Date.now() + 20 * SHORT_TTL_MS; stored.includes(fresh) && Date.now() < deadline;) {
      await new Promise((resolve) => setTimeout(resolve, 50))
      stored = await object.storedKeys()
    }
    assert.not.ok(stored.includes(fresh), 'the expired key was deleted')
    assert.ok(stored.includes(key), 'the key still alive was kept')
    measured.push(
      `Durable Object increments: 1-200, then ${steps[0][0]}-${steps[0].at(-1)}; ${beforeReset} before expiry; ` +
        'the expired key deleted',
    )
  } finally {
    await mf.dispose()
    await server.close()
  }
})

workers.run()
