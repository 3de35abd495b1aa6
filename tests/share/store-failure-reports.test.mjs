// apivideo-auth/share: what a failing store reports.
import { inspect } from 'node:util'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { clock, settle } from '../helpers/index.mjs'
import { derive, fleet, issued, never, seal } from '../helpers/share.mjs'

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

failing('the API key twice in a store error: scrubbed both times, before, across and beyond the cut', async () => {
  // The message is cut to 200 characters; the second key starts well within, across the cut, and past it.
  for (const gap of [0, 100, 150, 165, 170, 175, 180, 185, 199, 230]) {
    const message = `${LIVE_KEY}${'x'.repeat(gap)}${LIVE_KEY}${'y'.repeat(50)}`
    const [{ error }] = await reported(() => ({ get: async () => Promise.reject(new Error(message)) }))
    assert.ok(error.message.startsWith(gap ? '[redacted]x' : '[redacted][redacted]'), error.message)
    assert.ok(error.message.length <= 200, `${error.message.length} characters`)
    for (let start = 0; start + 4 <= LIVE_KEY.length; start++)
      assert.not.ok(error.message.includes(LIVE_KEY.slice(start, start + 4)), `part of the key in: ${error.message}`)
  }
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
