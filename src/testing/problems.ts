// api.video's problem bodies (RFC 7807, with its `name` field), as the stand-in answers them.
import { json } from './http.js'

/** A problem body: what went wrong, and the attribute it is about (`''` when none). */
export type Problem = { type: string; title: string; name: string; status: number }
/** One problem of a 400, as api.video lists them in `problems`. */
export type AttributeProblem = Omit<Problem, 'status'>

const DOCS = 'https://docs.api.video/reference/'

/** A problem whose type is one of api.video's documented ones. */
export const problem = (status: number, type: string, title: string, name = ''): Problem => ({
  type: `${DOCS}${type}`,
  title,
  name,
  status,
})
/** A problem api.video does not document: its title says what is wrong. */
export const plainProblem = (status: number, title: string): Problem => ({
  type: 'about:blank',
  title,
  name: '',
  status,
})

export const INVALID_CREDENTIALS = problem(
  400,
  'authentication-invalid-user-credentials',
  'The user credentials were incorrect.',
)
export const INVALID_TOKEN = problem(
  401,
  'authentication-invalid-access-token',
  'The access token is invalid or expired.',
)
export const INVALID_API_KEY = problem(401, 'authentication-invalid-api-key', 'The API key is invalid.')
// api.video's answer to a body that is not JSON is not documented: these say what is wrong.
export const WRONG_CONTENT_TYPE = plainProblem(400, 'The content type is wrong: send the body as application/json.')
export const NOT_JSON = plainProblem(400, 'The request body is not a JSON object.')

/** An attribute the request lacks. */
export const required = (name: string): AttributeProblem => ({
  type: `${DOCS}attribute-required`,
  title: 'This attribute is required.',
  name,
})
/** An attribute whose value api.video does not take; `title` says what it takes. */
export const invalid = (name: string, title: string): AttributeProblem => ({
  type: `${DOCS}invalid-attribute`,
  title,
  name,
})

/** api.video's 404 for what a path names (`name`: the path parameter), or for a path it does not serve. */
export const notFound = (name = ''): Response =>
  json(404, problem(404, 'resource-not-found', 'The requested resource was not found.', name))

/** api.video's 400: the first problem at the top, every problem in `problems`. */
export const badRequest = (problems: AttributeProblem[]): Response =>
  json(400, { ...problems[0], status: 400, problems })
