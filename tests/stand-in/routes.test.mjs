// The stand-in: how a request finds its route in the one list the stand-in dispatches over.
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { ANY_METHOD, findRoute } from '../../dist/testing/route.js'

const routes = suite("stand-in: the routes' dispatch")

/** A route whose responders answer their own names, so that a test sees which one was found. */
const route = (path, ...methods) => ({
  path,
  access: 'api',
  methods: Object.fromEntries(methods.map((method) => [method, () => `${method} ${path}`])),
})
const LIST = [
  route('/videos', 'GET', 'POST'),
  route(/^\/videos\/([^/]+)$/, 'GET', 'DELETE'),
  route('/auth/api-key', ANY_METHOD),
  route(/^/, 'GET', ANY_METHOD),
]
const found = (method, path) => {
  const [matched, respond, id] = findRoute(LIST, method, path)
  return [LIST.indexOf(matched), respond(), id]
}

routes('the first route that answers the method on the path, exactly or by its pattern (then with its id)', () => {
  assert.equal(found('GET', '/videos'), [0, 'GET /videos', ''])
  assert.equal(found('POST', '/videos'), [0, 'POST /videos', ''])
  assert.equal(found('DELETE', '/videos/vi1'), [1, `DELETE ${/^\/videos\/([^/]+)$/}`, 'vi1'])
  assert.equal(found('PATCH', '/auth/api-key'), [2, '* /auth/api-key', ''])
})

routes('a method a route does not name goes on to the next route: the catch-all at the end', () => {
  assert.equal(found('PUT', '/videos'), [3, '* /^/', ''])
  assert.equal(found('PATCH', '/videos/vi1'), [3, '* /^/', ''])
  assert.equal(found('GET', '/players'), [3, 'GET /^/', ''])
  assert.equal(found('GET', '/videos/vi1/source'), [3, 'GET /^/', ''])
})

routes("the path's {id} is decoded; a malformed escape is kept as sent, so it matches nothing", () => {
  assert.equal(found('GET', '/videos/vi%201'), [1, `GET ${/^\/videos\/([^/]+)$/}`, 'vi 1'])
  assert.equal(found('GET', '/videos/%E0%A4%A'), [1, `GET ${/^\/videos\/([^/]+)$/}`, '%E0%A4%A'])
})

routes('a list without a catch-all that answers nothing is a TypeError, never a silent answer', () => {
  assert.throws(
    () => findRoute(LIST.slice(0, 2), 'PUT', '/videos'),
    (error) => error instanceof TypeError,
  )
})

routes.run()
