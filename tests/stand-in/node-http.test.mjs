// The stand-in: the stand-in served over node:http on 127.0.0.1.
import { request } from 'node:http'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { authenticate, createSession, refresh } from '../../dist/index.js'
import { createStandIn } from '../../dist/testing.js'
import { KEY, failure, serve } from '../helpers/index.mjs'
import { INVALID_TOKEN, basic, emptyPage, example } from '../helpers/stand-in.mjs'

const http = suite('stand-in served over node:http')

http('the library, a session and plain fetch get the same answers over a real loopback server', async () => {
  const standIn = createStandIn({ apiKeys: [KEY], expiresIn: 3599 })
  const server = await serve(standIn.handler)
  try {
    const baseUrl = server.url
    const first = await authenticate(KEY, { baseUrl })
    assert.is(first.expiresIn, 3599)
    const second = await refresh(first.refreshToken, { baseUrl })
    assert.is((await failure(refresh(first.refreshToken, { baseUrl }))).code, 'INVALID_REFRESH_TOKEN')
    const wrong = await failure(authenticate('wrong-key', { baseUrl }))
    assert.equal([wrong.code, wrong.problem], ['INVALID_CREDENTIALS', example('/auth/api-key')])
    const denied = await fetch(`${baseUrl}/videos`)
    assert.equal([denied.status, await denied.json()], [401, INVALID_TOKEN])
    const allowed = await fetch(`${baseUrl}/videos`, { headers: { authorization: `Bearer ${second.accessToken}` } })
    assert.equal([allowed.status, await allowed.json()], [200, emptyPage(baseUrl)])
    const withKey = await fetch(`${baseUrl}/players/pl1`, { headers: { authorization: basic(KEY) } })
    assert.equal([withKey.status, await withKey.json()], [200, { method: 'GET', path: '/players/pl1' }])
    const session = createSession({ apiKey: KEY, baseUrl })
    standIn.revoke()
    assert.is((await session.fetch(`${baseUrl}/players`, { method: 'POST', body: '{}' })).status, 200)
  } finally {
    await server.close()
  }
})

/** Runs `check` with a stand-in that accepts KEY, served on 127.0.0.1 until it ends. */
async function overHttp(check) {
  const standIn = createStandIn({ apiKeys: [KEY] })
  const server = await serve(standIn.handler)
  try {
    await check(standIn, server)
  } finally {
    await server.close()
  }
}

http('a request body over 1 MiB is a 413, not read into memory; the server goes on serving', () =>
  overHttp(async (standIn, server) => {
    const big = new Uint8Array(2 * 1024 * 1024)
    const sized = await fetch(`${server.url}/auth/api-key`, { method: 'POST', body: big })
    assert.equal([sized.status, (await sized.json()).title], [413, 'The request body is over 1 MiB.'])
    // Without a content-length (chunked): refused once 1 MiB has arrived.
    let sent = 0
    const stream = new ReadableStream({
      pull(controller) {
        if (sent >= 4 * 1024 * 1024) return controller.close()
        sent += 64 * 1024
        controller.enqueue(new Uint8Array(64 * 1024))
      },
    })
    const chunked = await fetch(`${server.url}/videos`, { method: 'POST', body: stream, duplex: 'half' }).catch(
      (error) => error,
    )
    assert.ok(chunked.status === 413 || chunked instanceof TypeError, `${chunked.status ?? chunked}`)
    assert.equal(standIn.requests, [], 'the handler never saw either request')
    assert.is((await fetch(`${server.url}/videos`)).status, 401)
  }),
)

http('an absolute-form target (what a client sends through a proxy) is served by its path', () =>
  overHttp(async (standIn, server) => {
    const { port } = new URL(server.url)
    // node:http sends the request target as given, where fetch would normalise it.
    const statusFor = (path) =>
      new Promise((resolve, reject) =>
        request({ host: '127.0.0.1', port, path, headers: { authorization: basic(KEY) } })
          .on('response', (response) => (response.resume(), resolve(response.statusCode)))
          .on('error', reject)
          .end(),
      )
    assert.is(await statusFor(`${server.url}/videos`), 200)
    // A path starting with `//` stays a path, never a host.
    assert.is(await statusFor('//evil.example/videos'), 200)
    assert.equal(
      standIn.requests.map((r) => r.path),
      ['/videos', '//evil.example/videos'],
    )
  }),
)

http('faults travel over the wire: a status with headers, and a dropped connection', async () => {
  const standIn = createStandIn()
  const server = await serve(standIn.handler)
  try {
    standIn.fail(
      '/auth/api-key',
      { status: 429, headers: { 'x-ratelimit-retry-after': '3' } },
      { networkError: true },
    )
    const limited = await failure(authenticate(KEY, { baseUrl: server.url }))
    assert.equal([limited.code, limited.retryAfter], ['RATE_LIMITED', 3])
    assert.is((await failure(authenticate(KEY, { baseUrl: server.url }))).code, 'NETWORK_ERROR')
    assert.ok((await authenticate(KEY, { baseUrl: server.url })).accessToken)
  } finally {
    await server.close()
  }
})

http.run()
