// apivideo-auth/share's stored format, derived with node:crypto, independently of the add-on's Web Crypto code:
// the unit tests and the fleet tests read, forge and damage values with it.
import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto'

/** The store key and value key of an API key and base URL, as docs/sharing.md describes them. */
export function derive(apiKey, baseUrl, namespace = 'apivideo-auth') {
  const bits = (purpose) => Buffer.from(hkdfSync('sha256', apiKey, baseUrl, `apivideo-auth:v2:${purpose}`, 32))
  const key = `${namespace}:${bits('store key').toString('hex')}`
  return { key, aes: bits('value'), aad: Buffer.from(`apivideo-auth:v2\n${key}`) }
}

/** The JSON inside a stored value; throws if it does not decrypt under `keys`. */
export function unseal(value, keys) {
  const bytes = Buffer.from(value, 'base64')
  const decipher = createDecipheriv('aes-256-gcm', keys.aes, bytes.subarray(0, 12))
  decipher.setAAD(keys.aad)
  decipher.setAuthTag(bytes.subarray(bytes.length - 16))
  return JSON.parse(
    Buffer.concat([decipher.update(bytes.subarray(12, bytes.length - 16)), decipher.final()]).toString(),
  )
}

/** A value as the add-on writes it, holding `content` (any JSON), bound to `aad`. */
export function seal(content, keys, aad = keys.aad) {
  const iv = randomBytes(12)
  const cipher = createCipheriv('aes-256-gcm', keys.aes, iv)
  cipher.setAAD(aad)
  const sealed = Buffer.concat([cipher.update(JSON.stringify(content)), cipher.final()])
  return Buffer.concat([iv, sealed, cipher.getAuthTag()]).toString('base64')
}

/** The value `base64` with one bit of byte `index` flipped (a negative index counts from the end). */
export function flip(base64, index) {
  const bytes = Buffer.from(base64, 'base64')
  bytes[index < 0 ? bytes.length + index : index] ^= 1
  return bytes.toString('base64')
}
