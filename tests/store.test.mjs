// The shared token store, with an in-memory TokenStore on the session's fake clock.
// Instances are sessions sharing one store and one stand-in; the multi-process proof is tests/fleet/.
import { createHash } from 'node:crypto'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { authenticateRequest, createSession, SANDBOX_URL } from '../dist/index.js'
import { createStandIn } from '../dist/testing.js'
import { KEY, clock } from './helpers.mjs'

const HOUR = 3_600_000
const MARGIN = 300_000
const never = () => new Promise(() => {})

/** A TokenStore in a Map, expiring on the fake clock; `log` records every call in order. */
function memoryStore(time, log = [], { claim = true } = {}) {
  const data = new Map()
  const live = (key) => {
    const entry = data.get(key)
    return entry && entry.until > time.now() ? entry.value : null
  }
  const store = {
    data,
    log,
    writes: [],
    calls: (op) => log.filter((entry) => entry[0] === op).length,
    async get(key) {
      log.push(['get', key])
      return live(key)
    },
    async set(key, value, ttl) {
      log.push(['set', key, ttl])
      store.writes.push({ key, value, ttl })
      data.set(key, { value, until: time.now() + ttl })
    },
    async claim(key, ttl) {
      log.push(['claim', key, ttl])
      if (live(key) !== null) return false
      data.set(key, { value: '1', until: time.now() + ttl })
      return true
    },
  }
  if (!claim) delete store.claim
  return store
}

/** One fake clock, one stand-in, one store; `instance()` makes a session of the fleet. */
function fleet({ claim = true, standIn: standInOptions } = {}) {
  const time = clock()
  const standIn = createStandIn({ apiKeys: [KEY], now: time.now, ...standInOptions })
  const log = []
  const store = memoryStore(time, log, { claim })
  const refreshTokens = []
  const fetch = async (input, init) => {
    const request = new Request(input, init)
    log.push(['fetch', new URL(request.url).pathname])
    const response = await standIn.fetch(request)
    const body = await response.clone().json().catch(() => ({}))
    if (body.refresh_token) refreshTokens.push(body.refresh_token)
    return response
  }
  const instance = (options = {}) => {
    const events = []
    const session = createSession({ apiKey: KEY, fetch, now: time.now, store, onEvent: (e) => events.push(e), ...options })
    return { session, events, types: () => events.map((e) => e.type) }
  }
  const paths = () => standIn.requests.map((r) => r.path).filter((p) => p.startsWith('/auth/'))
  return { time, standIn, store, log, refreshTokens, instance, paths }
}

function withRandom(value, run) {
  const original = Math.random
  Math.random = () => value
  return Promise.resolve(run()).finally(() => (Math.random = original))
}

const sha256 = (text) => createHash('sha256').update(text).digest('hex')
const stored = (store, key) => JSON.parse(store.data.get(key).value)
const onlyKey = (store) => [...store.data.keys()].find((k) => !k.includes(':lease'))

// ---------------------------------------------------------------------------------------------

const share = suite('store: read before renewing, write after')

share('the store is read (and the lease claimed) before /auth/api-key, and written after', async () => {
  const { instance, log } = fleet()
  await instance().session.token()
  assert.equal(
    log.map((e) => e[0] + (e[0] === 'fetch' ? ` ${e[1]}` : '')),
    ['get', 'claim', 'fetch /auth/api-key', 'set'],
  )
})

share('a fresh shared token is used at once: no request, a `shared` event', async () => {
  const { instance, paths } = fleet()
  const a = instance()
  const b = instance()
  const token = await a.session.token()
  assert.is(await b.session.token(), token)
  assert.is(await b.session.authorization(), `Bearer ${token}`)
  assert.equal(paths(), ['/auth/api-key'])
  assert.equal(b.types(), ['shared'])
  assert.is(b.events[0].expiresAt, a.events[0].expiresAt)
})

share('a token taken from the store is then served from memory', async () => {
  const { instance, store } = fleet()
  await instance().session.token()
  const b = instance()
  for (let i = 0; i < 5; i++) await b.session.token()
  assert.is(store.calls('get'), 2)
})

share('written after each renewal, with an integer TTL ending at the due time', async () => {
  await withRandom(0.3, async () => {
    const { instance, store, time, paths } = fleet()
    const a = instance()
    const first = await a.session.token()
    time.tick(HOUR - MARGIN * 1.15)
    const second = await a.session.token()
    assert.equal(paths(), ['/auth/api-key', '/auth/refresh'])
    assert.is(store.writes.length, 2)
    const due = MARGIN * 1.15
    assert.equal(store.writes.map((w) => w.ttl), [HOUR - due, HOUR - due])
    assert.ok(store.writes.every((w) => Number.isInteger(w.ttl)))
    const [one, two] = store.writes.map((w) => JSON.parse(w.value))
    assert.equal(Object.keys(one).sort(), ['dueAt', 'expiresAt', 'key', 'sentAt', 'token', 'v'])
    assert.is(one.token, first)
    assert.is(two.token, second)
    assert.is(two.dueAt, two.expiresAt - due)
    assert.is(two.v, 1)
    assert.is(two.key, store.writes[1].key)
  })
})

share('forceRefresh skips the read but still shares the new token', async () => {
  const { instance, store } = fleet()
  const a = instance()
  await a.session.token()
  const forced = await a.session.token({ forceRefresh: true })
  assert.is(store.calls('get'), 1)
  assert.is(store.calls('set'), 2)
  assert.is(stored(store, onlyKey(store)).token, forced)
})

share('no refresh token (nor the API key) is ever in a key or value written', async () => {
  const { instance, store, time, refreshTokens } = fleet()
  const a = instance()
  await a.session.token()
  time.tick(HOUR)
  await a.session.token()
  await a.session.token({ forceRefresh: true })
  assert.is(refreshTokens.length, 3)
  assert.is(store.writes.length, 3)
  for (const { key, value } of store.writes) {
    for (const secret of [KEY, ...refreshTokens]) {
      assert.not.ok(value.includes(secret), 'a secret in a value')
      assert.not.ok(key.includes(secret), 'a secret in a key')
    }
  }
})

// ---------------------------------------------------------------------------------------------

share.run()

const renew = suite('store: who renews a due shared token')

renew('an instance with its own refresh token uses it when the shared token is due', async () => {
  await withRandom(0, async () => {
    const { instance, time, paths, store } = fleet()
    const a = instance()
    const b = instance()
    await a.session.token()
    await b.session.token()
    time.tick(HOUR - MARGIN)
    const renewed = await a.session.token()
    assert.equal(paths(), ['/auth/api-key', '/auth/refresh'])
    assert.is(await b.session.token(), renewed)
    assert.equal(paths(), ['/auth/api-key', '/auth/refresh'])
    assert.is(store.calls('get'), 4)
  })
})

renew('an instance without a refresh token uses the API key when the shared token is due', async () => {
  await withRandom(0, async () => {
    const { instance, time, paths } = fleet()
    const a = instance()
    const b = instance()
    const first = await a.session.token()
    assert.is(await b.session.token(), first)
    time.tick(HOUR - MARGIN)
    const renewed = await b.session.token()
    assert.is.not(renewed, first)
    assert.equal(paths(), ['/auth/api-key', '/auth/api-key'])
    assert.is(await a.session.token(), renewed)
    assert.equal(paths().length, 2)
  })
})

renew('a due shared token (not yet expired) is not used, and is no store error', async () => {
  const { instance, time, store, paths } = fleet()
  const a = instance()
  await a.session.token()
  const key = onlyKey(store)
  const value = stored(store, key)
  time.tick(value.dueAt - time.now())
  store.data.set(key, { value: JSON.stringify(value), until: Infinity })
  const b = instance()
  assert.is.not(await b.session.token(), value.token)
  assert.equal(paths(), ['/auth/api-key', '/auth/api-key'])
  assert.not.ok(b.types().includes('store-error'))
  assert.not.ok(b.types().includes('shared'))
})

renew('a token that got a 401 from session.fetch is not taken from the store again', async () => {
  const { instance, standIn, store } = fleet()
  const a = instance()
  const revoked = await a.session.token()
  standIn.revoke()
  const b = instance()
  assert.is(await b.session.token(), revoked)
  const response = await b.session.fetch('https://ws.api.video/videos')
  assert.is(response.status, 200)
  const current = await b.session.token()
  assert.is.not(current, revoked)
  assert.is(stored(store, onlyKey(store)).token, current)
  assert.equal(b.types(), ['shared', 'authenticated'])
})

renew('a plain invalidate() drops the token for good: it is not taken back from the store', async () => {
  const { instance, store, paths } = fleet()
  const a = instance()
  const dropped = await a.session.token()
  a.session.invalidate()
  const next = await a.session.token()
  assert.is.not(next, dropped)
  assert.equal(paths(), ['/auth/api-key', '/auth/refresh'])
  assert.is(stored(store, onlyKey(store)).token, next)
})

renew('a writer whose clock runs ahead: the reader keeps the token, no clock jump, no second read', async () => {
  const { instance, store, time } = fleet()
  const a = instance({ now: () => time.now() + 1_000 })
  const token = await a.session.token()
  const b = instance()
  assert.is(await b.session.token(), token)
  assert.is(await b.session.token(), token)
  assert.is(store.calls('get'), 2)
  assert.not.ok(b.types().includes('clock-jump'))
})

renew.run()

// ---------------------------------------------------------------------------------------------

const lease = suite('store: claim, the lease and waiting')

lease('two cold instances at once: one claims and renews, the other waits and takes its token', async () => {
  const { instance, paths, store } = fleet()
  const a = instance()
  const b = instance()
  const [ta, tb] = await Promise.all([a.session.token(), b.session.token()])
  assert.is(ta, tb)
  assert.equal(paths(), ['/auth/api-key'])
  assert.is([...a.types(), ...b.types()].filter((t) => t === 'shared').length, 1)
  const claims = store.log.filter((e) => e[0] === 'claim')
  assert.ok(claims.every(([, key, ttl]) => key.startsWith(`${onlyKey(store)}:lease:`) && ttl === 10_000))
})

lease('without claim, instances renew independently (and every token is valid)', async () => {
  const { instance, paths, standIn, store } = fleet({ claim: false })
  // All three read the empty store before any of them writes.
  const get = store.get
  let release
  const together = new Promise((resolve) => (release = resolve))
  store.get = async (key) => {
    const value = await get(key)
    if (store.calls('get') === 3) release()
    await together
    return value
  }
  const sessions = [instance(), instance(), instance()]
  const tokens = await Promise.all(sessions.map((s) => s.session.token()))
  assert.equal(paths(), ['/auth/api-key', '/auth/api-key', '/auth/api-key'])
  for (const s of sessions) assert.is((await s.session.fetch('https://ws.api.video/videos')).status, 200)
  assert.is(new Set(tokens).size, 3)
  assert.is(standIn.requests.length, 6)
})

lease('the lease holder died: its lease expires, this instance claims it and renews', async () => {
  const { instance, store, paths } = fleet()
  const claim = store.claim
  let answers = 0
  store.claim = async (key, ttl) => (answers++ === 0 ? (store.log.push(['claim', key, ttl]), false) : claim(key, ttl))
  const a = instance()
  await a.session.token()
  assert.is(store.calls('claim'), 2)
  assert.is(store.calls('get'), 2)
  assert.equal(paths(), ['/auth/api-key'])
  assert.equal(a.types(), ['authenticated'])
})

lease('waiting is bounded: a lease that is never freed, then the instance renews alone', async () => {
  const { instance, store, paths } = fleet()
  store.claim = async (key, ttl) => (store.log.push(['claim', key, ttl]), false)
  const a = instance({ timeout: 150 })
  const token = await a.session.token()
  assert.ok(token)
  assert.equal(paths(), ['/auth/api-key'])
  assert.ok(store.calls('claim') >= 2)
  assert.ok(store.calls('claim') <= 3)
  assert.is(stored(store, onlyKey(store)).token, token)
})

lease('a lease TTL is a whole number of ms, even for a fractional timeout', async () => {
  const { instance, store } = fleet()
  await instance({ timeout: 2500.5 }).session.token()
  assert.is(store.log.find((e) => e[0] === 'claim')[2], 2501)
})

lease.run()

// ---------------------------------------------------------------------------------------------

const faults = suite('store: a failing store is ignored with `store-error`')

/** A session whose store is broken as `broken` says; it must still serve a working token. */
async function survives(broken, options = {}) {
  const { instance, store, paths, standIn } = fleet()
  Object.assign(store, broken(store))
  const a = instance({ timeout: 50, ...options })
  const token = await a.session.token()
  const response = await a.session.fetch('https://ws.api.video/videos')
  assert.is(response.status, 200)
  assert.ok(a.types().includes('store-error'))
  assert.ok(a.types().includes('authenticated'))
  assert.not.ok(a.types().includes('failed'))
  return { token, store, paths, standIn, a }
}

faults('get throws: the rest of the renewal skips the store; the next renewal tries it again', async () => {
  const { store, paths, a } = await survives((s) => ({ get: async (k) => (s.log.push(['get', k]), Promise.reject(new Error('down'))) }))
  assert.equal(paths(), ['/auth/api-key'])
  assert.equal(store.log.map((e) => e.join(' ')).filter((e) => !e.endsWith('/videos')).map((e) => e.split(' ')[0]), ['get', 'fetch'])
  await a.session.token({ forceRefresh: true })
  assert.is(store.calls('set'), 1)
})

faults('get throws synchronously', async () => {
  const { paths } = await survives(() => ({
    get() {
      throw new Error('sync')
    },
  }))
  assert.equal(paths(), ['/auth/api-key'])
})

faults('get hangs: bounded by the timeout', async () => {
  const { paths, store } = await survives(() => ({ get: never }))
  assert.equal(paths(), ['/auth/api-key'])
  assert.is(store.calls('set'), 0)
})

faults('set throws or hangs: the token is still served', async () => {
  await survives(() => ({ set: async () => Promise.reject(new Error('read-only')) }))
  await survives(() => ({ set: never }))
})

faults('claim throws or hangs: this instance renews', async () => {
  for (const claim of [async () => Promise.reject(new Error('no')), never]) {
    const { paths } = await survives(() => ({ claim }))
    assert.equal(paths(), ['/auth/api-key'])
  }
})

faults('no crypto.subtle (the default key cannot be derived): the session works without the store', async () => {
  Object.defineProperty(globalThis.crypto, 'subtle', { value: undefined, configurable: true })
  try {
    const { store } = await survives(() => ({}))
    assert.is(store.log.filter((e) => e[0] !== 'fetch').length, 0)
  } finally {
    delete globalThis.crypto.subtle
  }
  assert.ok(globalThis.crypto.subtle)
})

/** Puts `value` under the session's key, then checks it is ignored with `store-error` and overwritten. */
async function rejects(value, options = {}) {
  const { instance, store, paths, time } = fleet()
  const seed = instance(options)
  const seeded = await seed.session.token()
  const key = onlyKey(store)
  const written = typeof value === 'function' ? value(stored(store, key), time) : value
  store.data.set(key, { value: written, until: Infinity })
  const b = instance(options)
  const token = await b.session.token()
  assert.is.not(token, seeded)
  assert.equal(paths(), ['/auth/api-key', '/auth/api-key'])
  assert.equal(b.types(), ['store-error', 'authenticated'])
  assert.is(stored(store, key).token, token, 'the bad value is overwritten')
}

faults('garbage: not JSON, JSON of the wrong shape, null, a number, an object', async () => {
  for (const garbage of ['not json', '{"v":1}', 'null', '42', '[]', '', { token: 'x' }]) await rejects(garbage)
})

faults('a token that is not header-safe (a newline) is rejected', async () => {
  await rejects((v) => JSON.stringify({ ...v, token: 'at.x\nSet-Cookie: a=b' }))
})

faults('times out of order or not numbers are rejected', async () => {
  await rejects((v) => JSON.stringify({ ...v, dueAt: v.expiresAt + 1 }))
  await rejects((v) => JSON.stringify({ ...v, sentAt: String(v.sentAt) }))
})

faults('a value written under another key is rejected', async () => {
  const { instance, store, paths } = fleet()
  await instance({ storeKey: 'tenant-a' }).session.token()
  store.data.set('tenant-b', { ...store.data.get('tenant-a') })
  const b = instance({ storeKey: 'tenant-b' })
  await b.session.token()
  assert.equal(paths(), ['/auth/api-key', '/auth/api-key'])
  assert.equal(b.types(), ['store-error', 'authenticated'])
})

faults('a value of another version is rejected', async () => {
  await rejects((v) => JSON.stringify({ ...v, v: 2 }))
})

faults('an expired value (a store that ignores TTLs) is rejected', async () => {
  await rejects((v, time) => {
    time.tick(v.expiresAt - time.now())
    return JSON.stringify(v)
  })
})

faults.run()

// ---------------------------------------------------------------------------------------------

const flight = suite('store: one store read and one renewal per instance')

flight('500 concurrent cold callers: one read, one claim, one request, one write', async () => {
  const { instance, store, paths } = fleet()
  const a = instance()
  const tokens = await Promise.all(Array.from({ length: 500 }, () => a.session.token()))
  assert.is(new Set(tokens).size, 1)
  assert.equal([store.calls('get'), store.calls('claim'), store.calls('set')], [1, 1, 1])
  assert.equal(paths(), ['/auth/api-key'])
})

flight('500 concurrent callers when the store holds a fresh token: one read, no request', async () => {
  const { instance, store, paths } = fleet()
  await instance().session.token()
  const b = instance()
  const tokens = await Promise.all(Array.from({ length: 500 }, () => b.session.token()))
  assert.is(new Set(tokens).size, 1)
  assert.is(store.calls('get'), 2)
  assert.equal(paths(), ['/auth/api-key'])
})

flight('500 concurrent callers at renewal time: one read, one refresh, one write', async () => {
  const { instance, store, paths, time } = fleet()
  const a = instance()
  await a.session.token()
  time.tick(HOUR - MARGIN / 2)
  await Promise.all(Array.from({ length: 500 }, () => a.session.token()))
  assert.equal([store.calls('get'), store.calls('set')], [2, 2])
  assert.equal(paths(), ['/auth/api-key', '/auth/refresh'])
})

flight.run()

// ---------------------------------------------------------------------------------------------

const keys = suite('store: the store key')

keys('the default key is a SHA-256 of the auth URL and the API key, never the key itself', async () => {
  const { instance, store } = fleet()
  await instance().session.token()
  const key = onlyKey(store)
  assert.match(key, /^apivideo-auth:v1:[0-9a-f]{64}$/)
  assert.is(key, `apivideo-auth:v1:${sha256(`${authenticateRequest(KEY).url}\n${KEY}`)}`)
  assert.not.ok(key.includes(KEY))
})

keys('instances with the same key and base share one store key; another key or base gets another', async () => {
  const time = clock()
  const store = memoryStore(time)
  const standIn = createStandIn({ apiKeys: [KEY, 'other-key'], now: time.now })
  const make = (options) => createSession({ apiKey: KEY, fetch: standIn.fetch, now: time.now, store, ...options })
  await make().token()
  await make().token()
  await make({ apiKey: 'other-key' }).token()
  await make({ baseUrl: SANDBOX_URL }).token()
  const written = new Set(store.writes.map((w) => w.key))
  assert.is(written.size, 3)
  assert.is(standIn.requests.length, 3)
})

keys('a storeKey is used as given, with its leases at `<storeKey>:lease:<tag of the value replaced>`', async () => {
  const { instance, store } = fleet()
  await instance({ storeKey: 'my-app:apivideo' }).session.token()
  const used = store.log.filter((e) => e[0] !== 'fetch').map((e) => e.slice(0, 2))
  assert.equal(used.map((e) => e[0]), ['get', 'claim', 'set'])
  assert.equal([used[0][1], used[2][1]], ['my-app:apivideo', 'my-app:apivideo'])
  assert.match(used[1][1], /^my-app:apivideo:lease:[0-9a-z]+$/)
  // Replacing the value just written takes another lease, free although the first has not expired.
  const a = instance({ storeKey: 'my-app:apivideo' })
  await a.session.token()
  a.session.invalidate()
  await a.session.token()
  const leases = store.log.filter((e) => e[0] === 'claim').map((e) => e[1])
  assert.is(leases.length, 2)
  assert.is(store.calls('get'), 3)
  assert.is.not(leases[1], leases[0])
})

keys('bad store or storeKey: a TypeError naming the option, and nothing is called', () => {
  const time = clock()
  const store = memoryStore(time)
  const bad = [
    [{ store: null }, /^store must/],
    [{ store: {} }, /^store must/],
    [{ store: 'redis://localhost' }, /^store must/],
    [{ store: { get: store.get } }, /^store must/],
    [{ store: { get: store.get, set: 1 } }, /^store must/],
    [{ store: { ...store, claim: true } }, /^store\.claim must/],
    [{ store, storeKey: '' }, /^storeKey must/],
    [{ store, storeKey: 42 }, /^storeKey must/],
  ]
  for (const [options, message] of bad) {
    try {
      createSession({ apiKey: KEY, fetch: () => assert.unreachable('fetch'), ...options })
      assert.unreachable(`accepted ${JSON.stringify(Object.keys(options))}`)
    } catch (error) {
      assert.instance(error, TypeError)
      assert.match(error.message, message)
      assert.not.match(error.message, KEY)
    }
  }
  assert.equal(store.log, [])
})

keys.run()
