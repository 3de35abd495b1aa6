// api.video's list shape: one page of items, its links, and the sort a query asks for.
import type { Json } from './http.js'
import { badRequest, invalid } from './problems.js'

/** A list's sort: the field, and 1 for ascending or -1 for descending. */
export type Sort = [string, 1 | -1]

/** One page of `items` in api.video's list shape, for the page and size the query asks (1 and 25 by default). */
export function page(url: URL, items: unknown[]) {
  const whole = (name: string, fallback: number, max: number) => {
    const n = Number(url.searchParams.get(name) ?? fallback)
    return Number.isInteger(n) && n >= 1 && n <= max ? n : fallback
  }
  const currentPage = whole('currentPage', 1, Number.MAX_SAFE_INTEGER)
  const pageSize = whole('pageSize', 25, 100)
  const pagesTotal = Math.max(1, Math.ceil(items.length / pageSize))
  const data = items.slice((currentPage - 1) * pageSize, currentPage * pageSize)
  const link = (rel: string, to: number) => ({
    rel,
    uri: `${url.origin}${url.pathname}?currentPage=${to}&pageSize=${pageSize}`,
  })
  const links = [link('self', currentPage), link('first', 1)]
  if (currentPage > 1 && currentPage <= pagesTotal) links.push(link('previous', currentPage - 1))
  if (currentPage < pagesTotal) links.push(link('next', currentPage + 1))
  links.push(link('last', pagesTotal))
  return {
    data,
    pagination: {
      currentPage,
      pageSize,
      pagesTotal,
      itemsTotal: items.length,
      currentPageItems: data.length,
      links,
    },
  }
}

/** The sort a list query asks for, among `fields`; undefined for creation order, a Response when it is wrong. */
export function sortOf(url: URL, fields: string[]): Sort | undefined | Response {
  const sortBy = url.searchParams.get('sortBy')
  const sortOrder = url.searchParams.get('sortOrder') ?? 'asc'
  if (sortBy !== null && !fields.includes(sortBy))
    return badRequest([invalid('sortBy', `This attribute must be one of ${fields.join(', ')}.`)])
  if (sortOrder !== 'asc' && sortOrder !== 'desc')
    return badRequest([invalid('sortOrder', 'This attribute must be one of asc, desc.')])
  return sortBy === null ? undefined : [sortBy, sortOrder === 'asc' ? 1 : -1]
}

/** `items` in the order of `sort`, or as they are without one. */
export function sorted(items: Json[], sort: Sort | undefined): Json[] {
  if (!sort) return items
  const [field, direction] = sort
  const key = (item: Json) => item[field] as string | number
  return [...items].sort((a, b) => {
    if (key(a) === key(b)) return 0
    return key(a) < key(b) ? -direction : direction
  })
}
