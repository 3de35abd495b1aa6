// The one node:http adapter of the project: it serves a fetch-style handler, `(Request) => Promise<Response>`,
// on 127.0.0.1. The CLI's `stand-in` (bundled into dist/cli.js), the tests, the demo, the examples and the
// bench all serve through it.
import { createServer } from 'node:http'

/** A request body over 1 MiB is refused with 413 and not read further, so the server's memory stays bounded. */
const BODY_LIMIT = 1024 * 1024

/**
 * Listens on 127.0.0.1 (port 0: any free port). Each request reaches the handler with its real URL
 * (`http://127.0.0.1:<port>/…`, also for an absolute-form target, as a client sends through a proxy), headers,
 * body (at most 1 MiB: a larger one is a 413) and a signal that aborts when the client hangs up.
 * A handler that throws drops the connection, as a network failure would.
 * @param {(request: Request) => Promise<Response>} handler
 * @param {{ port?: number, backlog?: number }} [options]
 * @returns {Promise<{ url: string, close: () => Promise<void> }>}
 * @example
 * const { url, close } = await listen(createStandIn().handler)
 */
export async function listen(handler, options = {}) {
  const { port = 0, backlog = 511 } = options
  let origin = ''
  const server = createServer(async (req, res) => {
    const controller = new AbortController()
    res.once('close', () => controller.abort())
    try {
      const received = await readBody(req)
      if (received === undefined) return tooLarge(res)
      const body = req.method === 'GET' || req.method === 'HEAD' ? undefined : received
      const headers = new Headers()
      for (let i = 0; i < req.rawHeaders.length; i += 2) headers.append(req.rawHeaders[i], req.rawHeaders[i + 1])
      // A path is served as it is, even one starting with `//`; an absolute-form target (a proxy's), by its path.
      const { pathname, search } = req.url.startsWith('/') ? new URL(`${origin}${req.url}`) : new URL(req.url, origin)
      const response = await handler(
        new Request(`${origin}${pathname}${search}`, {
          method: req.method,
          headers,
          body,
          signal: controller.signal,
        }),
      )
      res.writeHead(response.status, [...response.headers].flat())
      res.end(Buffer.from(await response.arrayBuffer()))
    } catch {
      req.socket.destroy()
    }
  })
  await new Promise((resolve, reject) =>
    server.once('error', reject).listen({ port, host: '127.0.0.1', backlog }, resolve),
  )
  origin = `http://127.0.0.1:${server.address().port}`
  return {
    url: origin,
    close: () => new Promise((resolve) => (server.closeAllConnections(), server.close(() => resolve()))),
  }
}

/** The request body, or undefined (and the request paused) once it is over the limit. */
function readBody(req) {
  return new Promise((resolve, reject) => {
    if (Number(req.headers['content-length']) > BODY_LIMIT) return resolve(undefined)
    const chunks = []
    let size = 0
    req.on('data', (chunk) => {
      size += chunk.length
      if (size <= BODY_LIMIT) return void chunks.push(chunk)
      req.pause().removeAllListeners('data')
      resolve(undefined)
    })
    req.once('end', () => resolve(Buffer.concat(chunks)))
    req.once('error', reject)
  })
}

/** A 413 with a problem body; the connection closes once it is sent, so the rest of the body is never read. */
function tooLarge(res) {
  const problem = { type: 'about:blank', title: 'The request body is over 1 MiB.', status: 413 }
  res.writeHead(413, { 'content-type': 'application/problem+json', connection: 'close' })
  res.end(JSON.stringify(problem), () => res.socket?.destroy())
}
