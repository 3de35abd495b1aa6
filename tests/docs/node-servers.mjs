// Imported before a Node documentation block that starts a server and leaves it running (one that reads PORT, as
// the receivers of examples/webhooks/ do), by the doc test (tests/docs/run.mjs). Every node:http server the block
// starts (Express, Fastify, Hono's and Koa's included: they all listen through node:http) listens on 127.0.0.1, on a
// free port, whatever it asked for, and is recorded for the driver, which sends it requests once it listens and
// stops it.
import { Server } from 'node:http'

const servers = globalThis[Symbol.for('doc-test.servers')]
const listen = Server.prototype.listen

Server.prototype.listen = function (...args) {
  const callback = typeof args.at(-1) === 'function' ? args.at(-1) : undefined
  const entry = {
    url: undefined,
    ready: new Promise((resolve) =>
      this.once('listening', () => {
        entry.url = `http://127.0.0.1:${this.address().port}/`
        resolve()
      }),
    ),
    stop: () =>
      new Promise((resolve) => {
        this.close(resolve)
        this.closeAllConnections()
      }),
  }
  servers.push(entry)
  return callback ? listen.call(this, 0, '127.0.0.1', callback) : listen.call(this, 0, '127.0.0.1')
}
