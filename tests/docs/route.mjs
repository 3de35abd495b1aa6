// Imported before each documentation block by the doc test (tests/docs/run.mjs), on Node, Deno, Bun and workerd.
// The block runs unchanged; only where its requests land changes:
// - fetch to api.video's production or sandbox origin, or to a delivery origin (embed, vod, cdn), goes to the
//   stand-in on 127.0.0.1 (path and query kept), which serves delivery on its own URL under the same paths;
//   loopback URLs go to the runtime's own fetch, and any other URL is a network error: nothing leaves the machine;
// - a server the block starts with Bun.serve or Deno.serve listens on 127.0.0.1, on a free port, and is recorded
//   for the driver, which sends it requests and stops it.
const STAND_IN = '__STAND_IN_URL__'
const API_ORIGINS = new Set([
  'https://ws.api.video',
  'https://sandbox.api.video',
  'https://embed.api.video',
  'https://vod.api.video',
  'https://cdn.api.video',
])
const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]'])
const servers = (globalThis[Symbol.for('doc-test.servers')] = [])

const networkFetch = globalThis.fetch
globalThis.fetch = async function fetch(input, init) {
  const request = new Request(input, init)
  const url = new URL(request.url)
  if (LOOPBACK.has(url.hostname)) return networkFetch(request)
  if (!API_ORIGINS.has(url.origin))
    throw new TypeError(
      `fetch failed: the doc test reaches only api.video's stand-in and loopback, not ${url.origin}`,
    )
  const routed = new Request(STAND_IN + url.pathname + url.search, {
    method: request.method,
    headers: request.headers,
    body: request.body,
    signal: request.signal,
    redirect: request.redirect,
    duplex: 'half',
  })
  const response = await networkFetch(routed)
  return Object.defineProperty(response, 'url', { value: request.url })
}

if (globalThis.Bun) {
  const serve = globalThis.Bun.serve.bind(globalThis.Bun)
  globalThis.Bun.serve = (options) => {
    const server = serve({ ...options, hostname: '127.0.0.1', port: 0 })
    servers.push({ url: String(server.url), stop: () => server.stop(true) })
    return server
  }
}

if (globalThis.Deno?.serve) {
  const serve = globalThis.Deno.serve.bind(globalThis.Deno)
  globalThis.Deno.serve = (...args) => {
    const handler = typeof args.at(-1) === 'function' ? args.at(-1) : undefined
    const options = { ...(typeof args[0] === 'object' ? args[0] : {}), hostname: '127.0.0.1', port: 0, onListen() {} }
    const server = handler ? serve(options, handler) : serve(options)
    servers.push({ url: `http://127.0.0.1:${server.addr.port}/`, stop: () => server.shutdown() })
    return server
  }
}
