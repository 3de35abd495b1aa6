// The Redis fleet proof: 8 Node processes × 200 concurrent callers share tokens through one real Redis
// with apivideo-auth/share, against one stand-in served over node:http on 127.0.0.1; this process owns the
// stand-in and counts its auth requests. Run by `npm run test:fleet` (after the Deno KV fleet), which needs
// REDIS_URL or a redis-server binary, and says how to get one when neither is there.
import { fork } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { createClient } from 'redis'
import { createStandIn } from '../../dist/testing.js'
import { serve } from '../helpers/index.mjs'
import { findRedis, freePort, startRedis } from './redis.mjs'
import { derive, flip, unseal } from './sealed.mjs'

const INSTANCES = 8
const CALLERS = 200
const TIMEOUT = 2_000 // per session call, store calls included; also the lease TTL
const RENEWAL = 58 * 60_000 // a clock offset past every due time (52.5-55 min) and before expiry (60 min)
const CHILD_LIMIT = 30_000 // the watchdog kills an instance still alive after this
const STORE_KEY = /^apivideo-auth:[0-9a-f]{64}$/

const started = Date.now()
const children = new Set()
const measured = []
process.on('exit', () => children.forEach((child) => child.kill('SIGKILL')))
setTimeout(() => {
  console.error(`fleet: watchdog: still running after 180 s; ${children.size} instance(s) left`)
  process.exit(1)
}, 180_000).unref()

const redis = await findRedis().catch((error) => {
  console.error(`fleet: ${error.message}`)
  process.exit(1)
})
const client = await createClient({ url: redis.url })
  .on('error', () => {})
  .connect()

/** A stand-in on 127.0.0.1 whose clock is Date.now() plus `clock.offset`, with two API keys of its own. */
async function standIn(name) {
  const clock = { offset: 0 }
  const [apiKey, otherKey] = ['', 'other-'].map((kind) => `fleet-${kind}${name}-${randomBytes(12).toString('hex')}`)
  const api = createStandIn({ apiKeys: [apiKey, otherKey], now: () => Date.now() + clock.offset })
  const server = await serve(api.handler)
  const auth = () => api.requests.filter((r) => r.path.startsWith('/auth/'))
  /** The store key and value key of the fleet's API key (or another) for this stand-in. */
  const keys = (key = apiKey) => derive(key, server.url.replace(/\/+$/, ''))
  return {
    apiKey,
    otherKey,
    keys,
    clock,
    url: server.url,
    close: server.close,
    auth,
    paths: () => auth().map((r) => r.path),
  }
}

/** One instance process; `burst(offset)` runs its 200 callers with its clock moved to `offset`. */
function instance(
  api,
  { claim = true, redisUrl = redis.url, offlineQueue = false, victim = false, apiKey = api.apiKey } = {},
) {
  const env = {
    ...process.env,
    REDIS_URL: redisUrl,
    STAND_IN_URL: api.url,
    API_KEY: apiKey,
    CLAIM: claim ? '1' : '0',
    TIMEOUT: String(TIMEOUT),
    OFFLINE_QUEUE: offlineQueue ? '1' : '0',
    VICTIM: victim ? '1' : '0',
    CALLERS: String(CALLERS),
  }
  const child = fork(new URL('./instance.mjs', import.meta.url), [], {
    env,
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  })
  children.add(child)
  const watchdog = setTimeout(() => child.kill('SIGKILL'), CHILD_LIMIT)
  const exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })))
  void exited.then(() => (clearTimeout(watchdog), children.delete(child)))
  const next = (field) =>
    new Promise((resolve, reject) => {
      const on = (message) => field in message && (child.off('message', on), resolve(message[field]))
      child.on('message', on)
      void exited.then(({ code, signal }) =>
        reject(new Error(`instance exited (${code ?? signal}) before "${field}"`)),
      )
    })
  const ready = next('ready')
  return {
    ready,
    claimed: victim ? next('claimed') : undefined,
    burst(offset) {
      const done = next('done')
      child.send({ cmd: 'burst', offset })
      return done
    },
    /** Resolves once its Redis client is connected (true), or destroyed. */
    connected() {
      const connected = next('connected')
      child.send({ cmd: 'connected' })
      return connected
    },
    /** Tells it to stop; it must exit by itself, with code 0. */
    async exit() {
      if (child.connected) child.send({ cmd: 'exit' })
      return exited
    },
    kill: () => (child.kill('SIGKILL'), exited),
  }
}

async function start(api, count, options) {
  const fleet = Array.from({ length: count }, () => instance(api, options))
  await Promise.all(fleet.map((i) => i.ready))
  return fleet
}

/** Every instance's 200 callers got one token each, and the token works on a protected path. */
function served(reports) {
  for (const r of reports) {
    assert.is(r.failures, 0, 'a caller got an error')
    assert.is(r.tokens.length, 1, 'callers of one instance got different tokens')
    assert.is(r.status, 200, 'the token did not work on /videos')
  }
}

/** All exit by themselves, code 0 (the watchdog would have killed them). */
async function stop(fleet) {
  for (const { code, signal } of await Promise.all(fleet.map((i) => i.exit())))
    assert.equal({ code, signal }, { code: 0, signal: null })
}

/** The store key the fleet used: derived, not the API key; it and its leases are deleted after the test. */
async function storeKeyOf(reports, api, redisClient = client) {
  const used = new Set(reports.flatMap((r) => r.keys).filter((k) => !k.includes(':lease:')))
  assert.is(used.size, 1)
  const [key] = used
  assert.match(key, STORE_KEY)
  assert.is(key, api.keys().key, 'the documented derivation')
  assert.not.ok(key.includes(api.apiKey))
  if (redisClient)
    cleanup.push(async () => {
      const leases = await redisClient.keys(`${key}:lease:*`)
      await redisClient.del([key, ...leases])
    })
  return key
}
const cleanup = []

function record(scenario, count, bound) {
  measured.push({ scenario, count, bound })
}

// ---------------------------------------------------------------------------------------------

const counts = suite(`fleet: ${INSTANCES} processes × ${CALLERS} callers, one Redis`)

counts.after.each(async () => {
  while (cleanup.length) await cleanup.pop()()
})

counts('with claim, started together: at most 2 auth requests; then at renewal time: at most 2 more', async () => {
  const api = await standIn('together')
  const fleet = await start(api, INSTANCES)
  const cold = await Promise.all(fleet.map((i) => i.burst(0)))
  served(cold)
  const key = await storeKeyOf(cold, api)
  const first = api.auth().length
  record('claim, 8 started together', first, '<= 2 (aim 1)')
  assert.ok(first >= 1 && first <= 2, `${first} auth requests`)
  assert.is(
    cold.reduce((n, r) => n + (r.events['shared-token-used'] ?? 0), 0),
    INSTANCES - first,
  )
  const value = await client.get(key)
  const token = cold[0].tokens[0]
  const raw = Buffer.from(value, 'base64').toString('latin1')
  for (const secret of [api.apiKey, token, key])
    assert.not.ok(value.includes(secret) || raw.includes(secret), 'a secret in the raw value')
  const stored = unseal(value, api.keys())
  assert.equal(
    Object.keys(stored).sort(),
    ['dueAt', 'expiresAt', 'sentAt', 'token'],
    'only the access token and its times',
  )
  assert.is(stored.token, token)
  const ttl = await client.pTTL(key)
  // Kept until the token expires, past its due time: at renewal time every instance claims the lease named after it.
  const left = stored.expiresAt - Date.now()
  assert.ok(ttl > stored.dueAt - Date.now() && ttl <= left + 1_000, `ttl ${ttl}, ${left} ms to expiry`)

  api.clock.offset = RENEWAL
  // Past the due time, callers get the token held while each instance renews in the background (a burst reports
  // once that has settled): the next burst serves the renewed token.
  const due = await Promise.all(fleet.map((i) => i.burst(RENEWAL)))
  served(due)
  // Due, not expiring: callers got the token held while the renewal ran in the background.
  due.forEach((r, i) => assert.is(r.tokens[0], cold[i].tokens[0], 'a caller waited for the renewal'))
  const renewals = api.auth().length - first
  record('claim, renewal time (clocks +58 min together)', renewals, '<= 2')
  assert.ok(renewals >= 1 && renewals <= 2, `${renewals} renewals`)
  assert.is.not(due[0].held, cold[0].tokens[0])
  assert.ok(
    due.every((r) => r.held),
    'an instance holds no token after its renewal',
  )
  assert.is(new Set(due.map((r) => r.held)).size, renewals)
  const renewers = due.filter((r) => !r.events['shared-token-used']).map((r) => r.held)
  assert.is(renewers.length, renewals)
  assert.ok(renewers.includes(unseal(await client.get(key), api.keys()).token))
  await stop(fleet)
  await api.close()
})

counts('with claim, started one after another: exactly 1 auth request', async () => {
  const api = await standIn('sequential')
  const reports = []
  for (let i = 0; i < INSTANCES; i++) {
    const [one] = await start(api, 1)
    reports.push(await one.burst(0))
    await stop([one])
  }
  served(reports)
  await storeKeyOf(reports, api)
  record('claim, 8 started one after another', api.auth().length, '= 1')
  assert.equal(api.paths(), ['/auth/api-key'])
  assert.is(new Set(reports.map((r) => r.tokens[0])).size, 1)
  await api.close()
})

counts('without claim, started together: at most 8 auth requests', async () => {
  const api = await standIn('no-claim')
  const fleet = await start(api, INSTANCES, { claim: false })
  const reports = await Promise.all(fleet.map((i) => i.burst(0)))
  served(reports)
  await storeKeyOf(reports, api)
  const n = api.auth().length
  record('no claim, 8 started together', n, '<= 8')
  assert.ok(n >= 1 && n <= INSTANCES, `${n} auth requests`)
  await stop(fleet)
  await api.close()
})

counts.run()

// ---------------------------------------------------------------------------------------------

const faults = suite('fleet: faults')

faults.after.each(async () => {
  while (cleanup.length) await cleanup.pop()()
})

faults.after(async () => {
  client.destroy()
  await redis.stop()
  console.log(`\nfleet: auth requests measured (${Math.round((Date.now() - started) / 100) / 10} s)`)
  for (const { scenario, count, bound } of measured)
    console.log(`  ${scenario.padEnd(52)} ${String(count).padStart(3)}   (${bound})`)
})

faults('Redis stopped mid-test: the instances keep serving, from memory and then by renewing alone', async () => {
  const own = await startRedis()
  const api = await standIn('redis-stopped')
  // Half the instances queue commands while disconnected (they hang: bounded by the timeout), half fail fast.
  const fleet = await Promise.all(
    Array.from({ length: INSTANCES }, (_, i) => instance(api, { redisUrl: own.url, offlineQueue: i % 2 === 0 })).map(
      async (i) => (await i.ready, i),
    ),
  )
  const before = await Promise.all(fleet.map((i) => i.burst(0)))
  served(before)
  await storeKeyOf(before, api, null) // that Redis goes away with its keys
  const first = api.auth().length
  record('Redis stopped: first, 8 together with claim', first, '<= 2')
  assert.ok(first >= 1 && first <= 2)

  await own.stop()
  const cached = await Promise.all(fleet.map((i) => i.burst(0)))
  served(cached)
  assert.is(api.auth().length, first, 'fresh tokens come from memory, with no store and no request')

  api.clock.offset = RENEWAL
  const renewed = await Promise.all(fleet.map((i) => i.burst(RENEWAL)))
  served(renewed)
  for (const r of renewed) assert.ok(r.events['share-failed'] >= 1, 'no share-failed event')
  const alone = api.auth().length - first
  record('Redis stopped: then at renewal time', alone, '<= 8, every instance serving')
  assert.ok(alone >= 1 && alone <= INSTANCES)
  await stop(fleet)
  await api.close()
})

/**
 * Plants what `plant(key, value)` returns under the fleet's key (value: what a first instance wrote),
 * then 7 cold instances together. At least one reads the planted value and reports a share-failed; one that
 * reads only after the fleet overwrote it rightly reports none. No one serves the token planted over (the first
 * instance's) nor any that `plant` passes to `refuse`.
 */
async function planted(name, scenario, plant) {
  const api = await standIn(name)
  const [writer] = await start(api, 1)
  const first = await writer.burst(0)
  const key = await storeKeyOf([first], api)
  await stop([writer])
  const refused = [first.tokens[0]]
  const value = await plant(api, key, await client.get(key), (token) => refused.push(token))
  await client.set(key, value, { expiration: { type: 'PX', value: 600_000 } })
  const before = api.auth().length

  const fleet = await start(api, INSTANCES - 1)
  const reports = await Promise.all(fleet.map((i) => i.burst(0)))
  served(reports)
  assert.ok(
    reports.some((r) => r.events['share-failed'] >= 1),
    'no instance reported the planted value',
  )
  for (const r of reports) assert.not.ok(refused.includes(r.tokens[0]), 'a planted token was served')
  const n = api.auth().length - before
  record(scenario, n, '<= 2 (aim 1)')
  assert.ok(n >= 1 && n <= 2, `${n} auth requests`)
  const stored = unseal(await client.get(key), api.keys())
  assert.ok(
    reports.some((r) => r.tokens[0] === stored.token),
    'the planted value is overwritten',
  )
  await stop(fleet)
  await api.close()
}

faults('garbage written under the key: ignored with share-failed, renewed once, overwritten', async () => {
  await planted('garbage', 'garbage under the key, 7 cold instances together', () => '{"v":1,"key":"')
})

faults('encrypted at rest: a flipped byte in the stored value is refused', async () => {
  await planted('flipped', 'a flipped byte in the value, 7 cold instances', (api, key, value) => flip(value, 20))
})

faults('encrypted at rest: a value written by a session with another API key is refused', async () => {
  await planted('other-key', "another key's value moved under the key, 7 cold", async (api, key, value, refuse) => {
    const [other] = await start(api, 1, { apiKey: api.otherKey })
    const report = await other.burst(0)
    await stop([other])
    const [otherKey] = report.keys.filter((k) => !k.includes(':lease:'))
    assert.is(otherKey, api.keys(api.otherKey).key)
    const moved = await client.get(otherKey)
    await client.del(otherKey)
    assert.is(unseal(moved, api.keys(api.otherKey)).token, report.tokens[0])
    refuse(report.tokens[0])
    return moved
  })
})

faults('Redis down when the processes start: they do not hang, serve alone, then share once it is up', async () => {
  const port = await freePort()
  const api = await standIn('down-at-start')
  const fleet = await start(api, 2, { redisUrl: `redis://127.0.0.1:${port}` })
  const alone = await Promise.all(fleet.map((i) => i.burst(0)))
  served(alone)
  for (const r of alone) assert.ok(r.events['share-failed'] >= 1, 'no share-failed')
  record('Redis down at start: 2 instances', api.auth().length, '<= 2, both serving')
  assert.ok(api.auth().length <= 2)

  const own = await startRedis({ port })
  try {
    assert.equal(await Promise.all(fleet.map((i) => i.connected())), [true, true])
    const first = api.auth().length
    api.clock.offset = RENEWAL
    const shared = []
    for (const i of fleet) shared.push(await i.burst(RENEWAL))
    served(shared)
    record('  then Redis up: the 2 renew one after another', api.auth().length - first, '= 1')
    assert.is(api.auth().length - first, 1, 'the second took the token of the first from Redis')
    assert.is(shared[1].events['shared-token-used'], 1)
    await stop(fleet)
  } finally {
    await own.stop()
  }
  await api.close()
})

faults('the lease holder is killed: another instance takes the expired lease and renews', async () => {
  const api = await standIn('lease-holder-killed')
  const victim = instance(api, { victim: true })
  const survivors = await start(api, INSTANCES - 1)
  await victim.ready
  victim.burst(0).catch(() => {})
  const lease = await victim.claimed
  const killedAt = Date.now()
  assert.equal(await victim.kill(), { code: null, signal: 'SIGKILL' })
  assert.ok((await client.pTTL(lease)) > 0, 'the dead holder still holds the lease')
  assert.equal(api.paths(), [], 'the holder died before renewing')

  const reports = await Promise.all(survivors.map((i) => i.burst(0)))
  served(reports)
  await storeKeyOf(reports, api)
  const [request] = api.auth()
  record('lease holder killed, 7 survivors', api.auth().length, '= 1, by the next lease holder')
  record(`  ms from the kill to that request (lease ${TIMEOUT} ms)`, request.at - killedAt, 'measured, not asserted')
  for (const r of reports)
    assert.not.ok(r.events['share-failed:lease'], "the dead holder's successor was reported as a foreign lease")
  assert.equal(api.paths(), ['/auth/api-key'])
  assert.is(
    reports.reduce((n, r) => n + r.leasesWon, 0),
    1,
    'exactly one survivor won the expired lease',
  )
  assert.is(new Set(reports.map((r) => r.tokens[0])).size, 1)
  await stop(survivors)
  await api.close()
})

faults.run()
