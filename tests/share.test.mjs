// apivideo-auth/share: the share hook alone (a fake context: fake clock, event collector, in-memory store),
// then sessions sharing one store through createSession({ share }). The multi-process proof is tests/fleet/.
import { randomBytes } from 'node:crypto'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { createSession, SANDBOX_URL } from '../dist/index.js'
import { shareTokens } from '../dist/share.js'
import { createStandIn } from '../dist/testing.js'
import { minGzip } from '../build.mjs'
import { derive as deriveWith, flip, seal as sealWith, unseal as unsealWith } from './fleet/sealed.mjs'
import { KEY, clock, recordingIssuedTokens, withRandom } from './helpers.mjs'

const HOUR = 3_600_000
const MARGIN = 300_000
const BASE = 'https://ws.api.video'
const SHARE_LIMIT = 1_536
const never = () => new Promise(() => {})
const STORE_KEY = /^apivideo-auth:[0-9a-f]{64}$/

/** A TokenStore in a Map, expiring on the fake clock; `log` records every call in order. */
function memoryStore(time, log = [], { claim = true } = {}) {
  const data = new Map()
  const waiting = []
  const live = (key) => {
    const entry = data.get(key)
    return entry && entry.until > time.now() ? entry.value : null
  }
  const store = {
    data,
    log,
    writes: [],
    calls: (op) => log.filter((entry) => entry[0] === op).length,
    /** Resolves once `count` values have been written (writes are not awaited by the session). */
    written: (count) =>
      new Promise((resolve) => (store.writes.length >= count ? resolve() : waiting.push([count, resolve]))),
    async get(key) {
      log.push(['get', key])
      return live(key)
    },
    async set(key, value, ttl) {
      log.push(['set', key, ttl])
      store.writes.push({ key, value, ttl })
      data.set(key, { value, until: time.now() + ttl })
      for (const [count, resolve] of waiting) if (store.writes.length >= count) resolve()
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

/** The format as the docs describe it, for this test's key and base URL by default. */
const derive = (apiKey = KEY, baseUrl = BASE, namespace) => deriveWith(apiKey, baseUrl, namespace)
const unseal = (value, keys = derive()) => unsealWith(value, keys)
const seal = (content, keys = derive(), aad) => sealWith(content, keys, aad)

/** A fake session context: the hook sees only this. */
function context({ apiKey = KEY, baseUrl = BASE, timeout = 10_000, time = clock() } = {}) {
  const events = []
  return { apiKey, baseUrl, timeout, now: time.now, emit: (type) => events.push(type), events, time }
}

/** A token as the core hands it to put(), issued now on `time`, due 5 minutes before its expiry. */
function issued(time, token = `at.${randomBytes(6).toString('hex')}`) {
  const sentAt = time.now()
  return { token, sentAt, expiresAt: sentAt + HOUR, dueAt: sentAt + HOUR - MARGIN }
}

/** One fake clock, one stand-in, one store; `instance()` makes a session of the fleet. */
function fleet({ claim = true, standIn: standInOptions } = {}) {
  const time = clock()
  const standIn = createStandIn({ apiKeys: [KEY], now: time.now, ...standInOptions })
  const log = []
  const store = memoryStore(time, log, { claim })
  const { record, refreshTokens } = recordingIssuedTokens(standIn.fetch)
  const fetch = async (input, init) => {
    const request = new Request(input, init)
    log.push(['fetch', new URL(request.url).pathname])
    return record(request)
  }
  const instance = ({ key, ...options } = {}) => {
    const events = []
    const waiting = []
    const onEvent = (event) => {
      events.push(event)
      for (const [type, resolve] of waiting) if (type === event.type) resolve(event)
    }
    const session = createSession({
      apiKey: KEY,
      fetch,
      now: time.now,
      share: shareTokens(store, { key }),
      onEvent,
      ...options,
    })
    const types = () => events.map((e) => e.type)
    /** Resolves on the first event of `type` (at once if there was one). */
    const event = (type) =>
      new Promise((resolve) => (types().includes(type) ? resolve() : waiting.push([type, resolve])))
    return { session, events, types, event }
  }
  const paths = () => standIn.requests.map((r) => r.path).filter((p) => p.startsWith('/auth/'))
  return { time, standIn, store, log, refreshTokens, instance, paths }
}

const onlyKey = (store) => [...store.data.keys()].find((k) => !k.includes(':lease'))
const stored = (store, key = onlyKey(store)) => unseal(store.data.get(key).value)

// ---------------------------------------------------------------------------------------------

const args = suite('share: arguments')

args('a bad store, key or option: a TypeError naming it, and the store is not called', () => {
  const log = []
  const store = memoryStore(clock(), log)
  const bad = [
    [[null], /^store must/],
    [[{}], /^store must/],
    [['redis://localhost'], /^store must/],
    [[{ get: store.get }], /^store must/],
    [[{ get: store.get, set: 1 }], /^store must/],
    [[{ ...store, claim: true }], /^store\.claim must/],
    [[store, { key: '' }], /^key must/],
    [[store, { key: 42 }], /^key must/],
    [[store, { key: 'ns', namespace: 'x', storeKey: 'y' }], /^unknown option namespace of shareTokens$/],
    // Options that are not an object, such as a namespace passed by mistake in their place.
    [[store, 'my-app'], /^options must be an object$/],
    [[store, 42], /^options must be an object$/],
    [[store, () => {}], /^options must be an object$/],
  ]
  for (const [call, message] of bad) {
    try {
      shareTokens(...call)
      assert.unreachable(`accepted ${call.length}`)
    } catch (error) {
      assert.instance(error, TypeError)
      assert.match(error.message, message)
    }
  }
  assert.equal(log, [])
})

args(
  'no options, undefined options and an undefined key are all the default; a hook makes nothing happen by itself',
  () => {
    const log = []
    const store = memoryStore(clock(), log)
    for (const hook of [shareTokens(store), shareTokens(store, undefined), shareTokens(store, { key: undefined })]) {
      const share = hook(context())
      assert.type(share.take, 'function')
      assert.type(share.put, 'function')
    }
    assert.equal(log, [])
  },
)

args(`the add-on alone is at most ${SHARE_LIMIT} B min+gzip`, async () => {
  const bytes = await minGzip('share')
  assert.ok(bytes <= SHARE_LIMIT, `the add-on is ${bytes} B, over ${SHARE_LIMIT} B by ${bytes - SHARE_LIMIT} B`)
})

args.run()

// ---------------------------------------------------------------------------------------------

const hook = suite('share: take and put')

hook(
  'an empty store: take() claims the lease on nothing and says renew; put() writes; take() then finds it',
  async () => {
    const time = clock()
    const store = memoryStore(time)
    const ctx = context({ time })
    const share = shareTokens(store)(ctx)
    assert.is(await share.take(), undefined)
    const { key } = derive()
    assert.equal(store.log, [
      ['get', key],
      ['claim', `${key}:lease:`, 10_000],
    ])
    const token = issued(time)
    await share.put(token)
    assert.equal(store.log[2], ['set', key, HOUR])
    assert.equal(await shareTokens(store)(context({ time })).take(), token)
    assert.equal(ctx.events, [])
  },
)

hook('a token taken whose writer clock runs ahead gets sentAt clamped to this clock (no clock jump)', async () => {
  const time = clock()
  const store = memoryStore(time)
  const ahead = { now: () => time.now() + 1_000 }
  await shareTokens(store)(context({ time: ahead })).put(issued(ahead))
  const found = await shareTokens(store)(context({ time })).take()
  assert.is(found.sentAt, time.now())
})

hook(
  'a value from a writer whose clock runs over a minute ahead is not taken: it would be served past expiry',
  async () => {
    const time = clock()
    const store = memoryStore(time)
    for (const [ahead, taken] of [
      [59_000, true],
      [HOUR, false],
    ]) {
      const writer = { now: () => time.now() + ahead }
      await shareTokens(store)(context({ time: writer })).put(issued(writer))
      const found = await shareTokens(store)(context({ time, timeout: 300 })).take()
      assert.is(found !== undefined, taken, `a writer ${ahead} ms ahead`)
    }
  },
)

hook('a due token and the `rejected` token are not taken, and are no store error', async () => {
  const time = clock()
  const store = memoryStore(time)
  const token = issued(time)
  await shareTokens(store)(context({ time })).put(token)
  const ctx = context({ time })
  const share = shareTokens(store, {})(ctx)
  assert.is(await share.take(token.token), undefined)
  time.tick(HOUR - MARGIN)
  store.data.get(derive().key).until = Infinity
  assert.is(await share.take(), undefined)
  assert.equal(ctx.events, [])
})

hook('the lease is on the value being replaced: `<key>:lease:<its first 16 characters>`', async () => {
  const time = clock()
  const store = memoryStore(time)
  const share = shareTokens(store)(context({ time }))
  await share.put(issued(time))
  const value = store.data.get(derive().key).value
  assert.is(await share.take(unseal(value).token), undefined)
  assert.equal(store.log.at(-1), ['claim', `${derive().key}:lease:${value.slice(0, 16)}`, 10_000])
})

hook('TTLs are whole milliseconds, at least 1: a fractional timeout, a fractional expiry', async () => {
  const time = clock()
  const store = memoryStore(time)
  const share = shareTokens(store)(context({ time, timeout: 2500.5 }))
  await share.take()
  await share.put({ ...issued(time), dueAt: time.now() + 1000.25, expiresAt: time.now() + 2000.25 })
  assert.equal(
    store.log.slice(1).map((e) => [e[0], e[2]]),
    [
      ['claim', 2501],
      ['set', 2001],
    ],
  )
})

hook('a token due at put() time, or within 1 ms, is not written', async () => {
  const time = clock()
  const store = memoryStore(time)
  const ctx = context({ time })
  await shareTokens(store)(ctx).put({ ...issued(time), dueAt: time.now() })
  await shareTokens(store)(ctx).put({ ...issued(time), dueAt: time.now() + 0.5 })
  assert.is(store.calls('set'), 0)
  assert.equal(ctx.events, [])
})

hook(
  'a timeout above 2,147,483,647 ms bounds store calls by that, not by 1 ms; TTLs stay safe integers',
  async () => {
    const warnings = []
    const onWarning = (warning) => warnings.push(warning.name)
    process.on('warning', onWarning)
    try {
      for (const timeout of [2 ** 31, 1e300]) {
        const time = clock()
        const store = memoryStore(time)
        const get = store.get
        // Answers in 20 ms of real time: a timer clamped to 1 ms would call it a hang.
        store.get = (key) => new Promise((resolve) => setTimeout(() => resolve(get(key)), 20))
        const ctx = context({ time, timeout })
        const share = shareTokens(store)(ctx)
        assert.is(await share.take(), undefined)
        await share.put({ ...issued(time), expiresAt: time.now() + 1e300, dueAt: time.now() + 1e299 })
        assert.equal(ctx.events, [], `timeout ${timeout}`)
        const ttls = store.log.filter((e) => e[0] !== 'get').map((e) => e[2])
        assert.equal(ttls, [2_147_483_647, 2_147_483_647])
      }
    } finally {
      process.off('warning', onWarning)
    }
    await new Promise((resolve) => setImmediate(resolve))
    assert.not.ok(warnings.includes('TimeoutOverflowWarning'))
  },
)

hook('put() with no token, or not a token, writes nothing and never rejects; take() never rejects', async () => {
  const time = clock()
  const store = memoryStore(time)
  const ctx = context({ time })
  const share = shareTokens(store)(ctx)
  for (const bad of [
    undefined,
    null,
    {},
    { token: 42 },
    { ...issued(time), sentAt: 'now' },
    { ...issued(time), token: 'a\nb' },
  ])
    await share.put(bad)
  assert.is(store.calls('set'), 0)
  // A clock that throws (the session's own state gone wrong) is reported, not thrown into the renewal.
  const broken = shareTokens(store)({ ...ctx, now: () => assert.unreachable('clock') })
  assert.is(await broken.take(), undefined)
  await broken.put(issued(time))
  assert.ok(ctx.events.every((type) => type === 'store-error'))
})

hook('the claim wait stays within 2 timeouts, counting the time spent in store calls', async () => {
  await withRandom(0, async () => {
    const time = clock()
    const store = memoryStore(time)
    let inStore = 0
    const slow = (answer) => async () => {
      time.tick(100)
      inStore += 100
      return answer
    }
    Object.assign(store, { get: slow(null), claim: slow(false) })
    const calls = { get: 0, claim: 0 }
    for (const op of ['get', 'claim']) {
      const run = store[op]
      store[op] = (...args) => (calls[op]++, run(...args))
    }
    const ctx = context({ time, timeout: 150 })
    assert.is(await shareTokens(store)(ctx).take(), undefined)
    // Each losing claim is followed by one pause of at most 100 ms (Math.random() is 0).
    const waited = inStore + 100 * calls.claim
    assert.ok(waited <= 300, `waited ${waited} ms (store ${inStore} ms, ${calls.claim} pauses), over 2 × 150 ms`)
    assert.equal(calls, { get: 1, claim: 1 })
    assert.equal(ctx.events, [])
  })
})

hook('put() is bounded by the timeout; its failure is a store-error, never a rejection', async () => {
  for (const set of [
    never,
    async () => Promise.reject(new Error('read-only')),
    () => assert.unreachable('sync throw'),
  ]) {
    const time = clock()
    const store = memoryStore(time)
    store.set = set
    const ctx = context({ time, timeout: 30 })
    await shareTokens(store)(ctx).put(issued(time))
    assert.equal(ctx.events, ['store-error'])
  }
})

hook('after take() lost the store, the renewal it started does not write; the next put() does', async () => {
  const time = clock()
  const store = memoryStore(time)
  const get = store.get
  store.get = async () => Promise.reject(new Error('down'))
  const ctx = context({ time })
  const share = shareTokens(store)(ctx)
  assert.is(await share.take(), undefined)
  await share.put(issued(time), { afterTake: true })
  assert.is(store.calls('set'), 0)
  store.get = get
  await share.put(issued(time), { afterTake: false }) // a forced renewal: no take() before it
  assert.is(store.calls('set'), 1)
  assert.equal(ctx.events, ['store-error'])
})

hook(
  'at the due time every instance claims the one lease named after the due value, which stays until expiry',
  async () => {
    // A jittered due time is fractional: with the value kept only until then, the rounded-up TTL left it readable
    // for a fraction of a millisecond more, so one instance claimed `lease:<its tag>` and a later one `lease:`.
    const time = clock()
    const store = memoryStore(time)
    const due = { ...issued(time), dueAt: time.now() + HOUR - MARGIN + 0.5 }
    await shareTokens(store)(context({ time })).put(due)
    const tag = store.data.get(derive().key).value.slice(0, 16)
    time.tick(HOUR - MARGIN + 0.75)
    const b = shareTokens(store)(context({ time }))
    assert.is(await b.take(), undefined, 'the first instance at the due time renews')
    time.tick(1)
    const c = shareTokens(store)(context({ time })).take()
    while (store.calls('claim') < 2) await new Promise((resolve) => setTimeout(resolve, 5))
    const next = issued(time)
    await b.put(next, { afterTake: true })
    assert.equal(await c, next, 'a later one waits for it')
    const claims = store.log.filter((e) => e[0] === 'claim').map((e) => e[1])
    assert.equal(claims, [`${derive().key}:lease:${tag}`, `${derive().key}:lease:${tag}`])
  },
)

hook(
  'a clock that goes back during a store call counts as no time spent: the wait still ends at 2 timeouts',
  async () => {
    const time = clock()
    const store = memoryStore(time)
    const get = store.get
    store.get = async (key) => {
      if (store.calls('get') === 0) time.tick(-20_000) // the clock goes back 20 s during the first read
      return get(key)
    }
    store.claim = async (key, ttl) => (store.log.push(['claim', key, ttl]), false)
    const share = shareTokens(store)(context({ time, timeout: 300 }))
    assert.is(await share.take(), undefined)
    // Pauses of 100-200 ms: a budget of 600 ms allows 6 at most (with the clock's 20 s counted back, over 100).
    assert.ok(store.calls('get') <= 7, `${store.calls('get')} reads`)
  },
)

hook('a value that does not open is one store-error for a take(), however often it is read', async () => {
  const time = clock()
  const store = memoryStore(time)
  store.data.set(derive().key, { value: 'garbage', until: Infinity })
  store.claim = async (key, ttl) => (store.log.push(['claim', key, ttl]), false)
  const ctx = context({ time, timeout: 300 })
  const share = shareTokens(store)(ctx)
  const taken = share.take()
  while (store.calls('get') < 3) await new Promise((resolve) => setTimeout(resolve, 10))
  time.tick(600) // the wait is over at the next read
  assert.is(await taken, undefined)
  assert.ok(store.calls('get') >= 3)
  assert.equal(ctx.events, ['store-error'])
})

hook.run()

// ---------------------------------------------------------------------------------------------

const sealed = suite('share: encrypted at rest')

sealed('the store key is derived as documented, with its namespace; the value decrypts as documented', async () => {
  const time = clock()
  const store = memoryStore(time)
  const token = issued(time)
  await shareTokens(store)(context({ time })).put(token)
  await shareTokens(store, { key: 'my-app:apivideo' })(context({ time, baseUrl: SANDBOX_URL })).put(token)
  const [first, second] = store.writes
  assert.match(first.key, STORE_KEY)
  assert.is(first.key, derive().key)
  assert.is(second.key, derive(KEY, SANDBOX_URL, 'my-app:apivideo').key)
  assert.equal(unseal(first.value), token)
  assert.equal(unseal(second.value, derive(KEY, SANDBOX_URL, 'my-app:apivideo')), token)
  assert.equal(Object.keys(unseal(first.value)).sort(), ['dueAt', 'expiresAt', 'sentAt', 'token'])
})

sealed(
  'the raw value holds neither the token, nor the API key, nor the store key; each write has its own IV',
  async () => {
    const time = clock()
    const store = memoryStore(time)
    const share = shareTokens(store)(context({ time }))
    const token = issued(time, 'at.token-that-must-not-show')
    await share.put(token)
    await share.put(token)
    const [one, two] = store.writes.map((w) => w.value)
    assert.is.not(one, two)
    for (const value of [one, two]) {
      const raw = Buffer.from(value, 'base64').toString('latin1')
      for (const secret of [token.token, KEY, derive().key, String(token.expiresAt)]) {
        assert.not.ok(value.includes(secret) || raw.includes(secret), 'a secret in the stored value')
      }
    }
  },
)

/** Plants `value` under the store key of `reader`'s context; take() must refuse it with one store-error. */
async function refused(value, reader = {}) {
  const time = clock()
  const store = memoryStore(time)
  const ctx = context({ time, ...reader })
  const keys = derive(ctx.apiKey, ctx.baseUrl, reader.namespace)
  store.data.set(keys.key, { value: typeof value === 'function' ? value(keys) : value, until: Infinity })
  assert.is(await shareTokens(store, { key: reader.namespace })(ctx).take(), undefined)
  assert.equal(ctx.events, ['store-error'])
}

sealed('a flipped byte is refused: in the IV, in the ciphertext, in the tag', async () => {
  const time = clock()
  const good = seal(issued(time))
  for (const index of [0, 11, 12, 20, -1]) await refused(flip(good, index))
  await refused(good.slice(0, -4))
})

sealed(
  'a value written under another API key, for another base URL, or under another store key is refused',
  async () => {
    const time = clock()
    const token = issued(time)
    // Each written by the add-on itself, then moved under the reader's store key.
    const writtenBy = async (writer) => {
      const store = memoryStore(time)
      await shareTokens(store, { key: writer.namespace })(context({ time, ...writer })).put(token)
      return store.writes[0].value
    }
    assert.equal(unseal(await writtenBy({})), token)
    await refused(await writtenBy({ apiKey: 'another-key' }))
    await refused(await writtenBy({ baseUrl: SANDBOX_URL }))
    await refused(await writtenBy({ namespace: 'tenant-a' }), { namespace: 'tenant-b' })
  },
)

sealed('a value bound to another format version is refused', async () => {
  await refused((keys) => seal(issued(clock()), keys, Buffer.from(`apivideo-auth:v3\n${keys.key}`)))
})

sealed('garbage is refused: not base64, empty, 0.1.0 plain JSON, too short', async () => {
  for (const garbage of [
    'not json',
    '',
    '{"v":1,"key":"k","token":"at.x","sentAt":1,"expiresAt":2,"dueAt":2}',
    'AAAA',
    'null',
  ])
    await refused(garbage)
})

sealed('a well-encrypted value that is not a usable token is refused', async () => {
  const time = clock()
  const good = issued(time)
  const bad = [
    { ...good, token: 'at.x\nSet-Cookie: a=b' },
    { ...good, token: 'x'.repeat(8193) },
    { ...good, dueAt: good.expiresAt + 1 },
    { ...good, sentAt: String(good.sentAt) },
    { ...good, expiresAt: time.now(), dueAt: time.now() },
    null,
    42,
  ]
  for (const content of bad) await refused((keys) => seal(content, keys))
})

sealed.run()

// ---------------------------------------------------------------------------------------------

const share = suite('share: sessions read before renewing, write after')

share('the store is read (and the lease claimed) before /auth/api-key, and written after', async () => {
  const { instance, log, store } = fleet()
  await instance().session.token()
  await store.written(1)
  assert.equal(
    log.map((e) => e[0] + (e[0] === 'fetch' ? ` ${e[1]}` : '')),
    ['get', 'claim', 'fetch /auth/api-key', 'set'],
  )
})

share('a fresh shared token is used at once: no request, a `shared` event', async () => {
  const { instance, paths, store } = fleet()
  const a = instance()
  const b = instance()
  const token = await a.session.token()
  await store.written(1)
  assert.is(await b.session.token(), token)
  assert.is(await b.session.authorization(), `Bearer ${token}`)
  assert.equal(paths(), ['/auth/api-key'])
  assert.equal(b.types(), ['shared'])
  assert.is(b.events[0].expiresAt, a.events[0].expiresAt)
})

share('a token taken from the store is then served from memory', async () => {
  const { instance, store } = fleet()
  await instance().session.token()
  await store.written(1)
  const b = instance()
  for (let i = 0; i < 5; i++) await b.session.token()
  assert.is(store.calls('get'), 2)
})

share('written after each renewal, encrypted, with an integer TTL ending at expiry', async () => {
  await withRandom(0.3, async () => {
    const { instance, store, time, paths } = fleet()
    const a = instance()
    const first = await a.session.token()
    await store.written(1)
    time.tick(HOUR - MARGIN * 1.15)
    const second = await a.session.token()
    await store.written(2)
    assert.equal(paths(), ['/auth/api-key', '/auth/refresh'])
    const due = MARGIN * 1.15
    assert.equal(
      store.writes.map((w) => w.ttl),
      [HOUR, HOUR],
    )
    const [one, two] = store.writes.map((w) => unseal(w.value))
    assert.is(one.token, first)
    assert.is(two.token, second)
    assert.is(two.dueAt, two.expiresAt - due)
  })
})

share('forceRefresh skips the read but still shares the new token', async () => {
  const { instance, store } = fleet()
  const a = instance()
  await a.session.token()
  await store.written(1)
  const forced = await a.session.token({ forceRefresh: true })
  await store.written(2)
  assert.is(store.calls('get'), 1)
  assert.is(stored(store).token, forced)
})

share('a store lost by a renewal that then failed does not stop a later forced renewal from writing', async () => {
  const { instance, store, standIn } = fleet()
  const get = store.get
  store.get = async () => Promise.reject(new Error('down'))
  standIn.fail('/auth/api-key', { status: 500 })
  // The hook's put() promises, to wait for each write (or for it to be skipped).
  const puts = []
  const share = (context) => {
    const hook = shareTokens(store)(context)
    return { take: hook.take, put: (...args) => (puts.push(hook.put(...args)), puts.at(-1)) }
  }
  const a = instance({ retries: 0, share })
  const failed = await a.session.token().catch((error) => error)
  assert.is(failed.code, 'SERVER_ERROR')
  store.get = get
  const forced = await a.session.token({ forceRefresh: true })
  await Promise.all(puts)
  assert.is(store.calls('set'), 1, 'the forced renewal did not write')
  assert.is(stored(store).token, forced)
  assert.equal(a.types(), ['store-error', 'failed', 'authenticated'])
})

share('no refresh token (nor the API key) is ever in a key or value written, raw or decrypted', async () => {
  const { instance, store, time, refreshTokens } = fleet()
  const a = instance()
  await a.session.token()
  await store.written(1)
  time.tick(HOUR)
  await a.session.token()
  await store.written(2)
  await a.session.token({ forceRefresh: true })
  await store.written(3)
  assert.is(refreshTokens.length, 3)
  for (const { key, value } of store.writes) {
    const plain = JSON.stringify(unseal(value))
    for (const secret of [KEY, ...refreshTokens]) {
      assert.not.ok(value.includes(secret) || plain.includes(secret), 'a secret in a value')
      assert.not.ok(key.includes(secret), 'a secret in a key')
    }
  }
})

share('callers get the token before a slow store write ends; a failed write is a store-error', async () => {
  const { instance, store } = fleet()
  let release
  const writing = new Promise((started) => {
    store.set = () => (started(), new Promise((resolve, reject) => (release = reject)))
  })
  const a = instance()
  const token = await a.session.token()
  assert.ok(token)
  await writing
  release(new Error('read-only'))
  await a.event('store-error')
  assert.equal(a.types(), ['authenticated', 'store-error'])
})

share('invalidate() while the new token is being shared: every caller gets a token, no TypeError', async () => {
  const { instance } = fleet()
  let session
  const a = instance({ onEvent: (event) => event.type === 'authenticated' && session.invalidate() })
  session = a.session
  const results = await Promise.allSettled([session.token(), session.token(), session.token()])
  for (const result of results) assert.is(result.status, 'fulfilled', String(result.reason))
})

share.run()

// ---------------------------------------------------------------------------------------------

const renew = suite('share: who renews a due shared token')

renew('an instance with its own refresh token uses it when the shared token is due', async () => {
  await withRandom(0, async () => {
    const { instance, time, paths, store } = fleet()
    const a = instance()
    const b = instance()
    await a.session.token()
    await store.written(1)
    await b.session.token()
    time.tick(HOUR - MARGIN)
    const renewed = await a.session.token()
    await store.written(2)
    assert.equal(paths(), ['/auth/api-key', '/auth/refresh'])
    assert.is(await b.session.token(), renewed)
    assert.equal(paths(), ['/auth/api-key', '/auth/refresh'])
    assert.is(store.calls('get'), 4)
  })
})

renew('an instance without a refresh token uses the API key when the shared token is due', async () => {
  await withRandom(0, async () => {
    const { instance, time, paths, store } = fleet()
    const a = instance()
    const b = instance()
    const first = await a.session.token()
    await store.written(1)
    assert.is(await b.session.token(), first)
    time.tick(HOUR - MARGIN)
    const renewed = await b.session.token()
    await store.written(2)
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
  await store.written(1)
  const entry = store.data.get(onlyKey(store))
  time.tick(stored(store).dueAt - time.now())
  entry.until = Infinity
  const b = instance()
  assert.is.not(await b.session.token(), stored(store).token)
  assert.equal(paths(), ['/auth/api-key', '/auth/api-key'])
  assert.not.ok(b.types().includes('store-error'))
  assert.not.ok(b.types().includes('shared'))
})

renew('a token that got a 401 from session.fetch is not taken from the store again', async () => {
  const { instance, standIn, store } = fleet()
  const a = instance()
  const revoked = await a.session.token()
  await store.written(1)
  standIn.revoke()
  const b = instance()
  assert.is(await b.session.token(), revoked)
  const response = await b.session.fetch('https://ws.api.video/videos')
  assert.is(response.status, 200)
  const current = await b.session.token()
  await store.written(2)
  assert.is.not(current, revoked)
  assert.is(stored(store).token, current)
  assert.equal(b.types(), ['shared', 'authenticated'])
})

renew('a plain invalidate() drops the token for good: it is not taken back from the store', async () => {
  const { instance, store, paths } = fleet()
  const a = instance()
  const dropped = await a.session.token()
  await store.written(1)
  a.session.invalidate()
  const next = await a.session.token()
  await store.written(2)
  assert.is.not(next, dropped)
  assert.equal(paths(), ['/auth/api-key', '/auth/refresh'])
  assert.is(stored(store).token, next)
})

renew('a writer whose clock runs ahead: the reader keeps the token, no clock jump, no second read', async () => {
  const { instance, store, time } = fleet()
  const a = instance({ now: () => time.now() + 1_000 })
  const token = await a.session.token()
  await store.written(1)
  const b = instance()
  assert.is(await b.session.token(), token)
  assert.is(await b.session.token(), token)
  assert.is(store.calls('get'), 2)
  assert.not.ok(b.types().includes('clock-jump'))
})

renew.run()

// ---------------------------------------------------------------------------------------------

const lease = suite('share: claim, the lease and waiting')

lease('two cold instances at once: one claims and renews, the other waits and takes its token', async () => {
  const { instance, paths, store } = fleet()
  const a = instance()
  const b = instance()
  const [ta, tb] = await Promise.all([a.session.token(), b.session.token()])
  assert.is(ta, tb)
  assert.equal(paths(), ['/auth/api-key'])
  assert.is([...a.types(), ...b.types()].filter((t) => t === 'shared').length, 1)
  const claims = store.log.filter((e) => e[0] === 'claim')
  assert.ok(claims.every(([, key, ttl]) => key === `${derive().key}:lease:` && ttl === 10_000))
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

lease('waiting is bounded: a lease that is never freed, then the instance renews alone and shares', async () => {
  const { instance, store, paths } = fleet()
  store.claim = async (key, ttl) => (store.log.push(['claim', key, ttl]), false)
  const a = instance({ timeout: 150 })
  const token = await a.session.token()
  await store.written(1)
  assert.ok(token)
  assert.equal(paths(), ['/auth/api-key'])
  assert.ok(store.calls('claim') >= 2)
  assert.ok(store.calls('claim') <= 3)
  assert.is(stored(store).token, token)
  assert.not.ok(a.types().includes('store-error'))
})

lease('replacing the value just written takes another lease, free although the first has not expired', async () => {
  const { instance, store } = fleet()
  const a = instance({ key: 'my-app:apivideo' })
  await a.session.token()
  await store.written(1)
  a.session.invalidate()
  await a.session.token()
  const leases = store.log.filter((e) => e[0] === 'claim').map((e) => e[1])
  const key = derive(KEY, BASE, 'my-app:apivideo').key
  assert.equal(leases, [`${key}:lease:`, `${key}:lease:${store.writes[0].value.slice(0, 16)}`])
})

lease.run()

// ---------------------------------------------------------------------------------------------

const faults = suite('share: a failing store is ignored with `store-error`')

/** A session whose store is broken as `broken` says; it must still serve a working token. */
async function survives(broken, options = {}) {
  const { instance, store, paths, standIn } = fleet()
  Object.assign(store, broken(store))
  const a = instance({ timeout: 50, ...options })
  const token = await a.session.token()
  const response = await a.session.fetch('https://ws.api.video/videos')
  assert.is(response.status, 200)
  await a.event('store-error')
  assert.ok(a.types().includes('authenticated'))
  assert.not.ok(a.types().includes('failed'))
  return { token, store, paths, standIn, a }
}

faults('get throws: the rest of the renewal skips the store; the next renewal tries it again', async () => {
  const { store, paths, a } = await survives((s) => ({
    get: async (k) => (s.log.push(['get', k]), Promise.reject(new Error('down'))),
  }))
  assert.equal(paths(), ['/auth/api-key'])
  assert.equal(
    store.log.filter((e) => e[0] !== 'fetch').map((e) => e[0]),
    ['get'],
  )
  await a.session.token({ forceRefresh: true })
  await store.written(1)
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

faults('no crypto.subtle (no key can be derived): the session works without the store', async () => {
  Object.defineProperty(globalThis.crypto, 'subtle', { value: undefined, configurable: true })
  try {
    const { store } = await survives(() => ({}))
    assert.is(store.log.filter((e) => e[0] !== 'fetch').length, 0)
  } finally {
    delete globalThis.crypto.subtle
  }
  assert.ok(globalThis.crypto.subtle)
})

faults('garbage under the key: ignored with store-error, renewed, overwritten', async () => {
  for (const garbage of ['not json', '{"v":1}', '', 'AAAA']) {
    const { instance, store, paths } = fleet()
    store.data.set(derive().key, { value: garbage, until: Infinity })
    const b = instance()
    const token = await b.session.token()
    await store.written(1)
    assert.equal(paths(), ['/auth/api-key'])
    assert.equal(b.types(), ['store-error', 'authenticated'])
    assert.is(stored(store).token, token, 'the bad value is overwritten')
  }
})

faults('a value written under another namespace, moved under this one, is refused', async () => {
  const { instance, store, paths } = fleet()
  await instance({ key: 'tenant-a' }).session.token()
  await store.written(1)
  store.data.set(derive(KEY, BASE, 'tenant-b').key, { ...store.data.get(derive(KEY, BASE, 'tenant-a').key) })
  const b = instance({ key: 'tenant-b' })
  await b.session.token()
  assert.equal(paths(), ['/auth/api-key', '/auth/api-key'])
  assert.equal(b.types(), ['store-error', 'authenticated'])
})

faults('an expired value (a store that ignores TTLs) is refused', async () => {
  const { instance, store, paths, time } = fleet()
  await instance().session.token()
  await store.written(1)
  store.data.get(onlyKey(store)).until = Infinity
  time.tick(stored(store).expiresAt - time.now())
  const b = instance()
  await b.session.token()
  assert.equal(paths(), ['/auth/api-key', '/auth/api-key'])
  assert.equal(b.types(), ['store-error', 'authenticated'])
})

faults.run()

// ---------------------------------------------------------------------------------------------

const flight = suite('share: one store read and one renewal per instance')

flight('500 concurrent cold callers: one read, one claim, one request, one write', async () => {
  const { instance, store, paths } = fleet()
  const a = instance()
  const tokens = await Promise.all(Array.from({ length: 500 }, () => a.session.token()))
  await store.written(1)
  assert.is(new Set(tokens).size, 1)
  assert.equal([store.calls('get'), store.calls('claim'), store.calls('set')], [1, 1, 1])
  assert.equal(paths(), ['/auth/api-key'])
})

flight('500 concurrent callers when the store holds a fresh token: one read, no request', async () => {
  const { instance, store, paths } = fleet()
  await instance().session.token()
  await store.written(1)
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
  await store.written(1)
  time.tick(HOUR - MARGIN / 2)
  await Promise.all(Array.from({ length: 500 }, () => a.session.token()))
  await store.written(2)
  assert.equal([store.calls('get'), store.calls('set')], [2, 2])
  assert.equal(paths(), ['/auth/api-key', '/auth/refresh'])
})

flight('sessions with the same key and base share one store key; another API key or base gets another', async () => {
  const time = clock()
  const store = memoryStore(time)
  const standIn = createStandIn({ apiKeys: [KEY, 'other-key'], now: time.now })
  const make = (options) =>
    createSession({ apiKey: KEY, fetch: standIn.fetch, now: time.now, share: shareTokens(store), ...options })
  await make().token()
  await store.written(1)
  await make().token()
  await make({ apiKey: 'other-key' }).token()
  await make({ baseUrl: SANDBOX_URL }).token()
  await store.written(3)
  const written = new Set(store.writes.map((w) => w.key))
  assert.equal([...written], [derive().key, derive('other-key').key, derive(KEY, SANDBOX_URL).key])
  assert.is(standIn.requests.length, 3)
})

flight.run()
