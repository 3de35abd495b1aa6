// apivideo-auth/share: a value too long to be real is refused before it is decoded.
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { shareTokens } from '../../dist/share.js'
import { clock } from '../helpers/index.mjs'
import {
  READ_FIRST,
  VALUE_LIMIT,
  context,
  derive,
  fleet,
  issued,
  memoryStore,
  renewing,
  stored,
} from '../helpers/share.mjs'

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
