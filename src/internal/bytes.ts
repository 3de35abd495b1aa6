// Bytes as the add-ons handle them: UTF-8 text, hex, and whole bodies read within a bound.

/**
 * The UTF-8 bytes of `text`.
 * @example
 * encode('é') // Uint8Array [195, 169]
 */
export const encode = (text: string): Uint8Array<ArrayBuffer> => new TextEncoder().encode(text)

/**
 * `bytes` as lowercase hex, two digits a byte.
 * @example
 * hex(new Uint8Array([1, 171])) // '01ab'
 */
export const hex = (bytes: ArrayBuffer | Uint8Array): string =>
  Array.from(new Uint8Array(bytes), (b) => b.toString(16).padStart(2, '0')).join('')

/**
 * The bytes of a stream, or undefined once they are over `limit`: the chunk that crossed it is the last one read,
 * and the stream is then cancelled, so a body never takes more memory than the limit and one chunk.
 * @example
 * const bytes = await readWithin(request.body, 64 * 1024)
 */
export async function readWithin(
  stream: ReadableStream<Uint8Array<ArrayBuffer>>,
  limit: number,
): Promise<Uint8Array<ArrayBuffer> | undefined> {
  const reader = stream.getReader()
  const chunks: Uint8Array<ArrayBuffer>[] = []
  let size = 0
  for (let read = await reader.read(); !read.done; read = await reader.read()) {
    chunks.push(read.value)
    size += read.value.length
    if (size > limit) {
      // Not awaited: a stream whose source never settles its cancel must not hold the answer back.
      reader.cancel().catch(() => {})
      return undefined
    }
  }
  return new Uint8Array(await new Blob(chunks).arrayBuffer())
}
