// Shared test parts: a loopback server for a fetch handler, a fake clock, MockAgent wiring.
import { createServer } from 'node:http'
import { Readable } from 'node:stream'
import * as assert from 'uvu/assert'
import { MockAgent } from 'undici'

export const KEY = 'test-key'

/** Serves a `(Request) => Promise<Response>` handler on 127.0.0.1; a throwing handler resets the connection. */
export async function serve(handler) {
  const server = createServer(async (req, res) => {
    const controller = new AbortController()
    res.on('close', () => controller.abort())
    try {
      const hasBody = req.method !== 'GET' && req.method !== 'HEAD'
      const request = new Request(`http://127.0.0.1${req.url}`, {
        method: req.method,
        headers: Object.entries(req.headers).flatMap(([k, v]) => (Array.isArray(v) ? v.map((x) => [k, x]) : [[k, v]])),
        body: hasBody ? Readable.toWeb(req) : undefined,
        duplex: 'half',
        signal: controller.signal,
      })
      const response = await handler(request)
      res.writeHead(response.status, Object.fromEntries(response.headers))
      res.end(Buffer.from(await response.arrayBuffer()))
    } catch {
      req.socket.destroy()
    }
  })
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    url: `http://127.0.0.1:${server.address().port}`,
    close: () => new Promise((resolve) => server.closeAllConnections() ?? server.close(resolve)),
  }
}

/** A clock that moves only when told. */
export function clock(start = 1_700_000_000_000) {
  let t = start
  return { now: () => t, tick: (ms) => (t += ms), set: (ms) => (t = ms) }
}

/** A MockAgent that refuses real network, and a fetch bound to it. */
export function mock(origin = 'https://ws.api.video') {
  const agent = new MockAgent()
  agent.disableNetConnect()
  const fetch = (input, init) => globalThis.fetch(input, { ...init, dispatcher: agent })
  return { agent, pool: agent.get(origin), fetch }
}

export const JSON_HEADERS = { headers: { 'content-type': 'application/json' } }

export function tokenBody(n = 1, expiresIn = 3600) {
  return { token_type: 'Bearer', expires_in: expiresIn, access_token: `access-${n}`, refresh_token: `refresh-${n}` }
}

/** Resolves after pending microtasks and I/O callbacks have run. */
export const settle = () => new Promise((resolve) => setImmediate(resolve))

/** The error a promise rejects with; fails the test if it resolves. */
export async function failure(promise) {
  try {
    await promise
  } catch (error) {
    return error
  }
  assert.unreachable('resolved')
}
