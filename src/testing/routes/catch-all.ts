// Every path no other route serves: a protected resource that echoes the request, or an empty list.
import { json } from '../http.js'
import { page } from '../pagination.js'
import { ANY_METHOD, type Call, type Route } from '../route.js'

/** api.video's list routes the stand-in keeps nothing for: a `GET` answers an empty first page. */
const EMPTY_LISTS = ['/live-streams', '/players', '/watermarks']

const echo = ({ request, url }: Call): Response => json(200, { method: request.method, path: url.pathname })

/** The last route of the list: it matches every path, and answers any method once the caller is authorized. */
export const catchAll: Route = {
  path: /^/,
  access: 'api',
  methods: {
    GET: (call) => (EMPTY_LISTS.includes(call.url.pathname) ? json(200, page(call.url, [])) : echo(call)),
    [ANY_METHOD]: echo,
  },
}
