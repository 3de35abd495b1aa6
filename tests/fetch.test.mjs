// session.fetch: what it sends where, which bodies it replays after a 401, and when a 401 renews.
import { Readable } from 'node:stream'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { SANDBOX_URL, createSession } from '../dist/index.js'
import { createStandIn } from '../dist/testing.js'
import {
  KEY,
  clock,
  failure,
  json,
  recorder,
  recording,
  serve,
  sessionOnStandIn,
  tokenBody,
} from './helpers/index.mjs'

async function* generatedBody() {
  yield new TextEncoder().encode('hello ')
  yield new TextEncoder().encode('world')
}

// ---------------------------------------------------------------------------------------------
const oneShot = suite('session.fetch: one-shot bodies are never re-sent')

/** A stand-in on a loopback server that records the byte length of every body sent to /videos/vi1/source. */
async function uploadServer() {
  const standIn = createStandIn({ apiKeys: [KEY] })
  const uploads = []
  const server = await serve(async (request) => {
    if (new URL(request.url).pathname === '/videos/vi1/source')
      uploads.push((await request.clone().arrayBuffer()).byteLength)
    return standIn.handler(request)
  })
  const session = createSession({
    apiKey: KEY,
    baseUrl: server.url,
    fetch: (input, init) => globalThis.fetch(input, init),
  })
  await session.token()
  standIn.revoke()
  return { ...server, session, uploads }
}

const oneShotBodies = {
  'an async-generator body': () => generatedBody(),
  'a Node Readable (Readable.from)': () => Readable.from([Buffer.from('hello '), Buffer.from('world')]),
  'a ReadableStream (regression)': () =>
    new ReadableStream({
      start(controller) {
        controller.enqueue(new TextEncoder().encode('hello world'))
        controller.close()
      },
    }),
}

for (const [kind, body] of Object.entries(oneShotBodies)) {
  oneShot(`${kind} is never re-sent: its 401 is returned, sent once`, async () => {
    const { url, close, session, uploads } = await uploadServer()
    try {
      const response = await session.fetch(`${url}/videos/vi1/source`, {
        method: 'POST',
        body: body(),
        duplex: 'half',
      })
      assert.is(response.status, 401, 'the caller gets the 401 of its one send')
      assert.equal(uploads, [11], 'the server saw exactly one upload, with all its bytes')
    } finally {
      await close()
    }
  })
}

oneShot(
  'regression: bytes, a string, a Blob, FormData and URLSearchParams are still replayed after a 401',
  async () => {
    const bodies = [
      new TextEncoder().encode('hello world'),
      'hello world',
      new Blob(['hello world']),
      new URLSearchParams({ a: 'hello world' }),
    ]
    for (const body of bodies) {
      const { url, close, session, uploads } = await uploadServer()
      try {
        const response = await session.fetch(`${url}/videos/vi1/source`, { method: 'POST', body })
        assert.is(response.status, 200)
        assert.is(uploads.length, 2)
        assert.is(uploads[1], uploads[0], 'the replay carries the same bytes')
        assert.ok(uploads[0] > 0)
      } finally {
        await close()
      }
    }
    const form = new FormData()
    form.set('title', 'hello world')
    const { url, close, session, uploads } = await uploadServer()
    try {
      assert.is((await session.fetch(`${url}/videos/vi1/source`, { method: 'POST', body: form })).status, 200)
      assert.is(uploads.length, 2)
      assert.ok(uploads[0] > 0 && uploads[1] > 0)
    } finally {
      await close()
    }
  },
)

oneShot.run()

// ---------------------------------------------------------------------------------------------
const paths = suite('session.fetch: paths are relative to the session')

paths('session.fetch("/videos") hits the production API by default', async () => {
  const { fetch, urls } = recorder()
  const session = createSession({ apiKey: KEY, fetch })
  const response = await session.fetch('/videos')
  assert.is(response.status, 200)
  assert.equal(urls(), ['https://ws.api.video/auth/api-key', 'https://ws.api.video/videos'])
})

paths(
  'session.fetch("/videos?currentPage=2") keeps the query, against the sandbox when baseUrl says so',
  async () => {
    const { fetch, urls } = recorder()
    const session = createSession({ apiKey: KEY, fetch, baseUrl: SANDBOX_URL })
    await session.fetch('/videos?currentPage=2')
    assert.is(urls()[1], 'https://sandbox.api.video/videos?currentPage=2')
  },
)

paths('a baseUrl with a path prefix: "/videos" is appended to it, as /auth/api-key is', async () => {
  // Decision: the base URL is a prefix (a proxy mounting the API under /api.video), the same rule
  // as for the auth endpoints, so '/videos' becomes '<base>/videos', not '<origin>/videos'.
  const { fetch, urls } = recorder()
  const session = createSession({ apiKey: KEY, fetch, baseUrl: 'https://proxy.example/api.video/' })
  await session.fetch('/videos')
  assert.equal(urls(), ['https://proxy.example/api.video/auth/api-key', 'https://proxy.example/api.video/videos'])
})

paths('a round trip through a loopback stand-in: a path is authorized and answered', async () => {
  const standIn = createStandIn({ apiKeys: [KEY] })
  const server = await serve(standIn.handler)
  try {
    const session = createSession({ apiKey: KEY, baseUrl: server.url })
    const response = await session.fetch('/players/pl1', { method: 'GET' })
    assert.is(response.status, 200)
    assert.equal(await response.json(), { method: 'GET', path: '/players/pl1' })
    assert.equal(
      standIn.requests.map((r) => r.path),
      ['/auth/api-key', '/players/pl1'],
    )
  } finally {
    await server.close()
  }
})

paths('regression: an absolute URL on the session origin is still accepted', async () => {
  const { fetch, urls } = recorder()
  const session = createSession({ apiKey: KEY, fetch })
  assert.is((await session.fetch('https://ws.api.video/videos')).status, 200)
  assert.is((await session.fetch(new URL('https://ws.api.video/players/1'))).status, 200)
  assert.is((await session.fetch(new Request('https://ws.api.video/players/2'))).status, 200)
  assert.equal(urls().slice(1), [
    'https://ws.api.video/videos',
    'https://ws.api.video/players/1',
    'https://ws.api.video/players/2',
  ])
})

const foreign = {
  'another host (string)': 'https://evil.example/videos',
  'a look-alike host (URL)': new URL('https://ws.api.video.evil.example/videos'),
  'plain http (string)': 'http://ws.api.video/videos',
  'another port (Request)': new Request('https://ws.api.video:8443/videos'),
  'another host (Request)': new Request('https://evil.example/videos', { headers: { authorization: 'Bearer mine' } }),
}

for (const [what, input] of Object.entries(foreign)) {
  paths(`${what}: TypeError naming the expected origin, nothing sent, no token requested`, async () => {
    const { fetch, requests } = recorder()
    const session = createSession({ apiKey: KEY, fetch })
    const error = await failure(session.fetch(input))
    assert.instance(error, TypeError)
    assert.ok(error.message.includes('https://ws.api.video'), error.message)
    assert.is(requests.length, 0)
  })
}

paths('a sandbox session refuses a production URL, naming the sandbox origin', async () => {
  const { fetch, requests } = recorder()
  const session = createSession({ apiKey: KEY, fetch, baseUrl: SANDBOX_URL })
  const error = await failure(session.fetch('https://ws.api.video/videos'))
  assert.instance(error, TypeError)
  assert.ok(error.message.includes('https://sandbox.api.video'), error.message)
  assert.is(requests.length, 0)
})

paths('a Request subclass or a Proxy faking its url is checked on the URL it would be sent to', async () => {
  class Disguised extends Request {
    get url() {
      return 'https://ws.api.video/videos'
    }
  }
  const real = new Request('https://evil.example/steal')
  const proxied = new Proxy(real, {
    get: (target, property) => (property === 'url' ? 'https://ws.api.video/videos' : Reflect.get(target, property)),
  })
  for (const input of [new Disguised('https://evil.example/steal'), proxied]) {
    const { fetch, requests } = recorder()
    const session = createSession({ apiKey: KEY, fetch })
    const error = await failure(session.fetch(input))
    assert.instance(error, TypeError)
    assert.is(error.code, 'ERR_INVALID_ARGUMENT')
    assert.is(requests.length, 0)
  }
})

paths('a URL with credentials is refused without echoing them, and nothing is sent', async () => {
  for (const input of [
    'https://SECRET-USER:SECRET-PASS@ws.api.video/videos',
    new URL('https://SECRET-USER:@ws.api.video/'),
  ]) {
    const { fetch, requests } = recorder()
    const session = createSession({ apiKey: KEY, fetch })
    const error = await failure(session.fetch(input))
    assert.instance(error, TypeError)
    assert.is(error.code, 'ERR_INVALID_ARGUMENT')
    assert.not.match(`${error.message}${error.stack}`, /SECRET/)
    assert.is(requests.length, 0)
  }
})

paths("a path without its leading / ('videos') is refused with a message saying a path starts with /", async () => {
  const { fetch, requests } = recorder()
  const session = createSession({ apiKey: KEY, fetch })
  const error = await failure(session.fetch('videos'))
  assert.instance(error, TypeError)
  assert.match(error.message, /path starting with \//)
  assert.is(requests.length, 0)
})

paths.run()

const authorized = suite('session.fetch')

authorized("adds the bearer token, replacing the caller's, keeping other headers", async () => {
  const time = clock()
  const standIn = createStandIn({ now: time.now })
  const { fetch, seen } = recording(standIn)
  const session = createSession({ apiKey: KEY, fetch, now: time.now })
  const token = await session.token()
  const first = await session.fetch('https://ws.api.video/videos', {
    headers: { authorization: 'Bearer stale', 'x-keep': '1' },
  })
  const second = await session.fetch(new Request('https://ws.api.video/players/1', { headers: { 'x-keep': '2' } }))
  assert.equal([first.status, second.status], [200, 200])
  assert.equal(
    seen.map((s) => [s.authorization, s.keep]),
    [
      [`Bearer ${token}`, '1'],
      [`Bearer ${token}`, '2'],
    ],
  )
})

authorized('a 401 renews once and replays the request with its body', async () => {
  const time = clock()
  const standIn = createStandIn({ now: time.now })
  const { fetch, seen } = recording(standIn)
  const session = createSession({ apiKey: KEY, fetch, now: time.now })
  const form = new FormData()
  form.set('field', 'form')
  for (const body of [
    'text',
    new TextEncoder().encode('bytes'),
    new TextEncoder().encode('buffer').buffer,
    new URLSearchParams('a=1'),
    new Blob(['blob']),
    form,
  ]) {
    // A 401 on a token younger than a minute renews at most once a minute: each round comes a minute later.
    time.tick(61_000)
    await session.token()
    standIn.revoke()
    const response = await session.fetch('https://ws.api.video/videos/vi1/source', { method: 'POST', body })
    assert.is(response.status, 200)
  }
  const bodies = seen.map((s) => s.body)
  assert.equal(bodies.slice(0, 10), [
    'text',
    'text',
    'bytes',
    'bytes',
    'buffer',
    'buffer',
    'a=1',
    'a=1',
    'blob',
    'blob',
  ])
  assert.match(bodies[10], 'form')
  assert.is(bodies[11].replace(/formdata-undici-\d+/g, ''), bodies[10].replace(/formdata-undici-\d+/g, ''))
  assert.is(standIn.requests.filter((r) => r.path === '/auth/refresh').length, 6)
})

authorized(
  "a Request input's own body is a stream, sent once: a 401 comes back as is, with no copy kept",
  async () => {
    // Replaying it meant a clone made up front, which kept every byte of an upload in memory until the end.
    const { session, standIn, paths } = sessionOnStandIn()
    await session.token()
    standIn.revoke()
    const response = await session.fetch(new Request('https://ws.api.video/x', { method: 'PUT', body: 'payload' }))
    assert.is(response.status, 401)
    assert.equal(paths(), ['/auth/api-key', '/x'])
  },
)

authorized(
  'a FormData body is replayed with a boundary that matches its content-type: the server parses both',
  async () => {
    const { standIn } = sessionOnStandIn()
    const time = clock()
    const parsed = []
    const fetch = async (request) => {
      if (new URL(request.url).pathname !== '/videos/vi1/source') return standIn.handler(request)
      parsed.push(
        await request.formData().then(
          (form) => form.get('field'),
          (error) => error.name,
        ),
      )
      return new Response(null, { status: parsed.length === 1 ? 401 : 200 })
    }
    const session = createSession({ apiKey: KEY, fetch, now: time.now })
    const form = new FormData()
    form.set('field', 'value')
    assert.is((await session.fetch('/videos/vi1/source', { method: 'POST', body: form })).status, 200)
    assert.equal(parsed, ['value', 'value'])
  },
)

authorized('a bodiless replay is a fresh request: headers the fetch function added are not sent twice', async () => {
  const { standIn } = sessionOnStandIn()
  const time = clock()
  let n = 0
  const seen = []
  const fetch = async (request) => {
    request.headers.append('x-attempt', String(++n))
    if (request.url.includes('/auth/')) return standIn.handler(request)
    seen.push(request.headers.get('x-attempt'))
    return new Response(null, { status: seen.length === 1 ? 401 : 200 })
  }
  const session = createSession({ apiKey: KEY, fetch, now: time.now })
  assert.is((await session.fetch('/videos')).status, 200)
  assert.equal(seen, ['2', '4'])
})

authorized(
  'the replay sends what the first send did: headers changed or read once after the call are not read again',
  async () => {
    const { standIn } = sessionOnStandIn()
    const time = clock()
    const seen = []
    const fetch = async (request) => {
      if (request.url.includes('/auth/')) return standIn.handler(request)
      seen.push([request.method, request.headers.get('x-a'), await request.text()])
      return new Response(null, { status: seen.length % 2 === 1 ? 401 : 200 })
    }
    const session = createSession({ apiKey: KEY, fetch, now: time.now })
    // A Headers object the caller reuses and changes once the call is made.
    const headers = new Headers({ 'x-a': 'mine' })
    const pending = session.fetch('/videos', { method: 'DELETE', headers })
    headers.set('x-a', 'changed')
    assert.is((await pending).status, 200)
    // Headers from a generator, which can be read once.
    time.tick(61_000)
    const once = function* () {
      yield ['x-a', 'generated']
    }
    assert.is(
      (await session.fetch('/videos/vi1/source', { method: 'POST', headers: once(), body: 'text' })).status,
      200,
    )
    assert.equal(seen, [
      ['DELETE', 'mine', ''],
      ['DELETE', 'mine', ''],
      ['POST', 'generated', 'text'],
      ['POST', 'generated', 'text'],
    ])
  },
)

authorized('a 401 whose body has no cancel() (a minimal fetch) is still replayed, not a TypeError', async () => {
  const { standIn } = sessionOnStandIn()
  const time = clock()
  let resources = 0
  const fetch = async (request) => {
    if (request.url.includes('/auth/')) return standIn.handler(request)
    if (++resources === 1) return { status: 401, headers: new Headers(), url: request.url, body: {} }
    return new Response('ok')
  }
  const session = createSession({ apiKey: KEY, fetch, now: time.now })
  assert.is((await session.fetch('/videos')).status, 200)
})

authorized("an init signal of null drops the Request input's signal, as fetch does", async () => {
  const { session } = sessionOnStandIn()
  const aborted = new Request('https://ws.api.video/videos', { signal: AbortSignal.abort() })
  assert.is((await session.fetch(aborted, { signal: null })).status, 200)
})

authorized('the URL and body are read when session.fetch is called, as fetch reads them', async () => {
  const time = clock()
  const standIn = createStandIn({ now: time.now })
  const sent = []
  const fetch = async (request) => {
    if (!request.url.includes('/auth/')) sent.push([request.url, await request.clone().text()])
    return standIn.handler(request)
  }
  const session = createSession({ apiKey: KEY, fetch, now: time.now })
  await session.token()
  const url = new URL('https://ws.api.video/videos/vi1/source')
  const body = new TextEncoder().encode('mine')
  const pending = session.fetch(url, { method: 'POST', body })
  url.host = 'evil.example'
  body.fill(65)
  assert.is((await pending).status, 200)
  assert.equal(sent, [['https://ws.api.video/videos/vi1/source', 'mine']])
})

authorized('50 concurrent 401s cause one renewal', async () => {
  const { session, standIn, paths } = sessionOnStandIn()
  await session.token()
  standIn.revoke()
  const responses = await Promise.all(Array.from({ length: 50 }, () => session.fetch('https://ws.api.video/videos')))
  assert.ok(responses.every((r) => r.status === 200))
  assert.equal(
    paths().filter((p) => p.startsWith('/auth/')),
    ['/auth/api-key', '/auth/refresh'],
  )
})

authorized('bad input is a TypeError, and no token is requested for it', async () => {
  const { session, paths } = sessionOnStandIn()
  for (const [input, init] of [
    [42],
    [undefined],
    [{ url: 'https://ws.api.video/videos' }],
    ['https://ws.api.video/videos', 'GET'],
  ]) {
    const error = await failure(session.fetch(input, init))
    assert.instance(error, TypeError)
    assert.match(error.message, /^(input|init) must be/)
  }
  assert.equal(paths(), [])
})

authorized('a second 401 is returned, not looped', async () => {
  const { session, standIn, paths } = sessionOnStandIn()
  standIn.fail('/videos', { status: 401 }, { status: 401 }, { status: 401 })
  const response = await session.fetch('https://ws.api.video/videos')
  assert.is(response.status, 401)
  assert.equal(paths(), ['/auth/api-key', '/videos', '/auth/refresh', '/videos'])
})

authorized('a stream body is sent once; its 401 is returned as is', async () => {
  const { session, standIn, paths } = sessionOnStandIn()
  await session.token()
  standIn.revoke()
  const body = new ReadableStream({ start: (c) => (c.enqueue(new TextEncoder().encode('s')), c.close()) })
  const response = await session.fetch('https://ws.api.video/videos/vi1/source', {
    method: 'POST',
    body,
    duplex: 'half',
  })
  assert.is(response.status, 401)
  assert.equal(paths(), ['/auth/api-key', '/videos/vi1/source'])
})

authorized(
  'a 401 for a token already replaced renews nothing: the request is replayed with the new one',
  async () => {
    const time = clock()
    const standIn = createStandIn({ now: time.now })
    const { fetch, seen, release } = recording(standIn, '/late')
    const session = createSession({ apiKey: KEY, fetch, now: time.now })
    const first = await session.token()
    const late = session.fetch('https://ws.api.video/late')
    while (!seen.length) await new Promise((r) => setTimeout(r, 1))
    const second = await session.token({ forceRefresh: true })
    release()
    assert.is((await late).status, 200)
    assert.equal(
      seen.map((s) => s.authorization),
      [`Bearer ${first}`, `Bearer ${second}`],
    )
    assert.equal(
      standIn.requests.map((r) => r.path).filter((p) => p.startsWith('/auth/')),
      ['/auth/api-key', '/auth/refresh'],
    )
  },
)

authorized.run()

// ---------------------------------------------------------------------------------------------
const fresh401 = suite('session.fetch: a 401 on a fresh token does not renew again')

/** A resource that refuses every token with 401; the auth endpoints always grant. */
function alwaysRefused() {
  let auth = 0
  const fetch = async (input, init) => {
    const request = new Request(input, init)
    if (new URL(request.url).pathname.startsWith('/auth/')) return json(200, tokenBody(++auth))
    return json(401, { status: 401, title: 'The access token is invalid or expired.' })
  }
  return { fetch, auth: () => auth }
}

fresh401('20 sequential session.fetch calls answered 401 make at most 2 auth requests', async () => {
  const time = clock()
  const api = alwaysRefused()
  const session = createSession({ apiKey: KEY, fetch: api.fetch, now: time.now })
  for (let i = 0; i < 20; i++) {
    assert.is((await session.fetch('https://ws.api.video/videos')).status, 401)
  }
  assert.ok(api.auth() <= 2, `${api.auth()} auth requests`)
})

fresh401('a 401 on a token older than a minute does renew', async () => {
  const time = clock()
  const api = alwaysRefused()
  const session = createSession({ apiKey: KEY, fetch: api.fetch, now: time.now })
  for (let i = 0; i < 5; i++) await session.fetch('https://ws.api.video/videos')
  const before = api.auth()
  assert.ok(before <= 2, `${before} auth requests`)
  time.tick(61_000)
  assert.is((await session.fetch('https://ws.api.video/videos')).status, 401)
  assert.is(api.auth(), before + 1, 'one renewal for the 401 on a token older than a minute')
})

fresh401.run()
