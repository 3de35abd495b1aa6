// The stand-in: faults on demand, and the argument checks of createStandIn and fail().
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { authenticate, authenticateRequest } from '../../dist/index.js'
import { createStandIn } from '../../dist/testing.js'
import { KEY, failure } from '../helpers/index.mjs'
import { get } from '../helpers/stand-in.mjs'

const faults = suite('stand-in: faults')

faults('queued replies are served in order, one per request, then normal answers resume', async () => {
  const standIn = createStandIn()
  standIn.fail('/auth/api-key', { status: 503 }, { status: 500 })
  standIn.fail('/auth/api-key', { status: 502 })
  const statuses = []
  for (let i = 0; i < 4; i++) statuses.push((await standIn.handler(authenticateRequest(KEY))).status)
  assert.equal(statuses, [503, 500, 502, 200])
})

faults('a fault only touches its own path, including a resource path', async () => {
  const standIn = createStandIn()
  standIn.fail('/videos', { status: 404 })
  const { accessToken } = await authenticate(KEY, { fetch: standIn.fetch })
  assert.is((await standIn.handler(get('/live-streams', accessToken))).status, 200)
  assert.is((await standIn.handler(get('/videos', accessToken))).status, 404)
  assert.is((await standIn.handler(get('/videos', accessToken))).status, 200)
})

faults('a status fault has a default problem body; its own body and headers replace it', async () => {
  const standIn = createStandIn()
  standIn.fail(
    '/auth/api-key',
    { status: 503 },
    { status: 429, body: { title: 'slow down' }, headers: { 'x-ratelimit-retry-after': '7' } },
  )
  const first = await standIn.handler(authenticateRequest(KEY))
  assert.equal(await first.json(), { type: 'about:blank', title: 'Stand-in fault 503.', name: '', status: 503 })
  const error = await failure(authenticate(KEY, { fetch: standIn.fetch }))
  assert.is(error.code, 'RATE_LIMITED')
  assert.is(error.retryAfter, 7)
  assert.equal(error.problem, { title: 'slow down' })
})

faults('a 204 fault answers without a body', async () => {
  const standIn = createStandIn()
  standIn.fail('/videos', { status: 204 })
  const response = await standIn.handler(get('/videos'))
  assert.is(response.status, 204)
  assert.is(await response.text(), '')
})

faults('networkError makes the fetch reject as a dropped connection would', async () => {
  const standIn = createStandIn()
  standIn.fail('/auth/api-key', { networkError: true })
  assert.instance(await failure(standIn.fetch(authenticateRequest(KEY))), TypeError)
  standIn.fail('/auth/api-key', { networkError: true })
  assert.is((await failure(authenticate(KEY, { fetch: standIn.fetch }))).code, 'NETWORK_ERROR')
})

faults('delay holds the normal answer back; an abort ends it with the signal reason', async () => {
  const standIn = createStandIn()
  standIn.fail('/auth/api-key', { delay: 1 })
  assert.is((await standIn.fetch(authenticateRequest(KEY))).status, 200)
  standIn.fail('/auth/api-key', { delay: 60_000 })
  const controller = new AbortController()
  const pending = standIn.fetch(authenticateRequest(KEY), { signal: controller.signal })
  const reason = new Error('gave up')
  controller.abort(reason)
  assert.is(await failure(pending), reason)
})

faults('an already aborted request is refused before anything is recorded', async () => {
  const standIn = createStandIn()
  const reason = new Error('no')
  assert.is(await failure(standIn.fetch(authenticateRequest(KEY), { signal: AbortSignal.abort(reason) })), reason)
  assert.equal(standIn.requests, [])
})

faults('bad arguments throw a TypeError naming the argument, never its value', () => {
  const standIn = createStandIn()
  const cases = [
    [() => standIn.fail('videos'), /^path /],
    [() => standIn.fail(42), /^path /],
    [() => standIn.fail('/x', { status: 99 }), /^faults /],
    [() => standIn.fail('/x', { status: 600 }), /^faults /],
    [() => standIn.fail('/x', { delay: -1 }), /^faults /],
    [() => standIn.fail('/x', { networkError: 'yes' }), /^faults /],
    [() => standIn.fail('/x', null), /^faults /],
    // Each of these was accepted, then went wrong only at the next request (a network error, a 1 ms timer).
    [() => standIn.fail('/videos?currentPage=2', { status: 503 }), /^path /],
    [() => standIn.fail('/x#top', { status: 503 }), /^path /],
    [() => standIn.fail('/x', { status: 500, headers: 5 }), /^faults /],
    [() => standIn.fail('/x', { status: 500, headers: { 'x-a': 'a\nb' } }), /^faults /],
    [() => standIn.fail('/x', { status: 500, body: { n: 1n } }), /^faults /],
    [() => standIn.fail('/x', { delay: 3e9 }), /^faults /],
    [() => createStandIn({ apiKeys: 'sk_secret_value' }), /^apiKeys /],
    [() => createStandIn({ apiKeys: [42] }), /^apiKeys /],
    [() => createStandIn({ expiresIn: 0 }), /^expiresIn /],
    [() => createStandIn({ expiresIn: Infinity }), /^expiresIn /],
    [() => createStandIn({ now: 5 }), /^now /],
    [() => createStandIn({ keepRequests: -1 }), /^keepRequests /],
    [() => createStandIn({ keepRequests: 1.5 }), /^keepRequests /],
    [() => createStandIn({ keepRequests: '10' }), /^keepRequests /],
    // A misspelt option was ignored: the stand-in then refused the key the test meant to allow.
    [() => createStandIn({ apikeys: ['sk_secret_value'] }), /^unknown option apikeys \(did you mean apiKeys\?\)$/],
    [() => createStandIn({ expiresInMs: 5 }), /^unknown option expiresInMs \(did you mean expiresIn\?\)$/],
    [() => createStandIn('sk_secret_value'), /^options must be an object$/],
  ]
  for (const [run, message] of cases) {
    try {
      run()
      assert.unreachable('did not throw')
    } catch (error) {
      assert.instance(error, TypeError)
      assert.match(error.message, message)
      assert.not.match(error.message, 'sk_secret_value')
    }
  }
  standIn.fail('/x', { status: 200 }, { delay: 0 }, { networkError: true })
})

faults.run()
