// apivideo-auth/share: a failing store is skipped with share-failed.
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { KEY } from '../helpers/index.mjs'
import { BASE, derive, fleet, never, onlyKey, stored } from '../helpers/share.mjs'

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
