// The stand-in: api.video's rate limits, per API key and per kind of request, in fixed windows of its clock.
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { createStandIn } from '../../dist/testing.js'
import { KEY, assertArgumentError, clock, serve, thrownBy } from '../helpers/index.mjs'

const API = 'https://ws.api.video'
const START = Date.parse('2026-01-05T08:00:00Z') // a multiple of every window below: each test starts a window

/** A stand-in on a fake clock with `rateLimits`, and a Bearer token of KEY (the auth requests are never limited). */
async function limited(rateLimits, { apiKeys = [KEY] } = {}) {
  const time = clock(START)
  const standIn = createStandIn({ apiKeys, now: time.now, rateLimits })
  const tokenOf = async (apiKey) => {
    const answer = await standIn.fetch(`${API}/auth/api-key`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ apiKey }),
    })
    return `Bearer ${(await answer.json()).access_token}`
  }
  const bearer = await tokenOf(apiKeys[0])
  const send = (method, path, { authorization = bearer, body, headers = {} } = {}) =>
    standIn.fetch(`${API}${path}`, {
      method,
      headers: { authorization, ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
      body: body === undefined ? undefined : JSON.stringify(body),
    })
  return { time, standIn, send, tokenOf }
}

const headersOf = (answer) =>
  ['limit', 'remaining', 'retry-after'].map((name) => answer.headers.get(`x-ratelimit-${name}`))

const limits = suite('stand-in: rate limits')

limits('5 reads on a budget of 5 say Remaining 4 down to 0; the 6th is a 429 with the problem body', async () => {
  const { send, standIn } = await limited({ reads: 5, windowMs: 1_000 })
  const answers = []
  for (let i = 0; i < 6; i++) answers.push(await send('GET', '/videos'))
  assert.equal(
    answers.map((a) => a.status),
    [200, 200, 200, 200, 200, 429],
  )
  assert.equal(
    answers.map((a) => headersOf(a)),
    [
      ['5', '4', '1'],
      ['5', '3', '1'],
      ['5', '2', '1'],
      ['5', '1', '1'],
      ['5', '0', '1'],
      ['5', '0', '1'],
    ],
  )
  const problem = await answers[5].json()
  assert.equal(problem, {
    type: 'https://docs.api.video/reference/too-many-requests',
    title: 'Too many requests.',
    name: '',
    status: 429,
  })
  assert.is(standIn.counts.rateLimited, 1)
})

limits(
  'Retry-After is whole seconds to the window end, at least 1; a new window starts with the budget',
  async () => {
    const { send, time } = await limited({ reads: 1, windowMs: 60_000 })
    assert.equal(headersOf(await send('GET', '/videos')), ['1', '0', '60'])
    time.tick(20_500)
    assert.equal(headersOf(await send('GET', '/videos')), ['1', '0', '40'])
    time.tick(39_499)
    assert.equal(headersOf(await send('GET', '/videos')), ['1', '0', '1'])
    time.tick(1)
    const next = await send('GET', '/videos')
    assert.is(next.status, 200)
    assert.equal(headersOf(next), ['1', '0', '60'])
  },
)

limits('writes have their own budget, and a 429d write creates nothing', async () => {
  const { send } = await limited({ reads: 10, writes: 1, windowMs: 1_000 })
  assert.is((await send('POST', '/videos', { body: { title: 'one' } })).status, 201)
  const refused = await send('POST', '/videos', { body: { title: 'two' } })
  assert.is(refused.status, 429)
  assert.is((await send('PATCH', '/videos/vi00000000000000000000', { body: { title: 'x' } })).status, 429)
  const list = await send('GET', '/videos')
  assert.is(list.status, 200, 'reads have a budget of their own')
  assert.equal(
    (await list.json()).data.map((v) => v.title),
    ['one'],
  )
})

limits('/auth/api-key and /auth/refresh are never limited', async () => {
  const { standIn, tokenOf } = await limited({ reads: 0, writes: 0, uploads: 0, windowMs: 1_000 })
  for (let i = 0; i < 5; i++) assert.match(await tokenOf(KEY), /^Bearer at\./)
  assert.is(standIn.counts.rateLimited, 0)
})

limits('uploads count apart, against the key that minted the upload token', async () => {
  const { send, standIn } = await limited({ writes: 5, uploads: 1, windowMs: 1_000 })
  const { token } = await (await send('POST', '/upload-tokens', { body: {} })).json()
  const upload = () => {
    const form = new FormData()
    form.append('file', new Blob(['x']), 'clip.mp4')
    return standIn.fetch(`${API}/upload?token=${token}`, { method: 'POST', body: form })
  }
  const first = await upload()
  assert.is(first.status, 201)
  assert.equal(headersOf(first), ['1', '0', '1'])
  assert.is((await upload()).status, 429)
  assert.is((await send('POST', '/videos', { body: { title: 'a write' } })).status, 201)
})

limits('budgets are per API key', async () => {
  const { send, tokenOf } = await limited({ reads: 1, windowMs: 1_000 }, { apiKeys: [KEY, 'other-key'] })
  assert.is((await send('GET', '/videos')).status, 200)
  assert.is((await send('GET', '/videos')).status, 429)
  assert.is((await send('GET', '/videos', { authorization: await tokenOf('other-key') })).status, 200)
})

limits('rateLimits: true is production: 500 reads, 200 writes, 100 uploads a minute', async () => {
  const { send } = await limited(true)
  assert.equal(headersOf(await send('GET', '/videos')), ['500', '499', '60'])
  assert.equal(headersOf(await send('POST', '/videos', { body: { title: 'a' } })), ['200', '199', '60'])
})

limits('without rateLimits, no header and no 429: the answers of 1.0', async () => {
  const { send } = await limited(undefined)
  for (let i = 0; i < 600; i++) {
    const answer = await send('GET', '/videos')
    if (answer.status !== 200) assert.unreachable(`answer ${i}: ${answer.status}`)
  }
  assert.equal(headersOf(await send('GET', '/videos')), [null, null, null])
})

limits('a bad rateLimits is a TypeError naming it, and nothing is created', async () => {
  for (const value of ['yes', 1, { reads: -1 }, { windowMs: 0 }, { windowMs: 1_500 }, { reads: 1.5 }]) {
    const error = await thrownBy(() => createStandIn({ rateLimits: value }))
    assertArgumentError(error, 'rateLimits')
  }
  const unknown = await thrownBy(() => createStandIn({ rateLimits: { read: 5 } }))
  assert.is(unknown.code, 'ERR_UNKNOWN_OPTION')
})

limits('over HTTP, the control route changes the budgets; the requests report counts the 429s', async () => {
  const standIn = createStandIn({ apiKeys: [KEY], controlRoutes: true, now: () => START })
  const server = await serve(standIn.handler)
  try {
    const post = (path, body, headers = {}) =>
      fetch(server.url + path, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body: JSON.stringify(body),
      })
    const { access_token: token } = await (await post('/auth/api-key', { apiKey: KEY })).json()
    const read = () => fetch(`${server.url}/videos`, { headers: { authorization: `Bearer ${token}` } })
    assert.is((await read()).headers.get('x-ratelimit-limit'), null)
    assert.is((await post('/_stand-in/rate-limits', { rateLimits: { reads: 1, windowMs: 1_000 } })).status, 204)
    assert.is((await read()).status, 200)
    assert.is((await read()).status, 429)
    const { counts } = await (await fetch(`${server.url}/_stand-in/requests`)).json()
    assert.is(counts.rateLimited, 1)
    assert.is((await post('/_stand-in/rate-limits', { rateLimits: { reads: 'many' } })).status, 400)
    assert.is((await post('/_stand-in/rate-limits', { reads: 5 })).status, 400, 'the budgets go under rateLimits')
    assert.is((await read()).status, 429, 'a refused body changes nothing')
    assert.is((await post('/_stand-in/rate-limits', { rateLimits: false })).status, 204)
    assert.is((await read()).status, 200)
  } finally {
    await server.close()
  }
})

limits.run()
