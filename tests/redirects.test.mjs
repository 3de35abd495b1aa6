// session.fetch and redirects: the session follows them itself, so the token goes only to its own origin whatever
// the runtime does (workerd before compatibility date 2025-09-01 keeps Authorization across origins).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { build } from 'esbuild'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { createSession } from '../dist/index.js'
import { createStandIn } from '../dist/testing.js'
import { exec } from '../scripts/exec.mjs'
import { workerdConfig } from '../scripts/workerd.mjs'
import { KEY, json, serve, tokenBody } from './helpers/index.mjs'

/** A fetch that grants auth and answers every other request with a 302 to `location`. */
function recorderWithRedirect(location) {
  const fetch = async (request) =>
    new URL(request.url).pathname.startsWith('/auth/')
      ? json(200, tokenBody())
      : new Response(null, { status: 302, headers: { location } })
  return { fetch }
}

/**
 * Two real servers on 127.0.0.1: the API (a stand-in, plus `/hop/<status>?to=<url>` answering that redirect, and
 * `/loop` redirecting to itself) and another origin that records what reached it.
 */
async function twoOrigins() {
  const standIn = createStandIn({ apiKeys: [KEY] })
  const seen = []
  const record = async (request) => {
    const { pathname } = new URL(request.url)
    seen.push({
      origin: new URL(request.url).origin,
      path: pathname,
      method: request.method,
      authorization: request.headers.get('authorization'),
      body: await request.text(),
    })
  }
  const api = await serve(async (request) => {
    const url = new URL(request.url)
    const hop = /^\/hop\/(\d+)$/.exec(url.pathname)
    if (url.pathname === '/loop') await record(request)
    if (url.pathname === '/loop') return new Response(null, { status: 302, headers: { location: '/loop' } })
    if (!hop) return standIn.handler(request)
    await record(request)
    return new Response(null, { status: Number(hop[1]), headers: { location: url.searchParams.get('to') } })
  })
  const other = await serve(async (request) => {
    await record(request)
    const url = new URL(request.url)
    const hop = /^\/hop\/(\d+)$/.exec(url.pathname)
    if (hop) return new Response(null, { status: Number(hop[1]), headers: { location: url.searchParams.get('to') } })
    return new Response('landed', { status: 200 })
  })
  const close = () => Promise.all([api.close(), other.close()])
  const apiUrl = api.url.replace(/\/$/, '')
  const otherUrl = other.url.replace(/\/$/, '')
  return { apiUrl, otherUrl, seen, close, standIn }
}

const redirects = suite('session.fetch: redirects')

redirects('a redirect to another origin is followed without the token', async () => {
  const { apiUrl, otherUrl, seen, close } = await twoOrigins()
  try {
    const session = createSession({ apiKey: KEY, baseUrl: apiUrl })
    const token = await session.token()
    const response = await session.fetch(`/hop/302?to=${encodeURIComponent(`${otherUrl}/landing`)}`)
    assert.is(response.status, 200)
    assert.is(await response.text(), 'landed')
    assert.equal(
      seen.map((s) => [s.origin, s.path, s.authorization]),
      [
        [apiUrl, '/hop/302', `Bearer ${token}`],
        [otherUrl, '/landing', null],
      ],
    )
  } finally {
    await close()
  }
})

redirects('once a redirect has left the origin, a later redirect back to it carries no token either', async () => {
  const { apiUrl, otherUrl, seen, close } = await twoOrigins()
  try {
    const session = createSession({ apiKey: KEY, baseUrl: apiUrl })
    const end = encodeURIComponent(`${otherUrl}/end`)
    const back = `${otherUrl}/hop/302?to=${encodeURIComponent(`${apiUrl}/hop/302?to=${end}`)}`
    const response = await session.fetch(`/hop/307?to=${encodeURIComponent(back)}`)
    assert.is(response.status, 200)
    assert.equal(
      seen.map((s) => s.authorization === null),
      [false, true, true, true],
    )
  } finally {
    await close()
  }
})

redirects('a redirect on the same origin keeps the token', async () => {
  const { apiUrl, seen, close, standIn } = await twoOrigins()
  try {
    const session = createSession({ apiKey: KEY, baseUrl: apiUrl })
    const token = await session.token()
    const response = await session.fetch(`/hop/301?to=${encodeURIComponent(`${apiUrl}/videos`)}`)
    assert.is(response.status, 200)
    assert.is(seen[0].authorization, `Bearer ${token}`)
    const last = standIn.requests.at(-1)
    assert.equal([last.path, last.credential], ['/videos', 'bearer'])
  } finally {
    await close()
  }
})

redirects('303, and 302 after a POST, become a GET without a body; 307 and 308 send the body again', async () => {
  const { apiUrl, otherUrl, seen, close } = await twoOrigins()
  try {
    const session = createSession({ apiKey: KEY, baseUrl: apiUrl })
    for (const status of [302, 303, 307, 308]) {
      const to = encodeURIComponent(`${otherUrl}/after-${status}`)
      const response = await session.fetch(`/hop/${status}?to=${to}`, {
        method: 'POST',
        body: 'payload',
        headers: { 'content-type': 'text/plain' },
      })
      assert.is(response.status, 200, String(status))
    }
    assert.equal(
      seen.filter((s) => s.origin === otherUrl).map((s) => [s.path, s.method, s.body, s.authorization]),
      [
        ['/after-302', 'GET', '', null],
        ['/after-303', 'GET', '', null],
        ['/after-307', 'POST', 'payload', null],
        ['/after-308', 'POST', 'payload', null],
      ],
    )
  } finally {
    await close()
  }
})

redirects('a 307 for a body that can be sent once is returned as it is', async () => {
  const { apiUrl, otherUrl, seen, close } = await twoOrigins()
  try {
    const session = createSession({ apiKey: KEY, baseUrl: apiUrl })
    const body = new ReadableStream({
      start(controller) {
        controller.enqueue(new TextEncoder().encode('once'))
        controller.close()
      },
    })
    const to = encodeURIComponent(`${otherUrl}/never`)
    const response = await session.fetch(`/hop/307?to=${to}`, { method: 'PUT', body, duplex: 'half' })
    assert.is(response.status, 307)
    assert.equal(
      seen.map((s) => s.path),
      ['/hop/307'],
    )
  } finally {
    await close()
  }
})

redirects("the caller's own redirect mode is kept: 'manual' returns the redirect", async () => {
  const { apiUrl, otherUrl, seen, close } = await twoOrigins()
  try {
    const session = createSession({ apiKey: KEY, baseUrl: apiUrl })
    const to = encodeURIComponent(`${otherUrl}/never`)
    const response = await session.fetch(`/hop/302?to=${to}`, { redirect: 'manual' })
    assert.is(response.status, 302)
    assert.is(seen.length, 1)
  } finally {
    await close()
  }
})

redirects('at most 20 redirects are followed: the 21st is returned', async () => {
  const { apiUrl, seen, close } = await twoOrigins()
  try {
    const session = createSession({ apiKey: KEY, baseUrl: apiUrl })
    const response = await session.fetch('/loop')
    assert.is(response.status, 302)
    assert.is(seen.length, 21)
  } finally {
    await close()
  }
})

redirects("a later hop's 401 is returned as it is: no renewal, no replay", async () => {
  const { apiUrl, otherUrl, seen, close, standIn } = await twoOrigins()
  const refusing = await serve(async (request) => {
    seen.push({
      origin: 'refusing',
      path: new URL(request.url).pathname,
      method: request.method,
      body: await request.text(),
    })
    return new Response(null, { status: 401 })
  })
  try {
    const session = createSession({ apiKey: KEY, baseUrl: apiUrl })
    const token = await session.token()
    // Another origin that never had the token refuses; then a POST that became a GET is refused on the API.
    const away = await session.fetch(`/hop/302?to=${encodeURIComponent(`${refusing.url}/denied`)}`)
    const changed = await session.fetch(`/hop/303?to=${encodeURIComponent(`${refusing.url}/get`)}`, {
      method: 'POST',
      body: 'create once',
    })
    assert.equal([away.status, changed.status], [401, 401])
    assert.is(await session.token(), token)
    const auth = standIn.requests.filter((r) => r.path.startsWith('/auth/')).map((r) => r.path)
    assert.equal(auth, ['/auth/api-key'])
    assert.equal(
      seen.filter((s) => s.path === '/hop/303').map((s) => s.body),
      ['create once'],
    )
    void otherUrl
  } finally {
    await refusing.close()
    await close()
  }
})

redirects('a Location that is not an http(s) URL is not followed: the redirect is returned', async () => {
  const { fetch } = recorderWithRedirect('data:text/plain,spoofed')
  const session = createSession({ apiKey: KEY, fetch })
  const response = await session.fetch('/videos')
  assert.is(response.status, 302)
})

redirects.run()

const workerd = suite('session.fetch: redirects on workerd with an old compatibility date')

workerd('compatibility date 2025-08-01: a 302 to another origin does not carry the token there', async () => {
  const { apiUrl, otherUrl, seen, close } = await twoOrigins()
  const dir = mkdtempSync(join(tmpdir(), 'apivideo-auth-redirect-'))
  try {
    writeFileSync(
      join(dir, 'entry.js'),
      `import { createSession } from 'apivideo-auth'
export default {
  async test(controller, env) {
    const session = createSession({ apiKey: env.KEY, baseUrl: env.API_URL })
    const response = await session.fetch('/hop/302?to=' + encodeURIComponent(env.OTHER_URL + '/landing'))
    if (response.status !== 200) throw new Error('status ' + response.status)
  },
}
`,
    )
    const toDist = {
      name: 'dist',
      setup: (b) =>
        b.onResolve({ filter: /^apivideo-auth$/ }, () => ({ path: join(import.meta.dirname, '../dist/index.js') })),
    }
    await build({
      entryPoints: [join(dir, 'entry.js')],
      outfile: join(dir, 'worker.js'),
      bundle: true,
      format: 'esm',
      platform: 'neutral',
      plugins: [toDist],
      logLevel: 'error',
    })
    const config = workerdConfig({
      modules: { 'worker.js': 'worker.js' },
      bindings: { KEY, API_URL: apiUrl, OTHER_URL: otherUrl },
      compatibilityDate: '2025-08-01',
    })
    writeFileSync(join(dir, 'config.capnp'), config)
    const workerdBin = join(import.meta.dirname, '../node_modules/.bin/workerd')
    const { code, output } = await exec(workerdBin, ['test', join(dir, 'config.capnp')], { timeout: 60_000 })
    assert.is(code, 0, output)
    const landing = seen.find((s) => s.path === '/landing')
    assert.ok(landing, 'the redirect was followed')
    assert.is(landing.authorization, null)
  } finally {
    rmSync(dir, { recursive: true, force: true })
    await close()
  }
})

workerd.run()
