// The one node:http adapter of the project: it serves a fetch-style handler, `(Request) => Promise<Response>`,
// on 127.0.0.1. Node-only, like the CLI: dist/cli.js imports it for `stand-in`, and the tests, the demo, the
// examples and the bench serve through it by way of scripts/loopback.mjs.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
// A request body over the stand-in's limit (1 MiB) is refused with its 413 and not read further, so the server's
// memory stays bounded whatever it serves.
import { BODY_LIMIT, BODY_TOO_LARGE } from './testing/http.js'

/** A server listening on 127.0.0.1. */
export interface Listening {
  /** `http://127.0.0.1:<port>`, no trailing slash. */
  url: string
  /** Drops open connections and stops listening. */
  close(): Promise<void>
}

/** Options of `listen`. */
export interface ListenOptions {
  /** The port on 127.0.0.1; 0 (the default) takes any free port. */
  port?: number | undefined
  /** The length of the queue of pending connections; 511 by default. */
  backlog?: number | undefined
}

/**
 * Listens on 127.0.0.1 (port 0: any free port). Each request reaches the handler with its real URL
 * (`http://127.0.0.1:<port>/…`, also for an absolute-form target, as a client sends through a proxy), headers,
 * body (at most 1 MiB: a larger one is a 413) and a signal that aborts when the client hangs up.
 * A handler that throws drops the connection, as a network failure would.
 * @example
 * const { url, close } = await listen(createStandIn().handler)
 */
export async function listen(
  handler: (request: Request) => Promise<Response>,
  options: ListenOptions = {},
): Promise<Listening> {
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
      for (let i = 0; i + 1 < req.rawHeaders.length; i += 2) {
        headers.append(req.rawHeaders[i] as string, req.rawHeaders[i + 1] as string)
      }
      // A path is served as it is, even one starting with `//`; an absolute-form target (a proxy's), by its path.
      const target = req.url ?? '/'
      const { pathname, search } = target.startsWith('/') ? new URL(`${origin}${target}`) : new URL(target, origin)
      const response = await handler(
        new Request(`${origin}${pathname}${search}`, {
          method: req.method ?? 'GET',
          headers,
          body: body ?? null,
          signal: controller.signal,
        }),
      )
      res.writeHead(response.status, [...response.headers].flat())
      res.end(Buffer.from(await response.arrayBuffer()))
    } catch {
      req.socket.destroy()
    }
  })
  await new Promise<void>((resolve, reject) =>
    server.once('error', reject).listen({ port, host: '127.0.0.1', backlog }, resolve),
  )
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  return {
    url: origin,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}

/** The request body, or undefined (and the request paused) once it is over the limit. */
function readBody(req: IncomingMessage): Promise<Uint8Array<ArrayBuffer> | undefined> {
  return new Promise((resolve, reject) => {
    if (Number(req.headers['content-length']) > BODY_LIMIT) return resolve(undefined)
    const chunks: Buffer[] = []
    let size = 0
    req.on('data', (chunk: Buffer) => {
      size += chunk.length
      if (size <= BODY_LIMIT) return void chunks.push(chunk)
      req.pause().removeAllListeners('data')
      resolve(undefined)
    })
    // A copy on its own ArrayBuffer, which is what `Request` takes (a Buffer may share a pooled one).
    req.once('end', () => resolve(new Uint8Array(Buffer.concat(chunks))))
    req.once('error', reject)
  })
}

/** A 413 with a problem body; the connection closes once it is sent, so the rest of the body is never read. */
function tooLarge(res: ServerResponse): void {
  res.writeHead(413, { 'content-type': 'application/problem+json', connection: 'close' })
  res.end(JSON.stringify(BODY_TOO_LARGE), () => res.socket?.destroy())
}
