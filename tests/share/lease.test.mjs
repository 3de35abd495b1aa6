// apivideo-auth/share: claim, the lease and waiting.
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { KEY, settle, withRandom } from '../helpers/index.mjs'
import { BASE, HOUR, MARGIN, derive, fleet, stored } from '../helpers/share.mjs'

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
