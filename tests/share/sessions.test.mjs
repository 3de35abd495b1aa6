// apivideo-auth/share: sessions read the store before renewing and write after.
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { KEY, settle, withRandom } from '../helpers/index.mjs'
import { HOUR, MARGIN, fleet, stored, unseal } from '../helpers/share.mjs'

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
