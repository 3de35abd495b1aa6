// apivideo-auth/share: the share hook alone (a fake context: fake clock, event collector, in-memory store),
// then sessions sharing one store through createSession({ share }). The multi-process proof is tests/fleet/.
import { randomBytes } from 'node:crypto'
import { inspect } from 'node:util'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { createSession, SANDBOX_URL } from '../dist/index.js'
import { shareTokens } from '../dist/share.js'
import { createStandIn } from '../dist/testing.js'
import { minGzip } from '../build.mjs'
import { derive as deriveWith, flip, seal as sealWith, unseal as unsealWith } from './fleet/sealed.mjs'
import { KEY, clock, recordingIssuedTokens, settle, withRandom } from './helpers.mjs'

const HOUR = 3_600_000
const MARGIN = 300_000
const BASE = 'https://ws.api.video'
// The ceiling holds the measured figure (2,122 B) so the add-on cannot creep; the renewal-core issue's budget of
// 1,600 B is not met (bench/results.md and the closing note give what each required behaviour costs).
const SHARE_LIMIT = 2_130
const VALUE_LIMIT = 16 * 1024
const never = () => new Promise(() => {})
const STORE_KEY = /^apivideo-auth:[0-9a-f]{64}$/
/** The options of a renewal that reads the store first, and of one that does not (`forceRefresh`). */
const READ_FIRST = { force: false, refused: undefined }
const FORCED = { force: true, refused: undefined }

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

/** The format as the docs describe it, for this test's key and base URL by default. */
const derive = (apiKey = KEY, baseUrl = BASE, namespace) => deriveWith(apiKey, baseUrl, namespace)
const unseal = (value, keys = derive()) => unsealWith(value, keys)
const seal = (content, keys = derive(), aad) => sealWith(content, keys, aad)

/** A fake session context: the hook sees only this. `events` is what it emitted, `types()` their types. */
function context({ apiKey = KEY, baseUrl = BASE, timeout = 10_000, time = clock() } = {}) {
  const events = []
  const types = () => events.map((event) => event.type)
  return { apiKey, baseUrl, timeoutMs: timeout, now: time.now, emit: (event) => events.push(event), events, types }
}

/** A token as the core hands it to the hook, issued now on `time`, due 5 minutes before its expiry. */
function issued(time, token = `at.${randomBytes(6).toString('hex')}`) {
  const sentAt = time.now()
  return { token, sentAt, expiresAt: sentAt + HOUR, dueAt: sentAt + HOUR - MARGIN }
}

/** A `renewHere` answering `token`; `runs` counts the renewals it made (0: the hook answered from the store). */
function renewing(token) {
  const renewHere = async () => {
    renewHere.runs++
    return token
  }
  renewHere.runs = 0
  return renewHere
}

/** Writes `token` as the renewal that got it does, without a read (`forceRefresh`), and waits for the write. */
async function write(share, token) {
  await share.renew(async () => token, FORCED)
  await share.settled()
}

/** One fake clock, one stand-in, one store; `instance()` makes a session of the fleet. */
function fleet({ claim = true, apiKey = KEY, standIn: standInOptions } = {}) {
  const time = clock()
  const standIn = createStandIn({ apiKeys: [apiKey], now: time.now, ...standInOptions })
  const log = []
  const store = memoryStore(time, log, { claim })
  const { record, refreshTokens, accessTokens } = recordingIssuedTokens(standIn.fetch)
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
      apiKey,
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
    /** What each `share-failed` said: the call and the error. */
    const failures = () => events.filter((e) => e.type === 'share-failed').map(({ call, error }) => ({ call, error }))
    return { session, events, types, event, failures }
  }
  const paths = () => standIn.requests.map((r) => r.path).filter((p) => p.startsWith('/auth/'))
  return { time, standIn, store, log, refreshTokens, accessTokens, instance, paths }
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
    [[store, { key: 'ns', namespace: 'x', storeKey: 'y' }], /^unknown option namespace$/],
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
  async () => {
    const log = []
    const store = memoryStore(clock(), log)
    for (const hook of [shareTokens(store), shareTokens(store, undefined), shareTokens(store, { key: undefined })]) {
      const share = hook(context())
      assert.type(share.renew, 'function')
      assert.type(share.settled, 'function')
      await share.settled()
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

const hook = suite('share: the hook, renew() and settled()')

hook(
  'an empty store: renew() claims the lease on nothing and renews here, then writes; the next renew() finds it',
  async () => {
    const time = clock()
    const store = memoryStore(time)
    const ctx = context({ time })
    const share = shareTokens(store)(ctx)
    const token = issued(time)
    const here = renewing(token)
    assert.is(await share.renew(here, READ_FIRST), token)
    assert.is(here.runs, 1)
    await share.settled()
    const { key } = derive()
    assert.equal(store.log, [
      ['get', key],
      ['claim', `${key}:lease:`, 10_000],
      ['set', key, HOUR],
    ])
    const reader = context({ time })
    const elsewhere = renewing(issued(time))
    assert.equal(await shareTokens(store)(reader).renew(elsewhere, READ_FIRST), token)
    assert.is(elsewhere.runs, 0)
    assert.equal(reader.events, [{ type: 'shared-token-used', expiresAt: token.expiresAt }])
    assert.equal(ctx.events, [])
  },
)

hook('a token found whose writer clock runs ahead gets sentAt clamped to this clock (no clock jump)', async () => {
  const time = clock()
  const store = memoryStore(time)
  const ahead = { now: () => time.now() + 1_000 }
  await write(shareTokens(store)(context({ time: ahead })), issued(ahead))
  const found = await shareTokens(store)(context({ time })).renew(renewing(issued(time)), READ_FIRST)
  assert.is(found.sentAt, time.now())
})

hook(
  'a value from a writer whose clock runs over a minute ahead is not used: it would be served past expiry',
  async () => {
    const time = clock()
    for (const [ahead, used] of [
      [59_000, true],
      [HOUR, false],
    ]) {
      const store = memoryStore(time)
      const writer = { now: () => time.now() + ahead }
      await write(shareTokens(store)(context({ time: writer })), issued(writer))
      const here = renewing(issued(time))
      await shareTokens(store)(context({ time, timeout: 300 })).renew(here, READ_FIRST)
      assert.is(here.runs, used ? 0 : 1, `a writer ${ahead} ms ahead`)
    }
  },
)

hook('a due token and the `refused` token are not used, and are no share-failed', async () => {
  const time = clock()
  const store = memoryStore(time)
  const token = issued(time)
  await write(shareTokens(store)(context({ time })), token)
  const ctx = context({ time })
  const share = shareTokens(store, {})(ctx)
  const here = renewing(token)
  assert.is(await share.renew(here, { force: false, refused: token.token }), token)
  assert.is(here.runs, 1, 'the refused token was used')
  await share.settled()
  time.tick(HOUR - MARGIN)
  store.data.get(derive().key).until = Infinity
  await share.renew(here, READ_FIRST)
  assert.is(here.runs, 2, 'the due token was used')
  await share.settled()
  assert.equal(ctx.events, [])
})

hook('the lease is on the value being replaced: `<key>:lease:<its first 16 characters>`', async () => {
  const time = clock()
  const store = memoryStore(time)
  const share = shareTokens(store)(context({ time }))
  await write(share, issued(time))
  const value = store.data.get(derive().key).value
  await share.renew(renewing(issued(time)), { force: false, refused: unseal(value).token })
  await share.settled()
  assert.equal(
    store.log.filter((e) => e[0] === 'claim'),
    [['claim', `${derive().key}:lease:${value.slice(0, 16)}`, 10_000]],
  )
})

hook('TTLs are whole milliseconds, at least 1: a fractional timeout, a fractional expiry', async () => {
  const time = clock()
  const store = memoryStore(time)
  const share = shareTokens(store)(context({ time, timeout: 2500.5 }))
  await share.renew(async () => ({ ...issued(time), dueAt: time.now() + 1000.25, expiresAt: time.now() + 2000.25 }), {
    force: false,
    refused: undefined,
  })
  await share.settled()
  assert.equal(
    store.log.slice(1).map((e) => [e[0], e[2]]),
    [
      ['claim', 2501],
      ['set', 2001],
    ],
  )
})

hook('a token due when it is to be written, or within 1 ms, is not written', async () => {
  const time = clock()
  const store = memoryStore(time)
  const ctx = context({ time })
  await write(shareTokens(store)(ctx), { ...issued(time), dueAt: time.now() })
  await write(shareTokens(store)(ctx), { ...issued(time), dueAt: time.now() + 0.5 })
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
        const here = renewing({ ...issued(time), expiresAt: time.now() + 1e300, dueAt: time.now() + 1e299 })
        await share.renew(here, READ_FIRST)
        await share.settled()
        assert.is(here.runs, 1)
        assert.equal(ctx.events, [], `timeout ${timeout}`)
        const ttls = store.log.filter((e) => e[0] !== 'get').map((e) => e[2])
        assert.equal(ttls, [2_147_483_647, 2_147_483_647])
      }
    } finally {
      process.off('warning', onWarning)
    }
    await settle()
    assert.not.ok(warnings.includes('TimeoutOverflowWarning'))
  },
)

hook(
  'a renewal that got no token, or not a token: renew() answers it, nothing is written, no rejection',
  async () => {
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
      assert.is(await share.renew(async () => bad, FORCED), bad)
    await share.settled()
    assert.is(store.calls('set'), 0)
    assert.equal(ctx.events, [])
  },
)

hook('a clock that throws while the token is written is a share-failed `set`, never a rejection', async () => {
  const time = clock()
  const store = memoryStore(time)
  const ctx = context({ time })
  const broken = shareTokens(store)({
    ...ctx,
    now: () => {
      throw new RangeError('clock')
    },
  })
  const token = issued(time)
  assert.is(await broken.renew(async () => token, FORCED), token)
  await broken.settled()
  assert.is(store.calls('set'), 0)
  assert.equal(ctx.events, [{ type: 'share-failed', call: 'set', error: { name: 'RangeError', message: 'clock' } }])
})

hook('a renewal that fails: renew() rejects with its error, and nothing is written', async () => {
  const time = clock()
  const store = memoryStore(time)
  const ctx = context({ time })
  const share = shareTokens(store)(ctx)
  const failure = new Error('renewal failed')
  for (const options of [READ_FIRST, FORCED]) {
    const rejected = await share.renew(async () => Promise.reject(failure), options).catch((error) => error)
    assert.is(rejected, failure)
  }
  await share.settled()
  assert.is(store.calls('set'), 0)
  assert.equal(ctx.events, [])
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
    const here = renewing(issued(time))
    await shareTokens(store)(ctx).renew(here, READ_FIRST)
    assert.is(here.runs, 1)
    // Each losing claim is followed by one pause of at most 100 ms (Math.random() is 0).
    const waited = inStore + 100 * calls.claim
    assert.ok(waited <= 300, `waited ${waited} ms (store ${inStore} ms, ${calls.claim} pauses), over 2 × 150 ms`)
    assert.equal(calls, { get: 1, claim: 1 })
    assert.equal(ctx.events, [])
  })
})

hook('the write is bounded by the timeout; its failure is a share-failed `set`, never a rejection', async () => {
  for (const [set, error] of [
    [never, { name: 'TimeoutError', message: 'no answer within 30 ms' }],
    [async () => Promise.reject(new Error('read-only')), { name: 'Error', message: 'read-only' }],
    [
      () => {
        throw new RangeError('sync')
      },
      { name: 'RangeError', message: 'sync' },
    ],
  ]) {
    const time = clock()
    const store = memoryStore(time)
    store.set = set
    const ctx = context({ time, timeout: 30 })
    await write(shareTokens(store)(ctx), issued(time))
    assert.equal(ctx.events, [{ type: 'share-failed', call: 'set', error }])
  }
})

hook(
  'a read that failed does not stop the write: renew() answers at once, settled() resolves once it is written',
  async () => {
    const time = clock()
    const store = memoryStore(time)
    const set = store.set
    store.get = async () => Promise.reject(new Error('down'))
    let release
    store.set = (...args) => new Promise((resolve) => (release = () => resolve(set(...args))))
    const ctx = context({ time })
    const share = shareTokens(store)(ctx)
    const token = issued(time)
    assert.is(await share.renew(renewing(token), READ_FIRST), token)
    let settled = false
    const done = share.settled().then(() => (settled = true))
    while (!release) await settle()
    await settle()
    assert.not.ok(settled, 'settled() resolved before the write ended')
    release()
    await done
    assert.equal(stored(store), token)
    // The failed read is the end of the store for this renewal's wait: no claim.
    assert.equal(
      store.log.map((e) => e[0]),
      ['set'],
    )
    assert.equal(ctx.events, [{ type: 'share-failed', call: 'get', error: { name: 'Error', message: 'down' } }])
  },
)

hook('a write after a failed read is bounded by the timeout too: settled() resolves after it', async () => {
  const time = clock()
  const store = memoryStore(time)
  store.get = async () => Promise.reject(new Error('down'))
  store.set = never
  const ctx = context({ time, timeout: 30 })
  const share = shareTokens(store)(ctx)
  await share.renew(renewing(issued(time)), READ_FIRST)
  await share.settled()
  assert.equal(
    ctx.events.map((e) => [e.call, e.error.name]),
    [
      ['get', 'Error'],
      ['set', 'TimeoutError'],
    ],
  )
})

hook(
  'at the due time every instance claims the one lease named after the due value, which stays until expiry',
  async () => {
    // A jittered due time is fractional: with the value kept only until then, the rounded-up TTL left it readable
    // for a fraction of a millisecond more, so one instance claimed `lease:<its tag>` and a later one `lease:`.
    const time = clock()
    const store = memoryStore(time)
    const due = { ...issued(time), dueAt: time.now() + HOUR - MARGIN + 0.5 }
    await write(shareTokens(store)(context({ time })), due)
    const tag = store.data.get(derive().key).value.slice(0, 16)
    time.tick(HOUR - MARGIN + 0.75)
    const b = shareTokens(store)(context({ time }))
    let renewB
    const gotB = new Promise((resolve) => (renewB = resolve))
    const renewedByB = b.renew(() => gotB, READ_FIRST)
    while (store.calls('claim') < 1) await settle()
    time.tick(1)
    const c = renewing(issued(time))
    const renewedByC = shareTokens(store)(context({ time })).renew(c, READ_FIRST)
    while (store.calls('claim') < 2) await new Promise((resolve) => setTimeout(resolve, 5))
    const next = issued(time)
    renewB(next)
    assert.is(await renewedByB, next, 'the first instance at the due time renews')
    assert.equal(await renewedByC, next, 'a later one waits for its token')
    assert.is(c.runs, 0)
    const claims = store.log.filter((e) => e[0] === 'claim').map((e) => e[1])
    assert.equal(claims, [`${derive().key}:lease:${tag}`, `${derive().key}:lease:${tag}`])
  },
)

hook(
  "a dead holder's lease, then the lease of the instance that took it over: waited for, not reported as foreign",
  async () => {
    await withRandom(0, async () => {
      // The real clock: the leases expire while the add-on pauses between claims.
      const time = { now: () => performance.now() }
      const store = memoryStore(time)
      const claim = store.claim
      const leaseKey = `${derive().key}:lease:`
      // An instance claimed the lease and died: the lease stays until its TTL.
      await claim(leaseKey, 300)
      const deadUntil = store.data.get(leaseKey).until
      // Once it has expired, another instance claims it and renews; it writes its token while this one claims again.
      let successor = 'waiting'
      let next
      store.claim = async (key, ttl) => {
        if (successor === 'waiting' && time.now() >= deadUntil) {
          successor = 'renewing'
          assert.ok(await claim(key, ttl))
        } else if (successor === 'renewing') {
          successor = 'done'
          next = issued(time)
          await write(shareTokens(store)(context({ time })), next)
        }
        return claim(key, ttl)
      }
      const ctx = context({ time, timeout: 300 })
      const here = renewing(issued(time))
      const got = await shareTokens(store)(ctx).renew(here, READ_FIRST)
      assert.is(successor, 'done')
      assert.is(here.runs, 0, 'renewed beside the lease holder')
      assert.equal(got, next)
      assert.equal(ctx.types(), ['shared-token-used'])
    })
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
    const here = renewing(issued(time))
    await share.renew(here, READ_FIRST)
    assert.is(here.runs, 1)
    // Pauses of 100-200 ms: a budget of 600 ms allows 6 at most (with the clock's 20 s counted back, over 100).
    assert.ok(store.calls('get') <= 7, `${store.calls('get')} reads`)
  },
)

hook('a value that does not open is one share-failed `open` for a renewal, however often it is read', async () => {
  const time = clock()
  const store = memoryStore(time)
  store.data.set(derive().key, { value: 'garbage', until: Infinity })
  store.claim = async (key, ttl) => (store.log.push(['claim', key, ttl]), false)
  const ctx = context({ time, timeout: 300 })
  const share = shareTokens(store)(ctx)
  const here = renewing(issued(time))
  const renewed = share.renew(here, READ_FIRST)
  while (store.calls('get') < 3) await new Promise((resolve) => setTimeout(resolve, 10))
  time.tick(600) // the wait is over at the next read
  await renewed
  assert.is(here.runs, 1)
  assert.ok(store.calls('get') >= 3)
  assert.equal(
    ctx.events.filter((e) => e.call === 'open'),
    [
      {
        type: 'share-failed',
        call: 'open',
        error: {
          name: 'TypeError',
          message: 'the stored value was refused: it does not open with this key, or holds no usable token',
        },
      },
    ],
  )
})

hook.run()

// ---------------------------------------------------------------------------------------------

const sealed = suite('share: encrypted at rest')

sealed('the store key is derived as documented, with its namespace; the value decrypts as documented', async () => {
  const time = clock()
  const store = memoryStore(time)
  const token = issued(time)
  await write(shareTokens(store)(context({ time })), token)
  await write(shareTokens(store, { key: 'my-app:apivideo' })(context({ time, baseUrl: SANDBOX_URL })), token)
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
    await write(share, token)
    await write(share, token)
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

/**
 * Plants `value` under the store key of `reader`'s context; renew() must refuse it with one share-failed `open`
 * whose message says `why`, and renew here.
 */
async function refused(value, reader = {}, why = /^the stored value was refused: it does not open with this key/) {
  const time = clock()
  const store = memoryStore(time)
  const ctx = context({ time, ...reader })
  const keys = derive(ctx.apiKey, ctx.baseUrl, reader.namespace)
  store.data.set(keys.key, { value: typeof value === 'function' ? value(keys) : value, until: Infinity })
  const share = shareTokens(store, { key: reader.namespace })(ctx)
  const here = renewing(issued(time))
  await share.renew(here, READ_FIRST)
  await share.settled()
  assert.is(here.runs, 1)
  assert.equal(
    ctx.events.map(({ type, call, error }) => [type, call, error.name]),
    [['share-failed', 'open', 'TypeError']],
  )
  assert.match(ctx.events[0].error.message, why)
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
      await write(shareTokens(store, { key: writer.namespace })(context({ time, ...writer })), token)
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
    '{"v":1,"key":"k","token":"at.x","sentAt":1,"expiresAt":2,"dueAt":2}',
    'AAAA',
    'null',
  ])
    await refused(garbage)
  // An empty string is a string: whatever the message says of it, not that.
  await refused('', {}, /^the stored value was refused: (?!it is not a string)/)
})

sealed('a store answering something other than a string is refused as such', async () => {
  for (const answer of [42, true, {}, ['value'], { toString: () => seal(issued(clock())) }])
    await refused(answer, {}, /^the stored value was refused: it is not a string$/)
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

const oversized = suite('share: a value too long to be real is refused before it is decoded')

/**
 * Counts, while `run` runs, the calls of `atob` on a string over the limit and of `crypto.subtle.decrypt`: the
 * add-on looks both up at call time, so wrapping them on the global object sees every call.
 */
async function countingDecodes(run) {
  const { atob } = globalThis
  const subtle = globalThis.crypto.subtle
  const counts = { longAtob: 0, decrypt: 0 }
  globalThis.atob = (text) => {
    if (String(text).length > VALUE_LIMIT) counts.longAtob++
    return atob(text)
  }
  const decrypt = (...args) => (counts.decrypt++, subtle.decrypt(...args))
  const spy = new Proxy(subtle, {
    get: (target, name) => (name === 'decrypt' ? decrypt : Reflect.get(target, name).bind(target)),
  })
  Object.defineProperty(globalThis.crypto, 'subtle', { value: spy, configurable: true })
  try {
    await run()
  } finally {
    globalThis.atob = atob
    delete globalThis.crypto.subtle
  }
  assert.is(globalThis.crypto.subtle, subtle)
  return counts
}

oversized('a 24 MB value: one share-failed `open`, never decoded nor decrypted; the session renews', async () => {
  const { instance, store, paths } = fleet()
  // Valid base64 all along, so that decoding it would succeed (and take seconds).
  store.data.set(derive().key, { value: 'A'.repeat(24 * 1024 * 1024), until: Infinity })
  const a = instance()
  let token
  const counts = await countingDecodes(async () => {
    token = await a.session.token()
    await a.session.settled()
  })
  assert.equal(counts, { longAtob: 0, decrypt: 0 })
  assert.equal(a.failures(), [
    {
      call: 'open',
      error: { name: 'TypeError', message: `the stored value was refused: it is over ${VALUE_LIMIT} characters` },
    },
  ])
  assert.equal(paths(), ['/auth/api-key'])
  assert.is(stored(store).token, token, 'the oversized value is replaced')
})

oversized(
  `the limit is ${VALUE_LIMIT} characters: one more is refused unread, the limit itself is decoded`,
  async () => {
    for (const [length, decoded] of [
      [VALUE_LIMIT, true],
      [VALUE_LIMIT + 1, false],
    ]) {
      const time = clock()
      const store = memoryStore(time)
      const ctx = context({ time })
      store.data.set(derive().key, { value: 'A'.repeat(length), until: Infinity })
      let decrypts
      await countingDecodes(async () => {
        const share = shareTokens(store)(ctx)
        await share.renew(renewing(issued(time)), READ_FIRST)
        await share.settled()
      }).then((counts) => (decrypts = counts.decrypt))
      assert.is(decrypts, decoded ? 1 : 0, `${length} characters`)
      const why = decoded ? 'it does not open with this key' : `it is over ${VALUE_LIMIT} characters`
      assert.equal(ctx.types(), ['share-failed'])
      assert.ok(ctx.events[0].error.message.includes(why), ctx.events[0].error.message)
    }
  },
)

oversized.run()

// ---------------------------------------------------------------------------------------------

const share = suite('share: sessions read before renewing, write after')

share('the store is read (and the lease claimed) before /auth/api-key, and written after', async () => {
  const { instance, log } = fleet()
  const { session } = instance()
  await session.token()
  await session.settled()
  assert.equal(
    log.map((e) => e[0] + (e[0] === 'fetch' ? ` ${e[1]}` : '')),
    ['get', 'claim', 'fetch /auth/api-key', 'set'],
  )
})

share('a fresh shared token is used at once: no request, a `shared-token-used` event', async () => {
  const { instance, paths } = fleet()
  const a = instance()
  const b = instance()
  const token = await a.session.token()
  await a.session.settled()
  assert.is(await b.session.token(), token)
  assert.is(await b.session.authorization(), `Bearer ${token}`)
  assert.equal(paths(), ['/auth/api-key'])
  assert.equal(b.types(), ['shared-token-used'])
  assert.is(b.events[0].expiresAt, a.events[0].expiresAt)
})

share('a token taken from the store is then served from memory', async () => {
  const { instance, store } = fleet()
  const a = instance()
  await a.session.token()
  await a.session.settled()
  const b = instance()
  for (let i = 0; i < 5; i++) await b.session.token()
  assert.is(store.calls('get'), 2)
})

share('written after each renewal, encrypted, with an integer TTL ending at expiry', async () => {
  await withRandom(0.3, async () => {
    const { instance, store, time, paths } = fleet()
    const a = instance()
    const first = await a.session.token()
    await a.session.settled()
    time.tick(HOUR - MARGIN * 1.15)
    // Due: the held token is served while the renewal runs in the background.
    assert.is(await a.session.token(), first)
    await a.session.settled()
    const second = await a.session.token()
    assert.is.not(second, first)
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
  await a.session.settled()
  const forced = await a.session.token({ forceRefresh: true })
  await a.session.settled()
  assert.is(store.calls('get'), 1)
  assert.is(stored(store).token, forced)
})

share(
  'a cold session whose store read fails at once still writes the token it got; the next one uses it',
  async () => {
    // A Redis client that connects in the background with its offline queue off fails its first command at once.
    const { instance, store, paths } = fleet()
    const get = store.get
    store.get = async () => Promise.reject(new Error('The client is closed'))
    const a = instance()
    const token = await a.session.token()
    await a.session.settled()
    assert.is(stored(store).token, token)
    assert.equal(a.failures(), [{ call: 'get', error: { name: 'Error', message: 'The client is closed' } }])
    store.get = get
    const b = instance()
    assert.is(await b.session.token(), token)
    assert.equal(paths(), ['/auth/api-key'])
  },
)

share('a store lost by a renewal that then failed does not stop a later forced renewal from writing', async () => {
  const { instance, store, standIn } = fleet()
  const get = store.get
  store.get = async () => Promise.reject(new Error('down'))
  standIn.fail('/auth/api-key', { status: 500 })
  const a = instance({ retries: 0 })
  const failed = await a.session.token().catch((error) => error)
  assert.is(failed.code, 'SERVER_ERROR')
  store.get = get
  const forced = await a.session.token({ forceRefresh: true })
  await a.session.settled()
  assert.is(store.calls('set'), 1, 'the forced renewal did not write')
  assert.is(stored(store).token, forced)
  assert.equal(a.types(), ['share-failed', 'renewal-failed', 'authenticated'])
})

share('no refresh token (nor the API key) is ever in a key or value written, raw or decrypted', async () => {
  const { instance, store, time, refreshTokens } = fleet()
  const a = instance()
  await a.session.token()
  await a.session.settled()
  time.tick(HOUR)
  await a.session.token()
  await a.session.settled()
  await a.session.token({ forceRefresh: true })
  await a.session.settled()
  assert.is(refreshTokens.length, 3)
  assert.is(store.writes.length, 3)
  for (const { key, value } of store.writes) {
    const plain = JSON.stringify(unseal(value))
    for (const secret of [KEY, ...refreshTokens]) {
      assert.not.ok(value.includes(secret) || plain.includes(secret), 'a secret in a value')
      assert.not.ok(key.includes(secret), 'a secret in a key')
    }
  }
})

share(
  'callers get the token before a slow store write ends; settled() waits for it; a failure is reported',
  async () => {
    const { instance, store } = fleet()
    let release
    const writing = new Promise((started) => {
      store.set = () => (started(), new Promise((resolve, reject) => (release = reject)))
    })
    const a = instance()
    const token = await a.session.token()
    assert.ok(token)
    await writing
    let settled = false
    const done = a.session.settled().then(() => (settled = true))
    await settle()
    assert.not.ok(settled, 'settled() resolved before the write ended')
    release(new Error('read-only'))
    await done
    assert.equal(a.types(), ['authenticated', 'share-failed'])
    assert.equal(a.failures(), [{ call: 'set', error: { name: 'Error', message: 'read-only' } }])
  },
)

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

const failing = suite('share: what a failing store reports')

const LIVE_KEY = 'live-key-0123456789abcdefABCDEF'

/** A store error as a Redis client throws one. */
class ClientClosedError extends Error {
  name = 'ClientClosedError'
}

/**
 * A cold session with `LIVE_KEY` on a store broken as `broken` says; what its `share-failed` events said, after
 * checking that no event, printed either way, holds the API key, a refresh token or an access token.
 */
async function reported(broken, options = {}) {
  const { instance, store, refreshTokens, accessTokens } = fleet({ apiKey: LIVE_KEY })
  Object.assign(store, broken(store))
  const a = instance({ timeout: 50, ...options })
  const token = await a.session.token()
  await a.session.settled()
  assert.ok(token)
  const printed = JSON.stringify(a.events) + inspect(a.events, { depth: Infinity, showHidden: true })
  for (const secret of [LIVE_KEY, ...refreshTokens, ...accessTokens])
    assert.not.ok(printed.includes(secret), `a secret in an event: ${secret.slice(0, 4)}…`)
  for (const event of a.events.filter((e) => e.type === 'share-failed')) {
    assert.equal(Object.keys(event).sort(), ['at', 'call', 'error', 'type'])
    assert.equal(Object.keys(event.error).sort(), ['message', 'name'])
  }
  return a.failures()
}

failing('each call that failed is named, with the error name and message', async () => {
  const closed = async () => Promise.reject(new ClientClosedError('The client is closed'))
  assert.equal(await reported(() => ({ get: closed })), [
    { call: 'get', error: { name: 'ClientClosedError', message: 'The client is closed' } },
  ])
  assert.equal(await reported(() => ({ claim: closed })), [
    { call: 'claim', error: { name: 'ClientClosedError', message: 'The client is closed' } },
  ])
  const readOnly = async () => Promise.reject(new Error("READONLY You can't write against a read only replica."))
  assert.equal(await reported(() => ({ set: readOnly })), [
    { call: 'set', error: { name: 'Error', message: "READONLY You can't write against a read only replica." } },
  ])
})

failing(
  'a store rejecting with what cannot be read or printed fails nobody and leaves no unhandled rejection',
  async () => {
    const unhandled = []
    const onUnhandled = (reason) => unhandled.push(reason)
    process.on('unhandledRejection', onUnhandled)
    try {
      const bare = async () => Promise.reject(Object.create(null))
      const trap = async () =>
        Promise.reject({
          get message() {
            throw Object.create(null)
          },
        })
      assert.equal(await reported(() => ({ get: bare })), [
        { call: 'get', error: { name: 'object', message: 'unreadable' } },
      ])
      assert.equal(await reported(() => ({ set: trap })), [
        { call: 'set', error: { name: 'object', message: 'unreadable' } },
      ])
      await settle()
      assert.equal(unhandled, [])
    } finally {
      process.off('unhandledRejection', onUnhandled)
    }
  },
)

failing('a call that does not answer within the timeout is a TimeoutError', async () => {
  for (const call of ['get', 'claim', 'set'])
    assert.equal(await reported(() => ({ [call]: never })), [
      { call, error: { name: 'TimeoutError', message: 'no answer within 50 ms' } },
    ])
})

failing('a value that does not open is `open`, and says why', async () => {
  assert.equal(
    await reported((store) => {
      store.data.set(derive(LIVE_KEY).key, { value: seal(issued(clock()), derive()), until: Infinity })
      return {}
    }),
    [
      {
        call: 'open',
        error: {
          name: 'TypeError',
          message: 'the stored value was refused: it does not open with this key, or holds no usable token',
        },
      },
    ],
  )
})

failing('the API key in a store error is scrubbed, also where the message is cut short', async () => {
  for (const message of [
    `AUTH failed for ${LIVE_KEY}`,
    `${'x'.repeat(190)}${LIVE_KEY}`,
    `${'x'.repeat(180)}${LIVE_KEY}${'y'.repeat(100)}`,
  ]) {
    const [{ error }] = await reported(() => ({ get: async () => Promise.reject(new Error(message)) }))
    for (let start = 0; start + 8 <= LIVE_KEY.length; start++)
      assert.not.ok(error.message.includes(LIVE_KEY.slice(start, start + 8)), `part of the key in: ${error.message}`)
  }
  const [{ error }] = await reported(() => ({
    get: async () => Promise.reject(Object.assign(new Error('no'), { name: `Error ${LIVE_KEY}` })),
  }))
  assert.not.ok(error.name.includes(LIVE_KEY.slice(0, 8)))
})

failing('what is not an Error is named by its type; a message is one line of at most 200 characters', async () => {
  assert.equal(await reported(() => ({ get: async () => Promise.reject('connection reset') })), [
    { call: 'get', error: { name: 'string', message: 'connection reset' } },
  ])
  const [{ error }] = await reported(() => ({
    get: async () => Promise.reject(new Error(`line one\nline two\r\n${'z'.repeat(500)}`)),
  }))
  assert.ok(error.message.length <= 200, `${error.message.length} characters`)
  assert.match(error.message, /^line one line two  z+$/)
})

failing.run()

// ---------------------------------------------------------------------------------------------

const renew = suite('share: who renews a due shared token')

renew('an instance with its own refresh token uses it when the shared token is due', async () => {
  await withRandom(0, async () => {
    const { instance, time, paths, store } = fleet()
    const a = instance()
    const b = instance()
    const first = await a.session.token()
    await a.session.settled()
    assert.is(await b.session.token(), first)
    time.tick(HOUR - MARGIN)
    assert.is(await a.session.token(), first, 'the due token is served while it is renewed')
    await a.session.settled()
    const renewed = await a.session.token()
    assert.equal(paths(), ['/auth/api-key', '/auth/refresh'])
    assert.is(await b.session.token(), first)
    await b.session.settled()
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
    await a.session.settled()
    assert.is(await b.session.token(), first)
    time.tick(HOUR - MARGIN)
    assert.is(await b.session.token(), first)
    await b.session.settled()
    const renewed = await b.session.token()
    assert.is.not(renewed, first)
    assert.equal(paths(), ['/auth/api-key', '/auth/api-key'])
    await a.session.token()
    await a.session.settled()
    assert.is(await a.session.token(), renewed)
    assert.equal(paths().length, 2)
  })
})

renew('a due shared token (not yet expired) is not used, and is no share-failed', async () => {
  const { instance, time, store, paths } = fleet()
  const a = instance()
  await a.session.token()
  await a.session.settled()
  const entry = store.data.get(onlyKey(store))
  time.tick(stored(store).dueAt - time.now())
  entry.until = Infinity
  const b = instance()
  assert.is.not(await b.session.token(), stored(store).token)
  assert.equal(paths(), ['/auth/api-key', '/auth/api-key'])
  assert.equal(b.types(), ['authenticated'])
})

renew('a token that got a 401 from session.fetch is not taken from the store again', async () => {
  const { instance, standIn, store } = fleet()
  const a = instance()
  const revoked = await a.session.token()
  await a.session.settled()
  standIn.revoke()
  const b = instance()
  assert.is(await b.session.token(), revoked)
  const response = await b.session.fetch('https://ws.api.video/videos')
  assert.is(response.status, 200)
  const current = await b.session.token()
  await b.session.settled()
  assert.is.not(current, revoked)
  assert.is(stored(store).token, current)
  assert.equal(b.types(), ['shared-token-used', 'authenticated'])
})

renew('a plain invalidate() drops the token for good: it is not taken back from the store', async () => {
  const { instance, store, paths } = fleet()
  const a = instance()
  const dropped = await a.session.token()
  await a.session.settled()
  a.session.invalidate()
  const next = await a.session.token()
  await a.session.settled()
  assert.is.not(next, dropped)
  assert.equal(paths(), ['/auth/api-key', '/auth/refresh'])
  assert.is(stored(store).token, next)
})

renew('a writer whose clock runs ahead: the reader keeps the token, no clock jump, no second read', async () => {
  const { instance, store, time } = fleet()
  const a = instance({ now: () => time.now() + 1_000 })
  const token = await a.session.token()
  await a.session.settled()
  const b = instance()
  assert.is(await b.session.token(), token)
  assert.is(await b.session.token(), token)
  assert.is(store.calls('get'), 2)
  assert.not.ok(b.types().includes('clock-jumped'))
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
  assert.is([...a.types(), ...b.types()].filter((t) => t === 'shared-token-used').length, 1)
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
  await a.session.settled()
  assert.ok(token)
  assert.equal(paths(), ['/auth/api-key'])
  assert.ok(store.calls('claim') >= 2)
  assert.ok(store.calls('claim') <= 3)
  assert.is(stored(store).token, token)
})

lease('a cold session stops waiting on a lease held past its TTL, reports it as `lease`, and renews', async () => {
  await withRandom(0, async () => {
    const { instance, store, time, paths } = fleet()
    // Someone who can write the store holds every lease; each claim takes 100 ms of the session's clock.
    store.claim = async (key, ttl) => {
      store.log.push(['claim', key, ttl])
      time.tick(100)
      return false
    }
    const a = instance({ timeout: 1_000 })
    const token = await a.session.token()
    await a.session.settled()
    assert.equal(paths(), ['/auth/api-key'])
    assert.equal(a.failures(), [
      { call: 'lease', error: { name: 'Error', message: 'the lease is held past its 1000 ms TTL' } },
    ])
    assert.equal(a.types(), ['share-failed', 'authenticated'])
    // A claim every 200 ms of the wait (100 ms in the store, a pause of 100 ms): waiting out the whole budget of
    // 2 timeouts would have claimed 10 times.
    assert.ok(store.calls('claim') < 10, `${store.calls('claim')} claims`)
    assert.is(stored(store).token, token)
  })
})

lease('a squatted lease: a session holding a valid token past its due time serves its callers at once', async () => {
  await withRandom(0, async () => {
    const { instance, store, time, paths } = fleet()
    const a = instance({ timeout: 300 })
    const first = await a.session.token()
    await a.session.settled()
    // From now on every lease is held by someone else, and the store answers reads only when this test says so.
    const get = store.get
    const held = []
    let answered = 0
    store.get = (key) => new Promise((resolve) => held.push(() => resolve(get(key)))).finally(() => answered++)
    store.claim = async (key, ttl) => {
      store.log.push(['claim', key, ttl])
      time.tick(150)
      answered++
      return false
    }
    time.tick(HOUR - MARGIN)
    const tokens = await Promise.all(Array.from({ length: 20 }, () => a.session.token()))
    assert.equal(new Set(tokens), new Set([first]))
    assert.is(answered, 0, 'a caller waited for a store call')
    while (held.length === 0) await settle()
    assert.is(answered, 0)
    assert.is(await a.session.token(), first)
    for (let released = 0; !paths().includes('/auth/refresh'); await settle())
      while (released < held.length) held[released++]()
    await a.session.settled()
    assert.equal(a.failures(), [
      { call: 'lease', error: { name: 'Error', message: 'the lease is held past its 300 ms TTL' } },
    ])
    assert.equal(paths(), ['/auth/api-key', '/auth/refresh'])
    assert.is.not(await a.session.token(), first)
  })
})

lease('replacing the value just written takes another lease, free although the first has not expired', async () => {
  const { instance, store } = fleet()
  const a = instance({ key: 'my-app:apivideo' })
  await a.session.token()
  await a.session.settled()
  a.session.invalidate()
  await a.session.token()
  const leases = store.log.filter((e) => e[0] === 'claim').map((e) => e[1])
  const key = derive(KEY, BASE, 'my-app:apivideo').key
  assert.equal(leases, [`${key}:lease:`, `${key}:lease:${store.writes[0].value.slice(0, 16)}`])
})

lease.run()

// ---------------------------------------------------------------------------------------------

const faults = suite('share: a failing store is skipped with `share-failed`')

/** A session whose store is broken as `broken` says; it must still serve a working token. */
async function survives(broken, options = {}) {
  const { instance, store, paths, standIn } = fleet()
  Object.assign(store, broken(store))
  const a = instance({ timeout: 50, ...options })
  const token = await a.session.token()
  const response = await a.session.fetch('https://ws.api.video/videos')
  assert.is(response.status, 200)
  await a.session.settled()
  assert.ok(a.types().includes('share-failed'))
  assert.ok(a.types().includes('authenticated'))
  assert.not.ok(a.types().includes('renewal-failed'))
  return { token, store, paths, standIn, a }
}

faults(
  'get throws: the rest of the wait skips the store, the token is still written; the next renewal reads',
  async () => {
    const { store, paths, a } = await survives((s) => ({
      get: async (k) => (s.log.push(['get', k]), Promise.reject(new Error('down'))),
    }))
    assert.equal(paths(), ['/auth/api-key'])
    assert.equal(
      store.log.filter((e) => e[0] !== 'fetch').map((e) => e[0]),
      ['get', 'set'],
    )
    a.session.invalidate()
    await a.session.token()
    await a.session.settled()
    assert.equal(
      store.log.filter((e) => e[0] !== 'fetch').map((e) => e[0]),
      ['get', 'set', 'get', 'set'],
    )
  },
)

faults('get throws synchronously', async () => {
  const { paths, a } = await survives(() => ({
    get() {
      throw new Error('sync')
    },
  }))
  assert.equal(paths(), ['/auth/api-key'])
  assert.equal(a.failures(), [{ call: 'get', error: { name: 'Error', message: 'sync' } }])
})

faults('get hangs: bounded by the timeout, and the token is still written', async () => {
  const { paths, store, token } = await survives(() => ({ get: never }))
  assert.equal(paths(), ['/auth/api-key'])
  assert.is(store.calls('set'), 1)
  assert.is(stored(store).token, token)
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
    const { store, a } = await survives(() => ({}))
    assert.is(store.log.filter((e) => e[0] !== 'fetch').length, 0)
    assert.equal(
      a.failures().map((f) => f.call),
      ['get', 'set'],
    )
  } finally {
    delete globalThis.crypto.subtle
  }
  assert.ok(globalThis.crypto.subtle)
})

faults('garbage under the key: ignored with share-failed `open`, renewed, overwritten', async () => {
  for (const garbage of ['not json', '{"v":1}', '', 'AAAA']) {
    const { instance, store, paths } = fleet()
    store.data.set(derive().key, { value: garbage, until: Infinity })
    const b = instance()
    const token = await b.session.token()
    await b.session.settled()
    assert.equal(paths(), ['/auth/api-key'])
    assert.equal(b.types(), ['share-failed', 'authenticated'])
    assert.equal(
      b.failures().map((f) => f.call),
      ['open'],
    )
    assert.is(stored(store).token, token, 'the bad value is overwritten')
  }
})

faults('a value written under another namespace, moved under this one, is refused', async () => {
  const { instance, store, paths } = fleet()
  const a = instance({ key: 'tenant-a' })
  await a.session.token()
  await a.session.settled()
  store.data.set(derive(KEY, BASE, 'tenant-b').key, { ...store.data.get(derive(KEY, BASE, 'tenant-a').key) })
  const b = instance({ key: 'tenant-b' })
  await b.session.token()
  assert.equal(paths(), ['/auth/api-key', '/auth/api-key'])
  assert.equal(b.types(), ['share-failed', 'authenticated'])
})

faults('an expired value (a store that ignores TTLs) is refused', async () => {
  const { instance, store, paths, time } = fleet()
  const a = instance()
  await a.session.token()
  await a.session.settled()
  store.data.get(onlyKey(store)).until = Infinity
  time.tick(stored(store).expiresAt - time.now())
  const b = instance()
  await b.session.token()
  assert.equal(paths(), ['/auth/api-key', '/auth/api-key'])
  assert.equal(b.types(), ['share-failed', 'authenticated'])
})

faults.run()

// ---------------------------------------------------------------------------------------------

const flight = suite('share: one store read and one renewal per instance')

flight('500 concurrent cold callers: one read, one claim, one request, one write', async () => {
  const { instance, store, paths } = fleet()
  const a = instance()
  const tokens = await Promise.all(Array.from({ length: 500 }, () => a.session.token()))
  await a.session.settled()
  assert.is(new Set(tokens).size, 1)
  assert.equal([store.calls('get'), store.calls('claim'), store.calls('set')], [1, 1, 1])
  assert.equal(paths(), ['/auth/api-key'])
})

flight('500 concurrent callers when the store holds a fresh token: one read, no request', async () => {
  const { instance, store, paths } = fleet()
  const a = instance()
  await a.session.token()
  await a.session.settled()
  const b = instance()
  const tokens = await Promise.all(Array.from({ length: 500 }, () => b.session.token()))
  assert.is(new Set(tokens).size, 1)
  assert.is(store.calls('get'), 2)
  assert.equal(paths(), ['/auth/api-key'])
})

flight(
  '500 concurrent callers at renewal time: served the held token, one read, one refresh, one write',
  async () => {
    const { instance, store, paths, time } = fleet()
    const a = instance()
    const first = await a.session.token()
    await a.session.settled()
    time.tick(HOUR - MARGIN / 2)
    const tokens = await Promise.all(Array.from({ length: 500 }, () => a.session.token()))
    assert.equal(new Set(tokens), new Set([first]))
    await a.session.settled()
    assert.equal([store.calls('get'), store.calls('set')], [2, 2])
    assert.equal(paths(), ['/auth/api-key', '/auth/refresh'])
  },
)

flight('500 concurrent callers inside the hard window: they wait for one read, one refresh, one write', async () => {
  const { instance, store, paths, time } = fleet()
  const a = instance()
  const first = await a.session.token()
  await a.session.settled()
  time.tick(HOUR - 10_000)
  const tokens = await Promise.all(Array.from({ length: 500 }, () => a.session.token()))
  assert.is(new Set(tokens).size, 1)
  assert.is.not(tokens[0], first)
  await a.session.settled()
  assert.equal([store.calls('get'), store.calls('set')], [2, 2])
  assert.equal(paths(), ['/auth/api-key', '/auth/refresh'])
})

flight('sessions with the same key and base share one store key; another API key or base gets another', async () => {
  const time = clock()
  const store = memoryStore(time)
  const standIn = createStandIn({ apiKeys: [KEY, 'other-key'], now: time.now })
  const make = (options) =>
    createSession({ apiKey: KEY, fetch: standIn.fetch, now: time.now, share: shareTokens(store), ...options })
  for (const options of [{}, {}, { apiKey: 'other-key' }, { baseUrl: SANDBOX_URL }]) {
    const session = make(options)
    await session.token()
    await session.settled()
  }
  const written = new Set(store.writes.map((w) => w.key))
  assert.equal([...written], [derive().key, derive('other-key').key, derive(KEY, SANDBOX_URL).key])
  assert.is(standIn.requests.length, 3)
})

flight.run()
