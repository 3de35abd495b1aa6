// apivideo-auth/share: what it stores is encrypted, bound to its key.
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { SANDBOX_URL } from '../../dist/index.js'
import { shareTokens } from '../../dist/share.js'
import { flip } from '../fleet/sealed.mjs'
import { KEY, clock } from '../helpers/index.mjs'
import {
  READ_FIRST,
  STORE_KEY,
  context,
  derive,
  issued,
  memoryStore,
  renewing,
  seal,
  unseal,
  write,
} from '../helpers/share.mjs'

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
