// apivideo-auth/share: the hook alone, renew() and settled().
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { shareTokens } from '../../dist/share.js'
import { clock, settle, withRandom } from '../helpers/index.mjs'
import {
  FORCED,
  HOUR,
  MARGIN,
  READ_FIRST,
  context,
  derive,
  issued,
  memoryStore,
  never,
  renewing,
  stored,
  unseal,
  write,
} from '../helpers/share.mjs'

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
